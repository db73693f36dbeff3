# A WAF web ACL: AWS managed rule groups (common, known bad inputs including Log4Shell, IP
# reputation) and a per-client rate limit, logging to its own KMS-encrypted log group. The key
# lives with the ACL because a CLOUDFRONT ACL and its logs must be in us-east-1. A REGIONAL
# ACL of a load balancer that CloudFront also fronts (behind_cloudfront) counts CloudFront's
# requests per forwarded viewer address, not per edge.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition
  # The origin header CloudFront adds to the requests it forwards (nudges_kit.client_address).
  edge_header = "x-origin-verify"
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is this key alone; the root statement hands the key to IAM, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is this key alone; the root statement hands the key to IAM, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is this key alone; the root statement hands the key to IAM, as AWS's default key policy does.
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsEncryptsWafLogs"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:aws-waf-logs-${var.name}"]
    }
  }
}

resource "aws_kms_key" "logs" {
  description             = "aws-waf-logs-${var.name}"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

# WAF log groups must be named aws-waf-logs-*.
resource "aws_cloudwatch_log_group" "this" {
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
  tags              = var.tags
}

resource "aws_wafv2_web_acl" "this" {
  name        = var.name
  description = "Nudges: AWS managed rules, IP reputation, per-client rate limit"
  scope       = var.scope

  default_action {
    allow {}
  }

  rule {
    name     = "aws-common"
    priority = 10

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"

        # Stripe webhook payloads and GraphQL documents exceed the common rules' 8 KB body limit.
        rule_action_override {
          name = "SizeRestrictions_BODY"
          action_to_use {
            count {}
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-aws-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-known-bad-inputs"
    priority = 20

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-aws-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-ip-reputation"
    priority = 30

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAmazonIpReputationList"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-aws-ip-reputation"
      sampled_requests_enabled   = true
    }
  }

  # Counted per source address: the caller's, except for requests CloudFront forwards, whose
  # source is a CloudFront edge shared by every viewer behind it (counted below instead).
  rule {
    name     = "rate-per-ip"
    priority = 40

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.rate_limit
        aggregate_key_type = "IP"

        dynamic "scope_down_statement" {
          for_each = var.behind_cloudfront ? [1] : []
          content {
            not_statement {
              statement {
                byte_match_statement {
                  search_string         = var.edge_origin_secret
                  positional_constraint = "EXACTLY"
                  field_to_match {
                    single_header {
                      name = local.edge_header
                    }
                  }
                  text_transformation {
                    priority = 0
                    type     = "NONE"
                  }
                }
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-per-ip"
      sampled_requests_enabled   = true
    }
  }

  # Requests CloudFront forwards (they carry its origin header) are counted per viewer: the
  # address CloudFront wrote into X-Forwarded-For. WAF reads the header's first entry, which a
  # viewer that sends its own X-Forwarded-For chooses; the distribution's own web ACL, keyed
  # on the viewer's source address, is the limit such a viewer cannot choose.
  dynamic "rule" {
    for_each = var.behind_cloudfront ? [1] : []
    content {
      name     = "rate-per-forwarded-ip"
      priority = 41

      action {
        block {}
      }

      statement {
        rate_based_statement {
          limit              = var.rate_limit
          aggregate_key_type = "FORWARDED_IP"

          forwarded_ip_config {
            header_name       = "X-Forwarded-For"
            fallback_behavior = "MATCH"
          }

          scope_down_statement {
            byte_match_statement {
              search_string         = var.edge_origin_secret
              positional_constraint = "EXACTLY"
              field_to_match {
                single_header {
                  name = local.edge_header
                }
              }
              text_transformation {
                priority = 0
                type     = "NONE"
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.name}-rate-per-forwarded-ip"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.this.arn]

  # Tokens and session cookies stay out of the logs.
  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  redacted_fields {
    single_header {
      name = "cookie"
    }
  }
}
