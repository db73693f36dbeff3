variable "name_prefix" {
  description = "Prefix of every resource name, e.g. nudges-production."
  type        = string
}

variable "services" {
  description = "The platform's ECS services, by the names of compose.yaml: each gets every alarm."
  type        = set(string)
}

variable "cluster_arn" {
  description = "ECS cluster whose stopped tasks are counted."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the services' collector sidecars write /metrics to (modules/ecs-service)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the task-stops log group (the platform's key, which CloudWatch Logs may use)."
  type        = string
}

variable "log_retention_days" {
  description = "Days the task-stops log group keeps each stop."
  type        = number
}

variable "alarm_email" {
  description = "Address subscribed to the alarms' SNS topic (empty: no subscription; the address confirms it by mail)."
  type        = string
  default     = ""
}

variable "thresholds" {
  description = "When each alarm fires: consumer_lag (events behind on one partition, 10 minutes), dead_letters (events dead-lettered in 5 minutes, more than), server_error_percent (share of 5xx answers, 5 minutes), min_requests (a minute with fewer requests never counts as failing), task_restarts (tasks stopped by a crash or a failed health check in 15 minutes, at least)."
  type = object({
    consumer_lag         = number
    dead_letters         = number
    server_error_percent = number
    min_requests         = number
    task_restarts        = number
  })
  default = {
    consumer_lag         = 1000
    dead_letters         = 0
    server_error_percent = 5
    min_requests         = 20
    task_restarts        = 3
  }
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
