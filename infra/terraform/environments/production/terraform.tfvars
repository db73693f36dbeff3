environment        = "production"
aws_region         = "us-east-1"
zone_name          = "nudges.app"
domain             = "nudges.app"
vpc_cidr           = "10.10.0.0/16"
availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
single_nat_gateway = false
image_tag          = "0.1.0"
twilio_account_sid = "AC00000000000000000000000000000000"
twilio_from_number = "+18005550100"
log_level          = "INFO"
log_retention_days = 400

rds_instance_class        = "db.r7g.large"
rds_multi_az              = true
rds_backup_retention_days = 35

redis_enabled   = true
redis_node_type = "cache.r7g.large"
redis_replicas  = 2

msk_broker_instance_type = "kafka.m7g.large"
msk_brokers_per_az       = 1
msk_volume_size_gb       = 500
kafka_topic_partitions   = 12

default_service_size = {
  cpu    = 512
  memory = 1024
  min    = 2
  max    = 6
}

service_sizes = {
  gateway   = { cpu = 1024, memory = 2048, min = 3, max = 12 }
  auth      = { cpu = 512, memory = 1024, min = 2, max = 8 }
  consumers = { cpu = 1024, memory = 2048, min = 3, max = 24 }
  # GraphMonitor keeps its state in one process: one task (see README.md). WarpCache keeps
  # its entries in ElastiCache: at least two tasks, in two zones.
  registry  = { cpu = 512, memory = 1024, min = 1, max = 1 }
  warpcache = { cpu = 512, memory = 1024, min = 2, max = 6 }
}

consumer_lag_scaling = {
  consumer_group  = "sms-outbound"
  topic           = "sms.outbound"
  target_per_task = 2000
}
