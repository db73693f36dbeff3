output "address" {
  description = "Host name of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance."
  value       = aws_db_instance.this.port
}

output "resource_id" {
  description = "Resource id of the instance (the rds-db:connect ARN names it)."
  value       = aws_db_instance.this.resource_id
}

output "master_user_secret_arn" {
  description = "Secret holding the master user's credentials (managed and rotated by RDS)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the instance."
  value       = aws_security_group.this.id
}
