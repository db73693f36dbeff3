variable "name" {
  description = "Name of the web ACL, e.g. nudges-production or nudges-production-admin-ui."
  type        = string
}

variable "scope" {
  description = "REGIONAL (a load balancer) or CLOUDFRONT (a distribution; call the module with a us-east-1 provider)."
  type        = string

  validation {
    condition     = contains(["REGIONAL", "CLOUDFRONT"], var.scope)
    error_message = "scope is REGIONAL or CLOUDFRONT."
  }
}

variable "rate_limit" {
  description = "Requests one client IP may send in five minutes before it is blocked."
  type        = number
  default     = 2000
}

variable "behind_cloudfront" {
  description = "True for a load balancer's ACL when CloudFront forwards to it: CloudFront's requests (those with edge_origin_secret in X-Origin-Verify) are rate limited per X-Forwarded-For address instead of per edge."
  type        = bool
  default     = false
}

variable "edge_origin_secret" {
  description = "Value of the X-Origin-Verify header CloudFront adds to the requests it forwards (with behind_cloudfront)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "log_retention_days" {
  description = "Days the WAF logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
