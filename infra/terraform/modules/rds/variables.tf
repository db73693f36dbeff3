variable "name" {
  description = "Identifier of the instance, e.g. nudges-production."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the instance."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the instance (and its standby) may live in."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL major version (minor versions upgrade automatically)."
  type        = string
  default     = "16"
}

variable "instance_class" {
  description = "Instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  description = "Initial storage, in GiB."
  type        = number
  default     = 50
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling, in GiB."
  type        = number
  default     = 500
}

variable "multi_az" {
  description = "A synchronous standby in another AZ (production: true)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days automated backups (and point-in-time recovery) reach back."
  type        = number
  default     = 14
}

variable "master_username" {
  description = "Master user; its password is generated and kept by RDS in Secrets Manager."
  type        = string
  default     = "nudges_admin"
}

variable "kms_key_arn" {
  description = "KMS key encrypting storage, Performance Insights, logs and the master secret."
  type        = string
}

variable "log_retention_days" {
  description = "Days the exported PostgreSQL logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
