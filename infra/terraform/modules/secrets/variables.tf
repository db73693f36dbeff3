variable "name" {
  description = "Prefix of every resource name and secret path, e.g. nudges-production."
  type        = string
}

variable "secrets" {
  description = <<-EOT
    Secrets to create, by name (the path under var.name): what each holds. Values are set
    out of band (aws secretsmanager put-secret-value), so that they never enter the
    Terraform state.
  EOT
  type = map(string)
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
