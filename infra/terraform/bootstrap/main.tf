# Applied once per AWS account, before any environment, with local state (there is no
# backend yet): the S3 bucket and DynamoDB table every environment's backend.tf names.
#   terraform -chdir=infra/terraform/bootstrap init && terraform -chdir=infra/terraform/bootstrap apply

module "state_backend" {
  source = "../modules/state-backend"

  name = var.name
  tags = { Project = "nudges", ManagedBy = "terraform" }
}
