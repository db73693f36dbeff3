output "bucket" {
  description = "Bucket CI uploads the UI bundle to."
  value       = aws_s3_bucket.this.id
}

output "distribution_id" {
  description = "Distribution CI invalidates after an upload."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_domain_name" {
  description = "Domain name of the distribution (the alias target of domain_name)."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_zone_id" {
  description = "Hosted zone of the distribution's domain name."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}
