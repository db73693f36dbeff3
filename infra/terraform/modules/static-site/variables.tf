variable "name" {
  description = "Name of the site's bucket and distribution, e.g. nudges-production-admin-ui."
  type        = string
}

variable "domain_name" {
  description = "Host the UI is served at, e.g. admin.nudges.app."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate in us-east-1 naming domain_name."
  type        = string
}

variable "api_origin_domain" {
  description = "Host of the API load balancer; /graphql and /auth/* go there, so the UI and the API share an origin (and the HttpOnly TokenId cookie)."
  type        = string
}

variable "edge_origin_secret" {
  description = "Value of the X-Origin-Verify header added to every request forwarded to the API: how AuthApi and the load balancer's WAF tell CloudFront's requests (viewer address in X-Forwarded-For) from direct ones."
  type        = string
  sensitive   = true
}

variable "api_path_patterns" {
  description = "Paths CloudFront forwards to the API instead of the bucket."
  type        = list(string)
  default     = ["/graphql", "/graphql/*", "/auth/*"]
}

variable "waf_rate_limit" {
  description = "Requests one client IP may send in five minutes before the WAF blocks it."
  type        = number
  default     = 2000
}

variable "log_bucket_domain_name" {
  description = "Bucket CloudFront and S3 access logs go to (modules/log-bucket)."
  type        = string
}

variable "log_bucket" {
  description = "Name of the same log bucket."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
