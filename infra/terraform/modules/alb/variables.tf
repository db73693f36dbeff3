variable "name" {
  description = "Name of the load balancer, e.g. nudges-production."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the load balancer."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets the load balancer answers in."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener (TLS 1.2 and 1.3 only)."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "access_logs_bucket" {
  description = "Bucket the access logs go to (prefix alb/), see modules/log-bucket."
  type        = string
}

variable "idle_timeout" {
  description = "Seconds an idle connection stays open (GraphQL subscriptions keep sockets open)."
  type        = number
  default     = 300
}

variable "redirects" {
  description = <<-EOT
    Paths of the UIs on the API host, redirected to the host serving that UI (CloudFront),
    keeping path and query: key => path patterns, host, rule priority (1-99; the services'
    forward rules use 100 and above).
  EOT
  type = map(object({
    path_patterns = list(string)
    host          = string
    priority      = number
  }))
  default = {}
}

variable "waf_rate_limit" {
  description = "Requests one client IP may send in five minutes before the WAF blocks it."
  type        = number
  default     = 2000
}

variable "behind_cloudfront" {
  description = "CloudFront also forwards to this load balancer (the UIs' API paths): its WAF counts those requests per viewer address (modules/waf)."
  type        = bool
  default     = false
}

variable "edge_origin_secret" {
  description = "Value of the X-Origin-Verify header CloudFront adds to the requests it forwards here."
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
