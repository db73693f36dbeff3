variable "name" {
  description = "Name of the cluster, e.g. nudges-production."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the brokers."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets, one per AZ; brokers spread across them."
  type        = list(string)
}

variable "kafka_version" {
  description = "Apache Kafka version of the brokers."
  type        = string
  default     = "3.8.x"
}

variable "broker_instance_type" {
  description = "Instance type of each broker."
  type        = string
  default     = "kafka.m7g.large"
}

variable "brokers_per_az" {
  description = "Brokers in each subnet."
  type        = number
  default     = 1
}

variable "volume_size_gb" {
  description = "EBS storage of each broker, in GiB."
  type        = number
  default     = 100
}

variable "kms_key_arn" {
  description = "KMS key encrypting data at rest and the broker log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days broker logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
