variable "services" {
  description = <<-EOT
    Every service: its security group, the ports it listens on, the services it calls
    (by name), and the data stores it uses. Rules are created for exactly these paths.
  EOT
  type = map(object({
    security_group_id = string
    ports             = list(number)
    calls             = optional(list(string), [])
    postgres          = optional(bool, false)
    redis             = optional(bool, false)
    kafka             = optional(bool, false)
  }))

  validation {
    condition = alltrue(flatten([
      for name, s in var.services : [for callee in s.calls : contains(keys(var.services), callee)]
    ]))
    error_message = "Every name in calls must be a service of the map."
  }
}

variable "data_stores" {
  description = "Security group and port of each data store: postgres, redis, kafka."
  type = map(object({
    security_group_id = string
    port              = number
  }))
}
