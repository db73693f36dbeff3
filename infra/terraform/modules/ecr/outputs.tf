output "repository_urls" {
  description = "URL of each repository, by image name."
  value       = { for image, repo in aws_ecr_repository.this : image => repo.repository_url }
}

output "repository_arns" {
  description = "ARN of each repository, by image name."
  value       = { for image, repo in aws_ecr_repository.this : image => repo.arn }
}
