output "url_secret_arn" {
  description = "Secret holding the whole REDIS_URL (with the AUTH token)."
  value       = aws_secretsmanager_secret.url.arn
}

output "auth_token_secret_arn" {
  description = "Secret holding the AUTH token alone (WARPCACHE_REDIS_AUTH_TOKEN)."
  value       = aws_secretsmanager_secret.auth_token.arn
}

output "primary_endpoint" {
  description = "Host name of the primary."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Port of the cache."
  value       = 6379
}

output "security_group_id" {
  description = "Security group of the cache."
  value       = aws_security_group.this.id
}
