variable "name" {
  description = "Name of the replication group, e.g. nudges-production."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cache."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cache nodes."
  type        = list(string)
}

variable "engine_version" {
  description = "Redis OSS version."
  type        = string
  default     = "7.1"
}

variable "node_type" {
  description = "Node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "replicas" {
  description = "Replicas besides the primary, in other AZs; failover to one is automatic."
  type        = number
  default     = 1

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 5
    error_message = "One to five replicas: automatic Multi-AZ failover needs at least one."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting data at rest, the slow log and the connection secret."
  type        = string
}

variable "log_retention_days" {
  description = "Days the slow log is kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
