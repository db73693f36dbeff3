output "paths" {
  description = "Every allowed path: caller-to-callee-port and service-to-store."
  value       = concat(keys(local.calls), keys(local.stores))
}
