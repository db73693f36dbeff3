variable "name" {
  description = "Prefix of every repository name, e.g. nudges-production (repositories are <name>/<image>)."
  type        = string
}

variable "images" {
  description = "One repository per image: the platform services and the ops image."
  type        = set(string)
}

variable "kms_key_arn" {
  description = "KMS key encrypting the images."
  type        = string
}

variable "keep_images" {
  description = "How many tagged images each repository keeps (older ones expire)."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
