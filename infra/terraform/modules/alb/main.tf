# The public entry of the API: HTTPS only (HTTP redirects), a WAF in front, access logs.
# Services attach their own target groups and path rules (modules/ecs-service):
# /graphql -> gateway, /auth -> auth, /webhooks -> webhooks. UI paths redirect to the UIs'
# CloudFront hosts. Anything else answers 404.

resource "aws_security_group" "this" {
  name        = "${var.name}-alb"
  description = "Public load balancer of ${var.name}: HTTPS in; out only to service ports (added by modules/ecs-service)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.this.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS from anywhere"
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  #checkov:skip=CKV_AWS_260:Port 80 only answers with a redirect to HTTPS (aws_lb_listener.http).
  security_group_id = aws_security_group.this.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  description       = "HTTP from anywhere, redirected to HTTPS"
}

resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  ip_address_type            = "ipv4"
  security_groups            = [aws_security_group.this.id]
  subnets                    = var.subnet_ids
  idle_timeout               = var.idle_timeout
  drop_invalid_header_fields = true
  enable_deletion_protection = true
  desync_mitigation_mode     = "strictest"

  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = "alb"
    enabled = true
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      message_body = "{\"error\":\"not found\"}"
      status_code  = "404"
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "redirect" {
  for_each = var.redirects

  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority

  condition {
    path_pattern {
      values = each.value.path_patterns
    }
  }

  action {
    type = "redirect"
    redirect {
      host        = each.value.host
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_302"
    }
  }

  tags = var.tags
}

module "waf" {
  source = "../waf"

  name               = var.name
  scope              = "REGIONAL"
  rate_limit         = var.waf_rate_limit
  behind_cloudfront  = var.behind_cloudfront
  edge_origin_secret = var.edge_origin_secret
  log_retention_days = var.log_retention_days
  tags               = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = module.waf.web_acl_arn
}
