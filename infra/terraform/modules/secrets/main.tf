# The platform's customer-managed KMS key (rotated yearly) and its Secrets Manager secrets:
# Stripe and Twilio credentials, the phone encryption and hash keys, JWT signing keys, OIDC
# client secrets and database URLs. Each service's task execution role may read only the
# secrets that service declares (modules/ecs-service).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is this key alone; the root statement hands the key to IAM, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is this key alone; the root statement hands the key to IAM, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is this key alone; the root statement hands the key to IAM, as AWS's default key policy does.
  # The account administers the key through IAM; no principal gets access by the key policy alone.
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the platform's log groups with this key, only for this account.
  statement {
    sid = "CloudWatchLogsEncryptsLogGroups"
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
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: secrets, logs, images and data stores"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:Stripe and Twilio credentials are rotated in their dashboards, and rotating the phone encryption or hash key needs a re-encryption of userdb; both are runbook steps, not a Lambda rotation.
  for_each = var.secrets

  name                    = "${var.name}/${each.key}"
  description             = each.value
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}
