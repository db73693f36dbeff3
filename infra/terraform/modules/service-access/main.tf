# Security group rules between the services and from the services to the data stores, from
# one declaration of who calls whom: a service accepts connections only from the services
# that call it, on its own ports, and reaches only the data stores it uses. Kept outside
# modules/ecs-service because each rule joins two security groups that exist only once
# every service does.

locals {
  calls = {
    for c in flatten([
      for caller, s in var.services : [
        for callee in s.calls : [
          for port in var.services[callee].ports : { caller = caller, callee = callee, port = port }
        ]
      ]
    ]) : "${c.caller}-to-${c.callee}-${c.port}" => c
  }

  stores = {
    for a in flatten([
      for name, s in var.services : [
        for store, used in { postgres = s.postgres, redis = s.redis, kafka = s.kafka } :
        { service = name, store = store } if used
      ]
    ]) : "${a.service}-to-${a.store}" => a
  }
}

resource "aws_vpc_security_group_ingress_rule" "call" {
  for_each = local.calls

  security_group_id            = var.services[each.value.callee].security_group_id
  referenced_security_group_id = var.services[each.value.caller].security_group_id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = "${each.value.caller} calls ${each.value.callee}"
}

resource "aws_vpc_security_group_egress_rule" "call" {
  for_each = local.calls

  security_group_id            = var.services[each.value.caller].security_group_id
  referenced_security_group_id = var.services[each.value.callee].security_group_id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = "${each.value.caller} calls ${each.value.callee}"
}

resource "aws_vpc_security_group_ingress_rule" "store" {
  for_each = local.stores

  security_group_id            = var.data_stores[each.value.store].security_group_id
  referenced_security_group_id = var.services[each.value.service].security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.data_stores[each.value.store].port
  to_port                      = var.data_stores[each.value.store].port
  description                  = "${each.value.service} uses ${each.value.store}"
}

resource "aws_vpc_security_group_egress_rule" "store" {
  for_each = local.stores

  security_group_id            = var.services[each.value.service].security_group_id
  referenced_security_group_id = var.data_stores[each.value.store].security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.data_stores[each.value.store].port
  to_port                      = var.data_stores[each.value.store].port
  description                  = "${each.value.service} uses ${each.value.store}"
}
