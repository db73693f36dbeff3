output "api_url" {
  description = "Public URL of the API (/graphql, /auth, /webhooks)."
  value       = "https://${local.api_host}"
}

output "ui_urls" {
  description = "Public URL of each UI."
  value       = { for site, host in local.ui_hosts : site => "https://${host}" }
}

output "ui_buckets" {
  description = "Bucket CI uploads each UI bundle to, and the distribution it then invalidates."
  value = {
    for site, s in module.static_site : site => {
      bucket          = s.bucket
      distribution_id = s.distribution_id
    }
  }
}

output "ecr_repositories" {
  description = "Repository URL of each image."
  value       = module.ecr.repository_urls
}

output "cluster_name" {
  description = "ECS cluster of the services."
  value       = aws_ecs_cluster.this.name
}

output "jobs" {
  description = "What `aws ecs run-task` needs to run each one-off job (migrate, topics)."
  value = {
    for name, job in module.job : name => {
      task_definition = job.task_definition_arn
      subnets         = module.network.private_subnet_ids
      security_group  = job.security_group_id
    }
  }
}

output "database_address" {
  description = "Host of PostgreSQL (for the POSTGRES_URL secrets)."
  value       = module.rds.address
}

output "database_master_secret_arn" {
  description = "Secret of the PostgreSQL master user (managed by RDS), to create the service roles."
  value       = module.rds.master_user_secret_arn
}

output "kafka_bootstrap_servers" {
  description = "MSK bootstrap servers (IAM over TLS)."
  value       = module.msk.bootstrap_brokers
}

output "webhook_urls" {
  description = "Endpoints to register in the Stripe and Twilio dashboards."
  value = {
    stripe        = "https://${local.api_host}/webhooks/stripe"
    twilio_sms    = "https://${local.api_host}/webhooks/twilio/sms"
    twilio_status = "https://${local.api_host}/webhooks/twilio/status"
  }
}

output "alarm_topic_arn" {
  description = "SNS topic of every CloudWatch alarm (subscribe a pager or chat to it besides alarm_email)."
  value       = module.alarms.topic_arn
}
