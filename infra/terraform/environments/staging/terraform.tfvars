environment        = "staging"
aws_region         = "us-east-1"
zone_name          = "nudges.app"
domain             = "staging.nudges.app"
vpc_cidr           = "10.20.0.0/16"
availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
single_nat_gateway = true
image_tag          = "0.1.0"
twilio_account_sid = "AC00000000000000000000000000000000"
twilio_from_number = "+15005550006"
log_level          = "DEBUG"
log_retention_days = 365

rds_instance_class        = "db.t4g.medium"
rds_multi_az              = false
rds_backup_retention_days = 7

redis_enabled   = true
redis_node_type = "cache.t4g.small"
redis_replicas  = 1

msk_broker_instance_type = "kafka.t3.small"
msk_brokers_per_az       = 1
msk_volume_size_gb       = 50
kafka_topic_partitions   = 3

default_service_size = {
  cpu    = 256
  memory = 512
  min    = 1
  max    = 2
}

service_sizes = {
  gateway   = { cpu = 512, memory = 1024, min = 1, max = 3 }
  consumers = { cpu = 512, memory = 1024, min = 1, max = 4 }
  # GraphMonitor keeps its state in one process: one task (see README.md). WarpCache keeps
  # its entries in ElastiCache: at least two tasks, in two zones.
  registry  = { cpu = 256, memory = 512, min = 1, max = 1 }
  warpcache = { cpu = 256, memory = 512, min = 2, max = 4 }
}

consumer_lag_scaling = {
  consumer_group  = "sms-outbound"
  topic           = "sms.outbound"
  target_per_task = 1000
}
