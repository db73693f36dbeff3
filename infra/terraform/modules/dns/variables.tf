variable "zone_name" {
  description = "Public Route 53 hosted zone the records go in (it exists already), e.g. nudges.app."
  type        = string
}

variable "regional_certificate_domains" {
  description = "Names on the load balancer's certificate (first one is the subject), in the provider's region."
  type        = list(string)
}

variable "cloudfront_certificate_domains" {
  description = "Names on the CloudFront certificate (first one is the subject), issued in us-east-1."
  type        = list(string)
}

variable "alias_records" {
  description = "A records by key: name => the load balancer or distribution they alias."
  type = map(object({
    name           = string
    target_dns     = string
    target_zone_id = string
  }))
  default = {}
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
