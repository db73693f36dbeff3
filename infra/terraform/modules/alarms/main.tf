# CloudWatch alarms of every service, each named in docs/operations.md with what to do:
# consumer lag, dead letters, the share of 5xx answers (from the metrics the ADOT collector
# sidecar of modules/ecs-service scrapes from each service's /metrics), and tasks that keep
# stopping (ECS task-state events). Every alarm, and its return to OK, is published on one
# SNS topic, encrypted with a key of its own that CloudWatch may use.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  actions    = [aws_sns_topic.alarms.arn]
}

# --- notifications ---------------------------------------------------------------------

data "aws_iam_policy_document" "topic_key" {
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

  # CloudWatch publishes alarms to the encrypted topic (an AWS managed key would refuse it).
  statement {
    sid       = "CloudWatchPublishesAlarms"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "topic" {
  description             = "${var.name_prefix}: the alarms' SNS topic"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.topic_key.json
  tags                    = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = aws_kms_key.topic.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "CloudWatchAlarmsOfThisAccount"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- task restarts: ECS task-state events -----------------------------------------------

# A task of the cluster stopped because its essential container exited, it failed to start,
# or it failed its container or load balancer health check: ECS starts another, and a
# service that keeps doing so is crash-looping. Deployments and scale-in stop tasks with
# other codes and are not counted.
resource "aws_cloudwatch_event_rule" "task_stops" {
  name        = "${var.name_prefix}-task-stops"
  description = "Tasks of ${var.name_prefix} that stopped by a crash or a failed health check"
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn = [var.cluster_arn]
      lastStatus = ["STOPPED"]
      "$or" = [
        { stopCode = ["EssentialContainerExited", "TaskFailedToStart"] },
        { stoppedReason = [{ prefix = "Task failed" }] },
      ]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "task_stops" {
  name              = "/nudges/${var.name_prefix}/task-stops"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "task_stops" {
  statement {
    sid       = "EventBridgeWritesTaskStops"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.task_stops.arn}:*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "task_stops" {
  policy_name     = "${var.name_prefix}-task-stops"
  policy_document = data.aws_iam_policy_document.task_stops.json
}

resource "aws_cloudwatch_event_target" "task_stops" {
  rule = aws_cloudwatch_event_rule.task_stops.name
  arn  = aws_cloudwatch_log_group.task_stops.arn
}

# One point per stop, with the ECS service's group ("service:<name>") as dimension.
resource "aws_cloudwatch_log_metric_filter" "task_stops" {
  name           = "${var.name_prefix}-task-stops"
  log_group_name = aws_cloudwatch_log_group.task_stops.name
  pattern        = "{ $.detail.lastStatus = \"STOPPED\" }"

  metric_transformation {
    name      = "TaskStops"
    namespace = var.metrics_namespace
    value     = "1"
    unit      = "Count"
    dimensions = {
      group = "$.detail.group"
    }
  }
}

# --- alarms, by service ------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "consumer_lag" {
  for_each = var.services

  alarm_name          = "${var.name_prefix}-${each.key}-consumer-lag"
  alarm_description   = "A consumer group of ${each.key} is more than ${var.thresholds.consumer_lag} events behind on a partition for 10 minutes. Runbook: docs/operations.md#a-consumer-lags"
  namespace           = var.metrics_namespace
  metric_name         = "nudges_consumer_lag"
  dimensions          = { service = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 10
  datapoints_to_alarm = 10
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.consumer_lag
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = var.services

  alarm_name          = "${var.name_prefix}-${each.key}-dead-letters"
  alarm_description   = "${each.key} sent events to a dead-letter topic in the last 5 minutes. Runbook: docs/operations.md#a-dead-letter-appears"
  namespace           = var.metrics_namespace
  metric_name         = "nudges_dead_letters_total"
  dimensions          = { service = each.key }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.dead_letters
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "server_errors" {
  for_each = var.services

  alarm_name          = "${var.name_prefix}-${each.key}-server-errors"
  alarm_description   = "More than ${var.thresholds.server_error_percent}% of ${each.key}'s answers are 5xx for 5 minutes. Runbook: docs/operations.md#a-deploy-goes-wrong"
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.server_error_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "percent"
    label       = "5xx answers, % of all"
    expression  = "IF(requests >= ${var.thresholds.min_requests}, 100 * FILL(errors, 0) / requests, 0)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "nudges_http_requests_total"
      dimensions  = { service = each.key, status_class = "5xx" }
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "nudges_http_requests_total"
      dimensions  = { service = each.key }
      stat        = "Sum"
      period      = 60
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "task_restarts" {
  for_each = var.services

  alarm_name          = "${var.name_prefix}-${each.key}-task-restarts"
  alarm_description   = "At least ${var.thresholds.task_restarts} tasks of ${each.key} stopped by a crash or a failed health check in 15 minutes. Runbook: docs/operations.md#a-service-keeps-restarting"
  namespace           = var.metrics_namespace
  metric_name         = aws_cloudwatch_log_metric_filter.task_stops.metric_transformation[0].name
  dimensions          = { group = "service:${each.key}" }
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.thresholds.task_restarts
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}
