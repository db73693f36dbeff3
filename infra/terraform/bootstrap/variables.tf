variable "aws_region" {
  description = "Region of the state bucket and lock table."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the state bucket; the lock table is <name>-locks, the KMS alias alias/<name>."
  type        = string
  default     = "nudges-terraform-state"
}
