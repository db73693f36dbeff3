# Nudges on AWS: ECS Fargate services behind one load balancer, MSK, RDS PostgreSQL,
# ElastiCache Redis, the UIs on S3 + CloudFront, Route 53 names and ACM certificates.
# staging/main.tf and production/main.tf are the same file; what differs is in
# terraform.tfvars. infra/tests/test_drift.py checks that both declare every platform
# service of compose.yaml, with the same name, port, image and secrets.

locals {
  name      = "nudges-${var.environment}"
  namespace = "${var.environment}.nudges.internal"
  api_host  = "api.${var.domain}"
  # Keycloak: this environment's own (keycloak_url empty) at id.<domain>, or an existing one.
  id_host         = "id.${var.domain}"
  deploy_keycloak = var.keycloak_url == ""
  keycloak_url    = local.deploy_keycloak ? "https://${local.id_host}" : var.keycloak_url
  ui_hosts = {
    "admin-ui"  = "admin.${var.domain}"
    "signup-ui" = "app.${var.domain}"
  }
  tags = {
    Project     = "nudges"
    Environment = var.environment
  }
  # Where each service's collector sidecar writes the metrics it scrapes from /metrics, and
  # where the alarms (module.alarms) read them.
  metrics_namespace = "Nudges/${var.environment}"

  # Secrets Manager secrets of the platform, by name (values are set out of band, see
  # README.md). Each is read by the services that name it below, and by no other.
  secrets = {
    "stripe-api-key"           = "Stripe secret API key"
    "stripe-webhook-secret"    = "Signing secret of the Stripe webhook endpoint"
    "twilio-auth-token"        = "Twilio auth token (API calls and webhook signatures)"
    "phone-encryption-key"     = "AES-GCM key of stored phone numbers (base64, 32 bytes)"
    "phone-hash-key"           = "HMAC-SHA256 key of phone number lookups"
    "jwt-signing-keys"         = "AuthApi's token signing keys: JSON list of {kid, private_key, not_before}"
    "otp-hmac-secret"          = "AuthApi's key for one-time code digests"
    "machine-secrets"          = "AuthApi's client-credentials secrets: JSON {consumers, webhooks, user, product, payment}"
    "consumers-client-secret"  = "Consumers' client secret (its entry of machine-secrets)"
    "webhooks-client-secret"   = "Webhooks' client secret (its entry of machine-secrets)"
    "user-client-secret"       = "UserApi's client secret (its entry of machine-secrets; registers the subgraph)"
    "product-client-secret"    = "ProductApi's client secret (its entry of machine-secrets; registers the subgraph)"
    "payment-client-secret"    = "PaymentApi's client secret (its entry of machine-secrets; registers the subgraph)"
    "keycloak-client-secret"   = "Secret of the Keycloak client nudges-auth"
    "edge-origin-secret"       = "X-Origin-Verify, the header CloudFront adds to the API requests it forwards (set by Terraform)"
    "warpcache-callers"        = "WarpCache's callers: JSON {auth, gateway, webhooks} -> each one's token"
    "auth-warpcache-token"     = "AuthApi's WarpCache token (its entry of warpcache-callers)"
    "gateway-warpcache-token"  = "The gateway's WarpCache token (its entry of warpcache-callers)"
    "webhooks-warpcache-token" = "Webhooks' WarpCache token (its entry of warpcache-callers)"
    "user-postgres-url"        = "POSTGRES_URL of UserApi (role nudges_user)"
    "product-postgres-url"     = "POSTGRES_URL of ProductApi (role nudges_product)"
    "payment-postgres-url"     = "POSTGRES_URL of PaymentApi (role nudges_payment)"
    "consumers-postgres-url"   = "POSTGRES_URL of Consumers (role nudges_consumers)"
    "registry-postgres-url"    = "POSTGRES_URL of GraphMonitor (role nudges_registry)"
    "migrator-postgres-url"    = "POSTGRES_URL of the migrate job (role nudges_migrator, CREATEDB)"
  }
  # Read only by this environment's own Keycloak.
  keycloak_secrets = local.deploy_keycloak ? {
    "keycloak-db-password"    = "Password of the PostgreSQL role keycloak (database keycloak)"
    "keycloak-admin-password" = "Password of Keycloak's bootstrap admin (the admin console is not public)"
  } : {}
  secret_arns = merge(
    module.secrets.secret_arns,
    { for redis in module.elasticache : "redis-url" => redis.url_secret_arn },
    { for redis in module.elasticache : "redis-auth-token" => redis.auth_token_secret_arn },
  )

  api_url   = "https://${local.api_host}"
  graph_url = { for name, port in { user = 4002, product = 4003, payment = 4004 } : name => "http://${name}.${local.namespace}:${port}/graphql" }
  auth_url  = "http://auth.${local.namespace}:4001/auth"

  # Settings every service reads (libs/nudges-kit/src/nudges_kit/settings.py). Staging runs
  # in production mode too: no development default is ever used outside a laptop.
  common_environment = {
    ENVIRONMENT              = "production"
    LOG_LEVEL                = var.log_level
    LOG_JSON                 = "true"
    HTTP_HOST                = "0.0.0.0"
    KAFKA_BOOTSTRAP_SERVERS  = module.msk.bootstrap_brokers
    KAFKA_ENABLE_IDEMPOTENCE = "true"
    KAFKA_SECURITY_PROTOCOL  = "SASL_SSL"
    KAFKA_SASL_MECHANISM     = "OAUTHBEARER"
    KAFKA_AWS_REGION         = var.aws_region
    KAFKA_TOPIC_PARTITIONS   = tostring(var.kafka_topic_partitions)
    # Topics a service declares again (after a broker lost them) match the cluster's
    # default.replication.factor=3 and min.insync.replicas=2 (modules/msk).
    KAFKA_TOPIC_REPLICATION_FACTOR = "3"
    KAFKA_MIN_INSYNC_REPLICAS      = "2"
    OTEL_EXPORTER_OTLP_ENDPOINT    = "http://127.0.0.1:4318"
    # AuthApi issues the tokens; every service verifies them with its JWKS.
    JWT_ISSUER   = "${local.api_url}/auth"
    JWT_AUDIENCE = "nudges"
    JWKS_URL     = "${local.auth_url}/.well-known/jwks.json"
  }

  # Every platform service of compose.yaml, by the same name. port: HTTP (API, or health and
  # metrics); grpc_port: what callers use when set; public_paths: routed from the load
  # balancer; calls: the services it opens connections to; postgres/redis: the data stores
  # it uses; kafka: the topics it writes and reads; environment: its settings beyond the
  # common ones; secrets: environment variable => secret name (local.secrets).
  services = {
    gateway = {
      port         = 4000
      public_paths = ["/graphql", "/graphql/*"]
      priority     = 100
      calls        = ["registry", "user", "product", "payment", "warpcache", "auth"]
      environment = {
        REGISTRY_URL  = "http://registry.${local.namespace}:4010"
        WARPCACHE_URL = "warpcache.${local.namespace}:50051"
      }
      secrets = {
        WARPCACHE_TOKEN = "gateway-warpcache-token"
      }
    }
    auth = {
      port         = 4001
      public_paths = ["/auth", "/auth/*"]
      priority     = 110
      calls        = ["warpcache", "localization", "user"]
      kafka        = { write_topics = ["sms.outbound", "auth.logins"] }
      environment = {
        WARPCACHE_URL      = "warpcache.${local.namespace}:50051"
        LOCALIZATION_URL   = "localization.${local.namespace}:50052"
        USER_URL           = local.graph_url.user
        KEYCLOAK_URL       = local.keycloak_url
        KEYCLOAK_REALM     = "nudges"
        KEYCLOAK_CLIENT_ID = "nudges-auth"
        OIDC_REDIRECT_URL  = "${local.api_url}/auth/callback"
        ADMIN_UI_URL       = "https://${local.ui_hosts["admin-ui"]}/"
        COOKIE_SECURE      = "true"
        # Callers reach AuthApi through the UIs' CloudFront and the load balancer, or through
        # the load balancer alone (api host, OIDC callback): the client address is the entry
        # CloudFront appended to X-Forwarded-For on requests carrying its origin header, the
        # load balancer's entry on the others (nudges_kit.client_address).
        CLIENT_ADDRESS_TOPOLOGY = "cloudfront_alb"
      }
      secrets = {
        OTP_HMAC_SECRET        = "otp-hmac-secret"
        WARPCACHE_TOKEN        = "auth-warpcache-token"
        JWT_SIGNING_KEYS       = "jwt-signing-keys"
        MACHINE_SECRETS        = "machine-secrets"
        KEYCLOAK_CLIENT_SECRET = "keycloak-client-secret"
        EDGE_ORIGIN_SECRET     = "edge-origin-secret"
        PHONE_ENCRYPTION_KEY   = "phone-encryption-key"
        PHONE_HASH_KEY         = "phone-hash-key"
      }
    }
    user = {
      port     = 4002
      calls    = ["registry", "auth", "product", "localization"]
      postgres = true
      kafka = {
        # Groups user-deliveries (twilio.status, sms.announcement-outcomes),
        # user-stripe-customers (stripe.events) and user-sms-opt-ins (sms.opt-ins: the SMS
        # dialogue's YES and LANG), entrypoints/consumers.py, each parking what
        # it cannot handle on the topic's dead-letter topic. The admin's deadLetters reads
        # every dead-letter topic, and replayDeadLetter publishes a letter again to the topic
        # it came from: any topic a consumer group reads.
        read_topics  = ["twilio.status", "sms.announcement-outcomes", "stripe.events", "sms.opt-ins", "*.dlq"]
        write_topics = ["user.*", "product.*", "payment.checkouts", "sms.*", "stripe.events", "twilio.status", "stripe.events.dlq", "twilio.status.dlq"]
        groups       = ["user-deliveries", "user-stripe-customers", "user-sms-opt-ins"]
      }
      environment = {
        REGISTRY_URL     = "http://registry.${local.namespace}:4010"
        SUBGRAPH_URL     = local.graph_url.user
        AUTH_TOKEN_URL   = "${local.auth_url}/token"
        # The composer: a client's allowance and each locale's copy of an announcement.
        PRODUCT_URL      = local.graph_url.product
        LOCALIZATION_URL = "localization.${local.namespace}:50052"
      }
      secrets = {
        SERVICE_CLIENT_SECRET = "user-client-secret"
        POSTGRES_URL          = "user-postgres-url"
        PHONE_ENCRYPTION_KEY  = "phone-encryption-key"
        PHONE_HASH_KEY        = "phone-hash-key"
      }
    }
    product = {
      port     = 4003
      calls    = ["registry", "auth"]
      postgres = true
      kafka = {
        # Groups product-subscriptions (payment.checkouts), product-stripe-events
        # (stripe.events) and product-usage (user.announcements), entrypoints/events.py,
        # each parking what it cannot handle on the topic's dead-letter topic.
        read_topics  = ["payment.checkouts", "stripe.events", "user.announcements"]
        write_topics = ["product.plans", "product.price-tiers", "product.plan-subscriptions", "product.discount-codes", "payment.checkouts.dlq", "stripe.events.dlq", "user.announcements.dlq"]
        groups       = ["product-subscriptions", "product-stripe-events", "product-usage"]
      }
      environment = {
        REGISTRY_URL   = "http://registry.${local.namespace}:4010"
        SUBGRAPH_URL   = local.graph_url.product
        AUTH_TOKEN_URL = "${local.auth_url}/token"
      }
      secrets = {
        SERVICE_CLIENT_SECRET = "product-client-secret"
        POSTGRES_URL          = "product-postgres-url"
      }
    }
    payment = {
      port     = 4004
      calls    = ["registry", "auth", "product", "user"]
      postgres = true
      kafka = {
        # Group payment-stripe-events (stripe.events), entrypoints/stripe_events.py.
        read_topics  = ["stripe.events"]
        write_topics = ["payment.checkouts", "stripe.events.dlq"]
        groups       = ["payment-stripe-events"]
      }
      environment = {
        REGISTRY_URL         = "http://registry.${local.namespace}:4010"
        SUBGRAPH_URL         = local.graph_url.payment
        AUTH_TOKEN_URL       = "${local.auth_url}/token"
        PRODUCT_URL          = local.graph_url.product
        USER_URL             = local.graph_url.user
        AUTH_TOKEN_URL       = "${local.auth_url}/token"
        SERVICE_CLIENT_ID    = "payment"
        STRIPE_API_BASE      = "https://api.stripe.com"
        CHECKOUT_SUCCESS_URL = "https://${local.ui_hosts["signup-ui"]}/checkout/success?session_id={CHECKOUT_SESSION_ID}"
        CHECKOUT_CANCEL_URL  = "https://${local.ui_hosts["signup-ui"]}/checkout/cancel?session_id={CHECKOUT_SESSION_ID}"
      }
      secrets = {
        SERVICE_CLIENT_SECRET = "payment-client-secret"
        POSTGRES_URL          = "payment-postgres-url"
        STRIPE_API_KEY        = "stripe-api-key"
      }
    }
    webhooks = {
      port         = 4005
      public_paths = ["/webhooks/*"]
      priority     = 120
      calls        = ["warpcache", "localization", "auth", "user", "product"]
      kafka        = { write_topics = ["stripe.events", "twilio.status", "sms.opt-ins"] }
      environment = {
        WARPCACHE_URL     = "warpcache.${local.namespace}:50051"
        LOCALIZATION_URL  = "localization.${local.namespace}:50052"
        USER_URL          = local.graph_url.user
        PRODUCT_URL       = local.graph_url.product
        AUTH_TOKEN_URL    = "${local.auth_url}/token"
        SERVICE_CLIENT_ID = "webhooks"
        # Twilio signs the public URL it posted to, not the one the task sees.
        TWILIO_WEBHOOK_BASE_URL = local.api_url
      }
      secrets = {
        STRIPE_WEBHOOK_SECRET = "stripe-webhook-secret"
        TWILIO_AUTH_TOKEN     = "twilio-auth-token"
        SERVICE_CLIENT_SECRET = "webhooks-client-secret"
        PHONE_ENCRYPTION_KEY  = "phone-encryption-key"
        PHONE_HASH_KEY        = "phone-hash-key"
        WARPCACHE_TOKEN       = "webhooks-warpcache-token"
      }
    }
    consumers = {
      port     = 4006
      calls    = ["localization", "auth", "user", "product", "payment"]
      postgres = true
      kafka = {
        # Groups stripe-sync-customers, stripe-sync-catalog, stripe-sync-subscriptions,
        # fan-out, sms-outbound, notify-subscribers and notify-clients (service_layer/), each
        # parking what it cannot handle on the topic's dead-letter topic. It writes the SMS to
        # send, its fan-out work items, and what became of each item's copies (for UserApi).
        read_topics  = ["user.clients", "user.memberships", "user.announcements", "product.plans", "product.price-tiers", "product.discount-codes", "product.plan-subscriptions", "sms.outbound", "sms.announcement-batches"]
        write_topics = ["sms.outbound", "sms.announcement-batches", "sms.announcement-outcomes", "user.clients.dlq", "user.memberships.dlq", "user.announcements.dlq", "product.plans.dlq", "product.price-tiers.dlq", "product.discount-codes.dlq", "product.plan-subscriptions.dlq", "sms.outbound.dlq", "sms.announcement-batches.dlq"]
        groups       = ["stripe-sync-customers", "stripe-sync-catalog", "stripe-sync-subscriptions", "fan-out", "sms-outbound", "notify-subscribers", "notify-clients"]
      }
      lag_scaling = true
      environment = {
        LOCALIZATION_URL           = "localization.${local.namespace}:50052"
        USER_URL                   = local.graph_url.user
        PRODUCT_URL                = local.graph_url.product
        AUTH_TOKEN_URL             = "${local.auth_url}/token"
        SERVICE_CLIENT_ID          = "consumers"
        STRIPE_API_BASE            = "https://api.stripe.com"
        TWILIO_API_URL             = "https://api.twilio.com"
        TWILIO_ACCOUNT_SID         = var.twilio_account_sid
        TWILIO_FROM_NUMBER         = var.twilio_from_number
        TWILIO_STATUS_CALLBACK_URL = "${local.api_url}/webhooks/twilio/status"
      }
      secrets = {
        POSTGRES_URL          = "consumers-postgres-url"
        STRIPE_API_KEY        = "stripe-api-key"
        TWILIO_AUTH_TOKEN     = "twilio-auth-token"
        SERVICE_CLIENT_SECRET = "consumers-client-secret"
        PHONE_ENCRYPTION_KEY  = "phone-encryption-key"
        PHONE_HASH_KEY        = "phone-hash-key"
      }
    }
    # Sessions, refresh tokens, OTPs, drafts and rate counters live in ElastiCache: every
    # task serves the same keys, and they outlive deploys and crashes (two tasks or more).
    warpcache = {
      port      = 4011
      grpc_port = 50051
      redis     = true
      environment = {
        GRPC_HOST           = "0.0.0.0"
        GRPC_PORT           = "50051"
        WARPCACHE_ENGINE    = "redis"
        WARPCACHE_REDIS_URL = "rediss://${module.elasticache[0].primary_endpoint}:6379/0"
      }
      secrets = {
        WARPCACHE_CALLERS          = "warpcache-callers"
        WARPCACHE_REDIS_AUTH_TOKEN = "redis-auth-token"
      }
    }
    localization = {
      port      = 4012
      grpc_port = 50052
      environment = {
        GRPC_HOST = "0.0.0.0"
        GRPC_PORT = "50052"
      }
      secrets = {}
    }
    registry = {
      port = 4010
      # AuthApi's JWKS (writes need a machine token); the subgraphs' SDL on refresh.
      calls    = ["auth", "user", "product", "payment"]
      postgres = true
      environment = {
        # Only the platform's own subgraphs may be registered (the gateway sends them callers'
        # tokens).
        REGISTRY_ALLOWED_SUBGRAPH_URLS = jsonencode([for url in values(local.graph_url) : url])
      }
      secrets = {
        POSTGRES_URL = "registry-postgres-url"
      }
    }
  }

  # One-off tasks of the ops image (infra/docker/ops.Dockerfile), run by the deployment
  # before the services roll: aws ecs run-task --task-definition <job> (see README.md).
  # Like compose's migrate and topics services. They read only what they need, so they run
  # with the settings' development mode and no other secret.
  jobs = {
    migrate = {
      command  = ["migrate"]
      postgres = true
      environment = {
        LOG_JSON = "true"
      }
      secrets = {
        POSTGRES_URL = "migrator-postgres-url"
      }
    }
    topics = {
      command = ["topics", "create"]
      kafka   = { create_topics = true }
      environment = {
        LOG_JSON                       = "true"
        KAFKA_BOOTSTRAP_SERVERS        = module.msk.bootstrap_brokers
        KAFKA_SECURITY_PROTOCOL        = "SASL_SSL"
        KAFKA_SASL_MECHANISM           = "OAUTHBEARER"
        KAFKA_AWS_REGION               = var.aws_region
        KAFKA_TOPIC_PARTITIONS         = tostring(var.kafka_topic_partitions)
        KAFKA_TOPIC_REPLICATION_FACTOR = "3"
        KAFKA_MIN_INSYNC_REPLICAS      = "2"
      }
      secrets = {}
    }
  }

  # Services other services call: registered in Cloud Map.
  called = toset(flatten([for s in local.services : try(s.calls, [])]))
}

# --- foundation ------------------------------------------------------------------------

module "network" {
  source = "../../modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  kms_key_arn        = module.secrets.kms_key_arn
  tags               = local.tags
}

module "secrets" {
  source = "../../modules/secrets"

  name    = local.name
  secrets = merge(local.secrets, local.keycloak_secrets)
  tags    = local.tags
}

# The value CloudFront sends in X-Origin-Verify; AuthApi reads it from Secrets Manager.
resource "random_password" "edge_origin" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret_version" "edge_origin" {
  secret_id     = module.secrets.secret_arns["edge-origin-secret"]
  secret_string = random_password.edge_origin.result
}

module "ecr" {
  source = "../../modules/ecr"

  name        = local.name
  images      = toset(concat(keys(local.services), ["ops"], local.deploy_keycloak ? ["keycloak"] : []))
  kms_key_arn = module.secrets.kms_key_arn
  tags        = local.tags
}

module "logs" {
  source = "../../modules/log-bucket"

  bucket_name    = "${local.name}-logs-${data.aws_caller_identity.current.account_id}"
  retention_days = var.log_retention_days
  tags           = local.tags
}

data "aws_caller_identity" "current" {}

module "dns" {
  source    = "../../modules/dns"
  providers = { aws = aws, aws.us_east_1 = aws.us_east_1 }

  zone_name                      = var.zone_name
  regional_certificate_domains   = concat([local.api_host], local.deploy_keycloak ? [local.id_host] : [])
  cloudfront_certificate_domains = values(local.ui_hosts)
  alias_records = merge(
    { api = { name = local.api_host, target_dns = module.alb.dns_name, target_zone_id = module.alb.zone_id } },
    local.deploy_keycloak ? { id = { name = local.id_host, target_dns = module.alb.dns_name, target_zone_id = module.alb.zone_id } } : {},
    {
      for site, host in local.ui_hosts : site => {
        name           = host
        target_dns     = module.static_site[site].distribution_domain_name
        target_zone_id = module.static_site[site].distribution_zone_id
      }
    },
  )
  tags = local.tags
}

module "alb" {
  source = "../../modules/alb"

  name               = local.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.public_subnet_ids
  certificate_arn    = module.dns.regional_certificate_arn
  access_logs_bucket = module.logs.bucket
  log_retention_days = var.log_retention_days
  # The UIs' distributions forward the API paths here (module.static_site).
  behind_cloudfront  = true
  edge_origin_secret = random_password.edge_origin.result
  redirects = {
    admin-ui = {
      path_patterns = ["/admin", "/admin/*"]
      host          = local.ui_hosts["admin-ui"]
      priority      = 10
    }
    signup-ui = {
      path_patterns = ["/", "/c/*"]
      host          = local.ui_hosts["signup-ui"]
      priority      = 20
    }
  }
  tags = local.tags
}

module "discovery" {
  source = "../../modules/service-discovery"

  namespace = local.namespace
  vpc_id    = module.network.vpc_id
  tags      = local.tags
}

# --- data stores -----------------------------------------------------------------------

module "rds" {
  source = "../../modules/rds"

  name                  = local.name
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.private_subnet_ids
  instance_class        = var.rds_instance_class
  multi_az              = var.rds_multi_az
  backup_retention_days = var.rds_backup_retention_days
  kms_key_arn           = module.secrets.kms_key_arn
  log_retention_days    = var.log_retention_days
  tags                  = local.tags
}

# Redis: WarpCache's storage (WARPCACHE_ENGINE=redis): a replication group over the private
# subnets, Multi-AZ with automatic failover, TLS in transit, the AUTH token in Secrets Manager.
module "elasticache" {
  source = "../../modules/elasticache"
  count  = var.redis_enabled ? 1 : 0

  name               = local.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  node_type          = var.redis_node_type
  replicas           = var.redis_replicas
  kms_key_arn        = module.secrets.kms_key_arn
  log_retention_days = var.log_retention_days
  tags               = local.tags
}

module "msk" {
  source = "../../modules/msk"

  name                 = local.name
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.private_subnet_ids
  broker_instance_type = var.msk_broker_instance_type
  brokers_per_az       = var.msk_brokers_per_az
  volume_size_gb       = var.msk_volume_size_gb
  kms_key_arn          = module.secrets.kms_key_arn
  log_retention_days   = var.log_retention_days
  tags                 = local.tags
}

# --- services --------------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enhanced"
  }

  tags = local.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]
}

module "service" {
  source   = "../../modules/ecs-service"
  for_each = local.services

  name               = each.key
  name_prefix        = local.name
  cluster_arn        = aws_ecs_cluster.this.arn
  cluster_name       = aws_ecs_cluster.this.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  image              = "${module.ecr.repository_urls[each.key]}:${var.image_tag}"
  ecr_repository_arn = module.ecr.repository_arns[each.key]
  cpu_architecture   = var.cpu_architecture
  container_port     = each.value.port
  grpc_port          = try(each.value.grpc_port, null)
  cpu                = lookup(var.service_sizes, each.key, var.default_service_size).cpu
  memory             = lookup(var.service_sizes, each.key, var.default_service_size).memory
  desired_count      = lookup(var.service_sizes, each.key, var.default_service_size).min
  min_count          = lookup(var.service_sizes, each.key, var.default_service_size).min
  max_count          = lookup(var.service_sizes, each.key, var.default_service_size).max
  environment        = merge(local.common_environment, { HTTP_PORT = tostring(each.value.port) }, each.value.environment)
  secrets            = { for env, secret in each.value.secrets : env => local.secret_arns[secret] }
  kms_key_arn        = module.secrets.kms_key_arn
  log_retention_days = var.log_retention_days

  otel_collector_image   = var.otel_collector_image
  metrics_namespace      = local.metrics_namespace
  discovery_namespace_id = contains(local.called, each.key) ? module.discovery.namespace_id : null

  load_balancer = can(each.value.public_paths) ? {
    listener_arn      = module.alb.https_listener_arn
    security_group_id = module.alb.security_group_id
    path_patterns     = each.value.public_paths
    priority          = each.value.priority
  } : null

  kafka = can(each.value.kafka) ? merge(each.value.kafka, {
    cluster_arn      = module.msk.cluster_arn
    topic_arn_prefix = module.msk.topic_arn_prefix
    group_arn_prefix = module.msk.group_arn_prefix
  }) : null

  lag_scaling = try(each.value.lag_scaling, false) ? {
    namespace   = "AWS/Kafka"
    metric_name = "SumOffsetLag"
    dimensions = {
      "Cluster Name"   = local.name
      "Consumer Group" = var.consumer_lag_scaling.consumer_group
      "Topic"          = var.consumer_lag_scaling.topic
    }
    target = var.consumer_lag_scaling.target_per_task
  } : null

  tags = local.tags
}

module "job" {
  source   = "../../modules/ecs-service"
  for_each = local.jobs

  name               = each.key
  name_prefix        = local.name
  run_as_service     = false
  cluster_arn        = aws_ecs_cluster.this.arn
  cluster_name       = aws_ecs_cluster.this.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  image              = "${module.ecr.repository_urls["ops"]}:${var.image_tag}"
  ecr_repository_arn = module.ecr.repository_arns["ops"]
  cpu_architecture   = var.cpu_architecture
  command            = each.value.command
  environment        = each.value.environment
  secrets            = { for env, secret in each.value.secrets : env => local.secret_arns[secret] }
  kms_key_arn        = module.secrets.kms_key_arn
  log_retention_days = var.log_retention_days

  kafka = can(each.value.kafka) ? merge(each.value.kafka, {
    cluster_arn      = module.msk.cluster_arn
    topic_arn_prefix = module.msk.topic_arn_prefix
    group_arn_prefix = module.msk.group_arn_prefix
  }) : null

  tags = local.tags
}

# --- alarms ----------------------------------------------------------------------------

# Consumer lag, dead letters, 5xx share and task restarts of every service, to one SNS
# topic (alarm_email subscribes an address); docs/operations.md names each alarm.
module "alarms" {
  source = "../../modules/alarms"

  name_prefix        = local.name
  services           = toset(keys(local.services))
  cluster_arn        = aws_ecs_cluster.this.arn
  metrics_namespace  = local.metrics_namespace
  kms_key_arn        = module.secrets.kms_key_arn
  log_retention_days = var.log_retention_days
  alarm_email        = var.alarm_email
  tags               = local.tags
}

module "service_access" {
  source = "../../modules/service-access"

  services = {
    for name, s in local.services : name => {
      security_group_id = module.service[name].security_group_id
      # Callers reach a gRPC service on its gRPC port only.
      ports    = [coalesce(try(s.grpc_port, null), s.port)]
      calls    = try(s.calls, [])
      postgres = try(s.postgres, false)
      redis    = try(s.redis, false)
      kafka    = can(s.kafka)
    }
  }
  data_stores = local.data_stores
}

# Apart from the services' rules, so that the jobs can run before any service exists.
module "job_access" {
  source = "../../modules/service-access"

  services = {
    for name, j in local.jobs : name => {
      security_group_id = module.job[name].security_group_id
      ports             = []
      postgres          = try(j.postgres, false)
      kafka             = can(j.kafka)
    }
  }
  data_stores = local.data_stores
}

locals {
  data_stores = merge(
    {
      postgres = { security_group_id = module.rds.security_group_id, port = module.rds.port }
      kafka    = { security_group_id = module.msk.security_group_id, port = module.msk.port }
    },
    { for redis in module.elasticache : "redis" => { security_group_id = redis.security_group_id, port = redis.port } },
  )
}

# --- Keycloak (OIDC login of admins) ---------------------------------------------------

# This environment's own Keycloak, when keycloak_url is empty: the image of
# infra/docker/keycloak.Dockerfile (the nudges realm imported at start), its database
# `keycloak` on the RDS instance, two tasks behind the load balancer on id.<domain>. Only the
# nudges realm's endpoints and Keycloak's static resources are routed: the admin console
# (/admin) and the master realm are not reachable from the internet.
module "keycloak" {
  source = "../../modules/ecs-service"
  count  = local.deploy_keycloak ? 1 : 0

  name               = "keycloak"
  name_prefix        = local.name
  cluster_arn        = aws_ecs_cluster.this.arn
  cluster_name       = aws_ecs_cluster.this.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  image              = "${module.ecr.repository_urls["keycloak"]}:${var.image_tag}"
  ecr_repository_arn = module.ecr.repository_arns["keycloak"]
  cpu_architecture   = var.cpu_architecture
  container_port     = 8080
  cpu                = var.keycloak_size.cpu
  memory             = var.keycloak_size.memory
  desired_count      = var.keycloak_size.count
  min_count          = var.keycloak_size.count
  max_count          = var.keycloak_size.count
  environment = {
    KC_DB                       = "postgres"
    KC_DB_URL                   = "jdbc:postgresql://${module.rds.address}:${module.rds.port}/keycloak?sslmode=require"
    KC_DB_USERNAME              = "keycloak"
    KC_HOSTNAME                 = "https://${local.id_host}"
    KC_PROXY_HEADERS            = "xforwarded"
    KC_HTTP_ENABLED             = "true"
    KC_HEALTH_ENABLED           = "true"
    KC_CACHE                    = "ispn"
    KC_CACHE_STACK              = "jdbc-ping"
    KC_BOOTSTRAP_ADMIN_USERNAME = "admin"
  }
  secrets = {
    KC_DB_PASSWORD              = local.secret_arns["keycloak-db-password"]
    KC_BOOTSTRAP_ADMIN_PASSWORD = local.secret_arns["keycloak-admin-password"]
  }
  kms_key_arn        = module.secrets.kms_key_arn
  log_retention_days = var.log_retention_days

  load_balancer = {
    listener_arn      = module.alb.https_listener_arn
    security_group_id = module.alb.security_group_id
    path_patterns     = ["/realms/nudges", "/realms/nudges/*", "/resources/*"]
    host_headers      = [local.id_host]
    priority          = 5
    health_check_path = "/realms/nudges"
  }

  tags = local.tags
}

module "keycloak_access" {
  source = "../../modules/service-access"
  count  = local.deploy_keycloak ? 1 : 0

  services = {
    keycloak = {
      security_group_id = module.keycloak[0].security_group_id
      ports             = []
      postgres          = true
    }
  }
  data_stores = local.data_stores
}

# --- user interfaces -------------------------------------------------------------------

module "static_site" {
  source    = "../../modules/static-site"
  for_each  = local.ui_hosts
  providers = { aws = aws, aws.us_east_1 = aws.us_east_1 }

  name                   = "${local.name}-${each.key}"
  domain_name            = each.value
  certificate_arn        = module.dns.cloudfront_certificate_arn
  api_origin_domain      = local.api_host
  edge_origin_secret     = random_password.edge_origin.result
  log_bucket             = module.logs.bucket
  log_bucket_domain_name = module.logs.bucket_domain_name
  tags                   = local.tags
}
