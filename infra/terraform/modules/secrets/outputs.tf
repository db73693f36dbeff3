output "kms_key_arn" {
  description = "ARN of the platform KMS key."
  value       = aws_kms_key.this.arn
}

output "secret_arns" {
  description = "ARN of each secret, by name."
  value       = { for name, secret in aws_secretsmanager_secret.this : name => secret.arn }
}
