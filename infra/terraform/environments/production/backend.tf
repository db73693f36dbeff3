# State in the bucket and lock table made by infra/terraform/bootstrap (modules/state-backend).
terraform {
  backend "s3" {
    bucket         = "nudges-terraform-state"
    key            = "production/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "nudges-terraform-state-locks"
    kms_key_id     = "alias/nudges-terraform-state"
    encrypt        = true
  }
}
