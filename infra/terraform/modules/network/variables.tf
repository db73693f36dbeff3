variable "name" {
  description = "Prefix of every resource name, e.g. nudges-production."
  type        = string
}

variable "cidr_block" {
  description = "CIDR block of the VPC; split into one public and one private subnet per AZ."
  type        = string
}

variable "availability_zones" {
  description = "Availability zones the subnets span, by name: named, so that a zone AWS adds never moves a subnet."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 8
    error_message = "Two to eight availability zones (RDS and MSK need at least two)."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for every AZ (cheaper, not AZ-resilient) instead of one per AZ."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key encrypting the flow log group."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
