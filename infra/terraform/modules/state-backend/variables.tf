variable "name" {
  description = "Prefix of the bucket, table and key names, e.g. nudges-terraform-state-123456789012."
  type        = string
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
