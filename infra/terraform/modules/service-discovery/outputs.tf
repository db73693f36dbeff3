output "namespace_id" {
  description = "ID of the namespace (modules/ecs-service discovery.namespace_id)."
  value       = aws_service_discovery_private_dns_namespace.this.id
}

output "namespace_name" {
  description = "DNS name of the namespace; a service answers at <service>.<namespace_name>."
  value       = aws_service_discovery_private_dns_namespace.this.name
}
