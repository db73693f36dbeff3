output "topic_arn" {
  description = "SNS topic every alarm notifies (subscribe a pager or chat to it)."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Every alarm's name, by service and kind (consumer-lag, dead-letters, server-errors, task-restarts)."
  value = {
    for service in var.services : service => {
      consumer-lag  = aws_cloudwatch_metric_alarm.consumer_lag[service].alarm_name
      dead-letters  = aws_cloudwatch_metric_alarm.dead_letters[service].alarm_name
      server-errors = aws_cloudwatch_metric_alarm.server_errors[service].alarm_name
      task-restarts = aws_cloudwatch_metric_alarm.task_restarts[service].alarm_name
    }
  }
}

output "task_stops_log_group_name" {
  description = "Log group of every task stop the task-restarts alarms count (the ECS event: task, container, exit code, reason)."
  value       = aws_cloudwatch_log_group.task_stops.name
}
