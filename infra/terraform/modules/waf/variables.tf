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
