variable "namespace" {
  description = "Private DNS namespace the services register in, e.g. production.nudges.internal."
  type        = string
}

variable "vpc_id" {
  description = "VPC the namespace resolves in."
  type        = string
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
