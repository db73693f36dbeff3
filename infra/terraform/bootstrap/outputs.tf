output "backend" {
  description = "The values of the environments' backend \"s3\" blocks."
  value = {
    bucket         = module.state_backend.bucket
    dynamodb_table = module.state_backend.lock_table
    kms_key_id     = module.state_backend.kms_key_arn
  }
}
