output "regional_certificate_arn" {
  description = "Validated certificate for the load balancer."
  value       = aws_acm_certificate_validation.regional.certificate_arn
}

output "cloudfront_certificate_arn" {
  description = "Validated certificate for CloudFront (us-east-1)."
  value       = aws_acm_certificate_validation.cloudfront.certificate_arn
}

output "zone_id" {
  description = "ID of the hosted zone."
  value       = data.aws_route53_zone.this.zone_id
}
