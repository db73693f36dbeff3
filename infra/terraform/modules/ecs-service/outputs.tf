output "security_group_id" {
  description = "Security group of the tasks (modules/service-access adds callers and data stores)."
  value       = aws_security_group.this.id
}

output "task_definition_arn" {
  description = "Task definition (a job runs it with aws ecs run-task)."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "Role the service's code runs as."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "Role ECS starts the task with (image pull, logs, secrets)."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "Log group of the containers."
  value       = aws_cloudwatch_log_group.this.name
}

output "service_name" {
  description = "Name of the ECS service (null for a job)."
  value       = var.run_as_service ? aws_ecs_service.this[0].name : null
}

output "metrics_log_group_name" {
  description = "Log group of the collector's embedded-metric-format lines (null without a scraping sidecar)."
  value       = local.scrape ? aws_cloudwatch_log_group.metrics[0].name : null
}
