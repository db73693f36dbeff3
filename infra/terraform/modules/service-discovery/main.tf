# A Cloud Map private DNS namespace: services that others call directly (gRPC, the subgraphs
# the gateway plans over, the registry) register there as <service>.<namespace>.

resource "aws_service_discovery_private_dns_namespace" "this" {
  name        = var.namespace
  description = "Nudges services, by name"
  vpc         = var.vpc_id
  tags        = var.tags
}
