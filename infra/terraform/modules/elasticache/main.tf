# Redis (ElastiCache): TLS in transit, KMS at rest, an AUTH token, Multi-AZ with automatic
# failover. The token lives in the state (which is KMS-encrypted, modules/state-backend), in
# a secret of its own (WarpCache's WARPCACHE_REDIS_AUTH_TOKEN) and in one secret holding the
# whole REDIS_URL.

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis of ${var.name}: clients are added by modules/service-access"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-redis" })
}

resource "aws_elasticache_subnet_group" "this" {
  name        = var.name
  description = "Private subnets of ${var.name}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "random_password" "auth_token" {
  length  = 64
  special = false
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/nudges/${var.name}/redis-slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# WarpCache's keys all carry a TTL when they may go (sessions, OTPs, counters): at maxmemory
# Redis evicts the least recently used of those only (volatile-lru), never a key written
# without a TTL, and a counter in use (a rate limit under attack) is the last to go.
resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.name}-redis7"
  family      = "redis7"
  description = "Nudges Redis: evicts least recently used keys with a TTL at maxmemory"

  parameter {
    name  = "maxmemory-policy"
    value = "volatile-lru"
  }

  tags = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "Nudges Redis"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name

  num_cache_clusters         = 1 + var.replicas
  automatic_failover_enabled = true
  multi_az_enabled           = true

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  auth_token                 = random_password.auth_token.result

  snapshot_retention_limit   = 7
  snapshot_window            = "02:00-03:00"
  maintenance_window         = "sun:05:30-sun:06:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = var.tags
}

resource "aws_secretsmanager_secret" "url" {
  #checkov:skip=CKV2_AWS_57:The AUTH token rotates by changing random_password and applying (ElastiCache accepts both tokens during the rotation); no Lambda rotation.
  name                    = "${var.name}/redis-url"
  description             = "REDIS_URL of ${var.name}: rediss:// with the AUTH token"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 30
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "url" {
  secret_id     = aws_secretsmanager_secret.url.id
  secret_string = "rediss://:${random_password.auth_token.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
}

resource "aws_secretsmanager_secret" "auth_token" {
  #checkov:skip=CKV2_AWS_57:The AUTH token rotates by changing random_password and applying (ElastiCache accepts both tokens during the rotation); no Lambda rotation.
  name                    = "${var.name}/redis-auth-token"
  description             = "AUTH token of the Redis of ${var.name} (WARPCACHE_REDIS_AUTH_TOKEN)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 30
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "auth_token" {
  secret_id     = aws_secretsmanager_secret.auth_token.id
  secret_string = random_password.auth_token.result
}
