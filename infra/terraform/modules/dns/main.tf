# Route 53 records of the platform's public names and their ACM certificates, validated
# by DNS: one in the region for the load balancer, one in us-east-1 for CloudFront.

data "aws_route53_zone" "this" {
  name         = var.zone_name
  private_zone = false
}

resource "aws_acm_certificate" "regional" {
  domain_name               = var.regional_certificate_domains[0]
  subject_alternative_names = slice(var.regional_certificate_domains, 1, length(var.regional_certificate_domains))
  validation_method         = "DNS"
  tags                      = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_acm_certificate" "cloudfront" {
  provider = aws.us_east_1

  domain_name               = var.cloudfront_certificate_domains[0]
  subject_alternative_names = slice(var.cloudfront_certificate_domains, 1, length(var.cloudfront_certificate_domains))
  validation_method         = "DNS"
  tags                      = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  # One validation record per name; ACM asks the same record of every certificate naming it.
  validation_records = merge(
    { for o in aws_acm_certificate.regional.domain_validation_options : o.domain_name => o },
    { for o in aws_acm_certificate.cloudfront.domain_validation_options : o.domain_name => o },
  )
}

resource "aws_route53_record" "validation" {
  for_each = local.validation_records

  zone_id         = data.aws_route53_zone.this.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "regional" {
  certificate_arn         = aws_acm_certificate.regional.arn
  validation_record_fqdns = [for d in var.regional_certificate_domains : aws_route53_record.validation[d].fqdn]
}

resource "aws_acm_certificate_validation" "cloudfront" {
  provider = aws.us_east_1

  certificate_arn         = aws_acm_certificate.cloudfront.arn
  validation_record_fqdns = [for d in var.cloudfront_certificate_domains : aws_route53_record.validation[d].fqdn]
}

resource "aws_route53_record" "alias" {
  #checkov:skip=CKV2_AWS_23:Every record aliases the load balancer or a distribution created in the same apply (the environments pass their outputs), so none dangles.
  for_each = var.alias_records

  zone_id = data.aws_route53_zone.this.zone_id
  name    = each.value.name
  type    = "A"

  alias {
    name                   = each.value.target_dns
    zone_id                = each.value.target_zone_id
    evaluate_target_health = true
  }
}
