output "bucket" {
  description = "Name of the state bucket (backend \"s3\" bucket)."
  value       = aws_s3_bucket.state.id
}

output "lock_table" {
  description = "Name of the lock table (backend \"s3\" dynamodb_table)."
  value       = aws_dynamodb_table.locks.name
}

output "kms_key_arn" {
  description = "KMS key of the state (backend \"s3\" kms_key_id)."
  value       = aws_kms_key.state.arn
}
