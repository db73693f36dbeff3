variable "bucket_name" {
  description = "Name of the bucket (globally unique)."
  type        = string
}

variable "retention_days" {
  description = "Days a log object is kept."
  type        = number
  default     = 400
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
