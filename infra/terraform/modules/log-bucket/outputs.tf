output "bucket" {
  description = "Name of the log bucket, once its policy lets the log deliveries write."
  value       = aws_s3_bucket.this.id

  # A load balancer whose access logs are turned on checks that it may write there.
  depends_on = [aws_s3_bucket_policy.this]
}

output "bucket_arn" {
  description = "ARN of the log bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_domain_name" {
  description = "Domain name of the bucket, as CloudFront logging takes it."
  value       = aws_s3_bucket.this.bucket_domain_name
}
