variable "environment" {
  description = "Name of the environment: staging or production."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment is staging or production."
  }
}

variable "aws_region" {
  description = "Region of the environment."
  type        = string
}

variable "zone_name" {
  description = "Public Route 53 hosted zone the names go in (it exists already)."
  type        = string
}

variable "domain" {
  description = "Base of the environment's host names: api.<domain>, admin.<domain>, app.<domain>."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "availability_zones" {
  description = "Availability zones the environment spans, by name."
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (cheaper, not AZ-resilient)."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Tag of every image to deploy (tags are immutable: one tag, one build)."
  type        = string
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64; the images must be built for it."
  type        = string
  default     = "X86_64"
}

variable "keycloak_url" {
  description = "Base URL of an existing Keycloak serving the nudges realm (issuer <url>/realms/nudges). Empty: this environment runs its own at https://id.<domain>."
  type        = string
  default     = ""
}

variable "keycloak_size" {
  description = "CPU units and MiB of each Keycloak task, and how many run (when this environment runs its own)."
  type = object({
    cpu    = number
    memory = number
    count  = number
  })
  default = { cpu = 1024, memory = 2048, count = 2 }
}

variable "twilio_account_sid" {
  description = "Twilio account SID (not a secret: it names the account; the auth token is the secret)."
  type        = string
}

variable "twilio_from_number" {
  description = "The Nudges phone number (E.164) SMS are sent from and clients text."
  type        = string
}

variable "log_level" {
  description = "LOG_LEVEL of every service."
  type        = string
  default     = "INFO"
}

variable "log_retention_days" {
  description = "Days every log group and the log bucket keep logs."
  type        = number
  default     = 365
}

variable "rds_instance_class" {
  description = "Instance class of PostgreSQL."
  type        = string
}

variable "rds_multi_az" {
  description = "A synchronous PostgreSQL standby in another AZ."
  type        = bool
}

variable "rds_backup_retention_days" {
  description = "Days of PostgreSQL backups (point-in-time recovery window)."
  type        = number
}

variable "redis_enabled" {
  description = "Create ElastiCache Redis and its secrets: WarpCache's storage, so it stays on."
  type        = bool
  default     = true

  validation {
    condition     = var.redis_enabled
    error_message = "WarpCache keeps sessions and rate counters in ElastiCache (WARPCACHE_ENGINE=redis, two tasks or more): redis_enabled must be true."
  }
}

variable "redis_node_type" {
  description = "Node type of Redis."
  type        = string
}

variable "redis_replicas" {
  description = "Redis replicas besides the primary."
  type        = number
}

variable "msk_broker_instance_type" {
  description = "Instance type of the Kafka brokers."
  type        = string
}

variable "msk_brokers_per_az" {
  description = "Kafka brokers per AZ."
  type        = number
  default     = 1
}

variable "msk_volume_size_gb" {
  description = "Storage of each Kafka broker, in GiB."
  type        = number
}

variable "kafka_topic_partitions" {
  description = "Partitions of each topic `nudges topics create` makes."
  type        = number
  default     = 6
}

variable "default_service_size" {
  description = "Task size and task count range of a service not in service_sizes."
  type = object({
    cpu    = number
    memory = number
    min    = number
    max    = number
  })
  default = {
    cpu    = 256
    memory = 512
    min    = 2
    max    = 4
  }
}

variable "service_sizes" {
  description = "Task size and task count range, by service name."
  type = map(object({
    cpu    = number
    memory = number
    min    = number
    max    = number
  }))
  default = {}
}

variable "consumer_lag_scaling" {
  description = "Consumers scale out when the consumer group's lag on the topic exceeds target_per_task messages per task."
  type = object({
    consumer_group  = string
    topic           = string
    target_per_task = number
  })
}

variable "otel_collector_image" {
  description = "ADOT collector sidecar of every service (traces to X-Ray, /metrics to CloudWatch for the alarms); null for none."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "alarm_email" {
  description = "Address that receives the CloudWatch alarms (SNS email subscription, confirmed by mail); empty for none."
  type        = string
  default     = ""
}
