# One Nudges service on ECS Fargate, the same way for every service: its task definition
# and log group, its security group, its IAM roles (the execution role reads only this
# service's secrets and pulls only its image; the task role holds only this service's
# topics and groups), and optionally a public path on the load balancer, a Cloud Map name,
# and autoscaling on CPU and consumer lag. With run_as_service = false it is a one-off job
# (migrate, topics): the task definition and roles only.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  full_name   = "${var.name_prefix}-${var.name}"
  secret_arns = distinct(values(var.secrets))
  ports       = [for port in [var.container_port, var.grpc_port] : port if port != null]
  sidecar     = var.otel_collector_image != null

  # Attributes left null are dropped, so that ECS sees only what is set.
  service_container = { for k, v in {
    name                   = var.name
    image                  = var.image
    essential              = true
    command                = var.command
    readonlyRootFilesystem = true
    privileged             = false
    portMappings           = [for port in local.ports : { containerPort = port, protocol = "tcp" }]
    environment            = [for key in sort(keys(var.environment)) : { name = key, value = var.environment[key] }]
    secrets                = [for key in sort(keys(var.secrets)) : { name = key, valueFrom = var.secrets[key] }]
    mountPoints = [
      { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
      { sourceVolume = "state", containerPath = "/var/lib/nudges", readOnly = false },
    ]
    linuxParameters = { initProcessEnabled = true }
    stopTimeout     = 30
    dependsOn       = local.sidecar ? [{ containerName = "otel-collector", condition = "START" }] : null
    healthCheck = var.container_port == null ? null : {
      command     = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${var.container_port}/healthz', timeout=2)"]
      interval    = 10
      timeout     = 3
      retries     = 5
      startPeriod = 20
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.region
        awslogs-stream-prefix = var.name
      }
    }
  } : k => v if v != null }

  # The AWS distribution of the collector (ADOT) with the configuration of
  # otel-collector.yaml beside this file: OTLP in, X-Ray out; the service's /metrics scraped
  # over the task's loopback, to CloudWatch under metrics_namespace (the alarms' metrics).
  scrape = local.sidecar && var.container_port != null
  collector_config = templatefile("${path.module}/otel-collector.yaml", {
    service   = var.name
    port      = coalesce(var.container_port, 0)
    namespace = var.metrics_namespace
    log_group = "/nudges/${var.name_prefix}/${var.name}/metrics"
  })
  collector_container = {
    name                   = "otel-collector"
    image                  = var.otel_collector_image
    essential              = false
    readonlyRootFilesystem = true
    privileged             = false
    environment            = [{ name = "AOT_CONFIG_CONTENT", value = local.collector_config }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.region
        awslogs-stream-prefix = "otel-collector"
      }
    }
  }

  # Joined as JSON text: the two containers are objects of different shapes.
  container_definitions = "[${join(",", concat(
    [jsonencode(local.service_container)],
    local.sidecar ? [jsonencode(local.collector_container)] : [],
  ))}]"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/nudges/${var.name_prefix}/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# --- network ---------------------------------------------------------------------------

resource "aws_security_group" "this" {
  name        = local.full_name
  description = "Tasks of ${local.full_name}: in from the load balancer and declared callers only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = local.full_name })
}

# AWS APIs (ECR, Secrets Manager, CloudWatch, X-Ray), Stripe, Twilio and the identity
# provider are HTTPS endpoints outside the VPC.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS to AWS APIs and third-party APIs"
}

resource "aws_vpc_security_group_ingress_rule" "from_load_balancer" {
  count = var.load_balancer == null ? 0 : 1

  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = var.load_balancer.security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  description                  = "Load balancer to ${var.name}"
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_service" {
  count = var.load_balancer == null ? 0 : 1

  security_group_id            = var.load_balancer.security_group_id
  referenced_security_group_id = aws_security_group.this.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  description                  = "Load balancer to ${var.name}"
}

# --- IAM: execution role (start the task) ----------------------------------------------

data "aws_iam_policy_document" "assume_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.full_name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  # GetAuthorizationToken has no resource-level permissions.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PullOwnImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = length(local.secret_arns) > 0 ? [1] : []
    content {
      sid       = "ReadOwnSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.secret_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptOwnSecrets"
      actions   = ["kms:Decrypt"]
      resources = [var.kms_key_arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-${var.name}"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# --- IAM: task role (what the code may do) ---------------------------------------------

resource "aws_iam_role" "task" {
  name               = "${local.full_name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_tasks.json
  tags               = var.tags
}

locals {
  kafka_read_topics  = var.kafka == null ? [] : [for t in var.kafka.read_topics : "${var.kafka.topic_arn_prefix}${t}"]
  kafka_write_topics = var.kafka == null ? [] : [for t in var.kafka.write_topics : "${var.kafka.topic_arn_prefix}${t}"]
  kafka_groups       = var.kafka == null ? [] : [for g in var.kafka.groups : "${var.kafka.group_arn_prefix}${g}"]
  kafka_create       = var.kafka == null ? false : var.kafka.create_topics
}

data "aws_iam_policy_document" "kafka" {
  count = var.kafka == null ? 0 : 1

  statement {
    sid       = "ConnectToCluster"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [var.kafka.cluster_arn]
  }

  dynamic "statement" {
    for_each = length(local.kafka_write_topics) > 0 ? [1] : []
    content {
      sid       = "ProduceIdempotently"
      actions   = ["kafka-cluster:WriteDataIdempotently"]
      resources = [var.kafka.cluster_arn]
    }
  }

  dynamic "statement" {
    for_each = length(local.kafka_write_topics) > 0 ? [1] : []
    content {
      sid       = "WriteOwnTopics"
      actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
      resources = local.kafka_write_topics
    }
  }

  dynamic "statement" {
    for_each = length(local.kafka_read_topics) > 0 ? [1] : []
    content {
      sid       = "ReadOwnTopics"
      actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
      resources = local.kafka_read_topics
    }
  }

  dynamic "statement" {
    for_each = length(local.kafka_groups) > 0 ? [1] : []
    content {
      sid       = "UseOwnConsumerGroups"
      actions   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
      resources = local.kafka_groups
    }
  }

  dynamic "statement" {
    for_each = local.kafka_create ? [1] : []
    content {
      sid       = "CreateDeclaredTopics"
      actions   = ["kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic"]
      resources = ["${var.kafka.topic_arn_prefix}*"]
    }
  }
}

resource "aws_iam_role_policy" "kafka" {
  count = var.kafka == null ? 0 : 1

  name   = "kafka-${var.name}"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.kafka[0].json
}

data "aws_iam_policy_document" "traces" {
  # X-Ray's write actions have no resource-level permissions.
  statement {
    sid = "SendTraces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "traces" {
  count = local.sidecar ? 1 : 0

  name   = "traces-${var.name}"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.traces.json
}

# The collector's metrics: embedded-metric-format log lines in a log group of their own,
# from which CloudWatch extracts the metrics the alarms read.
resource "aws_cloudwatch_log_group" "metrics" {
  count = local.scrape ? 1 : 0

  name              = "/nudges/${var.name_prefix}/${var.name}/metrics"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "metrics" {
  count = local.scrape ? 1 : 0

  statement {
    sid       = "WriteOwnMetrics"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [aws_cloudwatch_log_group.metrics[0].arn, "${aws_cloudwatch_log_group.metrics[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "metrics" {
  count = local.scrape ? 1 : 0

  name   = "metrics-${var.name}"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.metrics[0].json
}

# --- task definition -------------------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  family                   = local.full_name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = local.container_definitions

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # The root filesystem is read-only; /tmp and the image's working directory
  # (/var/lib/nudges) are the task's ephemeral storage.
  volume {
    name = "tmp"
  }

  volume {
    name = "state"
  }

  tags = var.tags
}

# --- load balancer and discovery -------------------------------------------------------

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; from there to the task the traffic stays in private subnets behind security groups that admit only the load balancer.
  count = var.run_as_service && var.load_balancer != null ? 1 : 0

  name                 = substr(local.full_name, 0, 32)
  target_type          = "ip"
  protocol             = "HTTP"
  port                 = var.container_port
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = var.load_balancer.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "this" {
  count = var.run_as_service && var.load_balancer != null ? 1 : 0

  listener_arn = var.load_balancer.listener_arn
  priority     = var.load_balancer.priority

  condition {
    path_pattern {
      values = var.load_balancer.path_patterns
    }
  }

  dynamic "condition" {
    for_each = length(var.load_balancer.host_headers) > 0 ? [var.load_balancer.host_headers] : []
    content {
      host_header {
        values = condition.value
      }
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[0].arn
  }

  tags = var.tags
}

resource "aws_service_discovery_service" "this" {
  count = var.run_as_service && var.discovery_namespace_id != null ? 1 : 0

  name = var.name

  dns_config {
    namespace_id   = var.discovery_namespace_id
    routing_policy = "MULTIVALUE"

    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  # ECS reports task health to Cloud Map: a stopped or unhealthy task leaves the answers.
  # (AWS fixes the threshold at 1 and the provider warns it is deprecated; an empty block
  # is not kept in state, so it is written out.)
  health_check_custom_config {
    failure_threshold = 1
  }

  tags = var.tags
}

# --- service and autoscaling -----------------------------------------------------------

resource "aws_ecs_service" "this" {
  count = var.run_as_service ? 1 : 0

  name                               = var.name
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = var.load_balancer == null ? null : 30
  enable_execute_command             = false
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.this.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  dynamic "load_balancer" {
    for_each = var.load_balancer == null ? [] : [1]
    content {
      target_group_arn = aws_lb_target_group.this[0].arn
      container_name   = var.name
      container_port   = var.container_port
    }
  }

  dynamic "service_registries" {
    for_each = var.discovery_namespace_id == null ? [] : [1]
    content {
      registry_arn = aws_service_discovery_service.this[0].arn
    }
  }

  # Autoscaling owns the count once the service exists.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener_rule.this]

  tags = var.tags
}

resource "aws_appautoscaling_target" "this" {
  count = var.run_as_service ? 1 : 0

  service_namespace  = "ecs"
  resource_id        = "service/${var.cluster_name}/${aws_ecs_service.this[0].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count
  tags               = var.tags
}

resource "aws_appautoscaling_policy" "cpu" {
  count = var.run_as_service ? 1 : 0

  name               = "${local.full_name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "lag" {
  count = var.run_as_service && var.lag_scaling != null ? 1 : 0

  name               = "${local.full_name}-consumer-lag"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.lag_scaling.target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    customized_metric_specification {
      namespace   = var.lag_scaling.namespace
      metric_name = var.lag_scaling.metric_name
      statistic   = var.lag_scaling.statistic

      dynamic "dimensions" {
        for_each = var.lag_scaling.dimensions
        content {
          name  = dimensions.key
          value = dimensions.value
        }
      }
    }
  }
}
