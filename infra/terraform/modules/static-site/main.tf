# One UI: a private, versioned, KMS-encrypted S3 bucket read only by its CloudFront
# distribution (origin access control). The distribution serves the single-page app
# (unknown paths fall back to index.html) and forwards /graphql and /auth/* to the API.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  s3_origin  = "ui-bucket"
  api_origin = "api"
  # AWS managed policies: CachingOptimized, CachingDisabled, AllViewerExceptHostHeader.
  caching_optimized              = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  caching_disabled               = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  all_viewer_except_host_request = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
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

  # CloudFront decrypts the objects it reads through origin access control.
  statement {
    sid       = "CloudFrontDecryptsObjects"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: UI bundle"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:The bundle is rebuilt from the repository by CI; a replica adds nothing a redeploy does not.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to uploads; CI invalidates the distribution after a deploy.
  bucket        = var.name
  force_destroy = false
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-replaced-bundles"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.log_bucket
  target_prefix = "s3/${var.name}/"
}

resource "aws_cloudfront_origin_access_control" "this" {
  name                              = var.name
  description                       = "CloudFront reads ${var.name}"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "CloudFrontReadsBundle"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_cloudfront_response_headers_policy" "this" {
  name    = var.name
  comment = "Security headers of ${var.domain_name}"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
    content_security_policy {
      content_security_policy = "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; connect-src 'self' wss://${var.domain_name}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
      override                = true
    }
  }
}

# Client-side routes (/c/{slug}, /plans/...) are the app's: the bucket serves index.html for
# them. A function rather than custom error pages, which would also rewrite the API's 403/404.
resource "aws_cloudfront_function" "spa_routes" {
  name    = "${var.name}-spa-routes"
  runtime = "cloudfront-js-2.0"
  comment = "Paths without a file extension are routes of the single-page app"
  publish = true
  code = <<-EOT
    function handler(event) {
      var request = event.request;
      var last = request.uri.split('/').pop();
      if (last.indexOf('.') === -1) {
        request.uri = '/index.html';
      }
      return request;
    }
  EOT
}

module "waf" {
  source    = "../waf"
  providers = { aws = aws.us_east_1 }

  name       = var.name
  scope      = "CLOUDFRONT"
  rate_limit = var.waf_rate_limit
  tags       = var.tags
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_310:One S3 origin in one region; S3 is the availability story of a static bundle, and the API origin is the load balancer's own multi-AZ.
  #checkov:skip=CKV_AWS_374:Clients and subscribers may be anywhere; a geo restriction would break the product.
  enabled             = true
  is_ipv6_enabled     = true
  comment             = var.domain_name
  aliases             = [var.domain_name]
  default_root_object = "index.html"
  price_class         = var.price_class
  web_acl_id          = module.waf.web_acl_arn
  http_version        = "http2and3"

  origin {
    origin_id                = local.s3_origin
    domain_name              = aws_s3_bucket.this.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.this.id
  }

  origin {
    origin_id   = local.api_origin
    domain_name = var.api_origin_domain

    # Proves to AuthApi and the load balancer's WAF that the request came through CloudFront,
    # so that the viewer address CloudFront appended to X-Forwarded-For can be believed.
    custom_header {
      name  = "X-Origin-Verify"
      value = var.edge_origin_secret
    }

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = local.s3_origin
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.caching_optimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.spa_routes.arn
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = var.api_path_patterns
    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.api_origin
      viewer_protocol_policy     = "https-only"
      allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = local.caching_disabled
      origin_request_policy_id   = local.all_viewer_except_host_request
      response_headers_policy_id = aws_cloudfront_response_headers_policy.this.id
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  logging_config {
    bucket          = var.log_bucket_domain_name
    prefix          = "cloudfront/${var.name}/"
    include_cookies = false
  }

  tags = var.tags
}
