variable "name" {
  description = "Name of the service, as in compose.yaml (gateway, auth, user, ...)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. nudges-production."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster the service runs in."
  type        = string
}

variable "cluster_name" {
  description = "Name of the same cluster (autoscaling addresses the service by it)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "image" {
  description = "Image of the service container: <ECR repository URL>:<immutable tag>."
  type        = string
}

variable "ecr_repository_arn" {
  description = "The ECR repository of the image (the execution role may pull only from it)."
  type        = string
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64; the image must be built for it."
  type        = string
  default     = "X86_64"
}

variable "command" {
  description = "Command instead of the image's CMD (the one-off jobs: [\"migrate\"], [\"topics\", \"create\"])."
  type        = list(string)
  default     = null
}

variable "cpu" {
  description = "Task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Task memory, in MiB."
  type        = number
  default     = 512
}

variable "container_port" {
  description = "HTTP port of the container: the API (if any), /healthz, /readyz and /metrics. Null for a job."
  type        = number
  default     = null
}

variable "grpc_port" {
  description = "gRPC port of the container (WarpCache, LocalizationApi), or null."
  type        = number
  default     = null
}

variable "environment" {
  description = "Environment variables of the container (settings that are not secret)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Environment variables read from Secrets Manager: name => secret ARN. The execution role may read these secrets and no others."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "KMS key of the secrets and of the log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days the container logs are kept."
  type        = number
  default     = 365
}

variable "run_as_service" {
  description = "false: only the task definition, run on demand (aws ecs run-task) as a one-off job."
  type        = bool
  default     = true
}

variable "desired_count" {
  description = "Tasks at creation; autoscaling moves it between min_count and max_count afterwards."
  type        = number
  default     = 2
}

variable "min_count" {
  description = "Fewest tasks autoscaling keeps."
  type        = number
  default     = 2
}

variable "max_count" {
  description = "Most tasks autoscaling starts."
  type        = number
  default     = 6
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation autoscaling holds the service at."
  type        = number
  default     = 60
}

variable "lag_scaling" {
  description = "Also scale on consumer lag: a CloudWatch metric (e.g. AWS/Kafka SumOffsetLag of the service's consumer group) and the value to hold it at per task."
  type = object({
    namespace   = string
    metric_name = string
    dimensions  = map(string)
    statistic   = optional(string, "Maximum")
    target      = number
  })
  default = null
}

variable "load_balancer" {
  description = "Route these paths of the public load balancer's HTTPS listener to the service (null: not public)."
  type = object({
    listener_arn      = string
    security_group_id = string
    path_patterns     = list(string)
    priority          = number
    health_check_path = optional(string, "/healthz")
    # Only requests for these host names (empty: any host).
    host_headers = optional(list(string), [])
  })
  default = null
}

variable "discovery_namespace_id" {
  description = "Register the tasks in this Cloud Map namespace as <name>.<namespace> (null: not registered)."
  type        = string
  default     = null
}

variable "kafka" {
  description = "MSK access of the task role: the topics it reads and writes, its consumer groups, and whether it may create topics. Names may end in * (a prefix)."
  type = object({
    cluster_arn      = string
    topic_arn_prefix = string
    group_arn_prefix = string
    read_topics      = optional(list(string), [])
    write_topics     = optional(list(string), [])
    groups           = optional(list(string), [])
    create_topics    = optional(bool, false)
  })
  default = null
}

variable "otel_collector_image" {
  description = "Image of the ADOT collector sidecar (otel-collector.yaml): OTLP on 127.0.0.1:4318 to X-Ray, and the service's /metrics to CloudWatch (null: no sidecar)."
  type        = string
  default     = null
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics the collector sidecar scrapes from /metrics (the alarms of modules/alarms read them there)."
  type        = string
  default     = "Nudges"
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
