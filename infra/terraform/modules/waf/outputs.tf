output "web_acl_arn" {
  description = "ARN of the web ACL (association, or web_acl_id of a distribution)."
  value       = aws_wafv2_web_acl.this.arn
}
