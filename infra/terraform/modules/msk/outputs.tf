output "bootstrap_brokers" {
  description = "Bootstrap servers for IAM over TLS (port 9098): KAFKA_BOOTSTRAP_SERVERS."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_iam
}

output "cluster_arn" {
  description = "ARN of the cluster (kafka-cluster:Connect)."
  value       = aws_msk_cluster.this.arn
}

output "topic_arn_prefix" {
  description = "ARN prefix of the cluster's topics; append a topic name (or a pattern)."
  value       = "${replace(aws_msk_cluster.this.arn, ":cluster/", ":topic/")}/"
}

output "group_arn_prefix" {
  description = "ARN prefix of the cluster's consumer groups; append a group name (or a pattern)."
  value       = "${replace(aws_msk_cluster.this.arn, ":cluster/", ":group/")}/"
}

output "security_group_id" {
  description = "Security group of the brokers."
  value       = aws_security_group.this.id
}

output "port" {
  description = "Port clients use (IAM over TLS)."
  value       = 9098
}
