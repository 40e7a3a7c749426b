variable "aws_region" {
  description = "Region of the registry; use the Region the cluster runs in (pulls stay in-Region and free)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a Region code such as eu-west-1."
  }
}

variable "repository_prefix" {
  description = "Namespace of the repositories: <prefix>/<image>."
  type        = string
  default     = "order-system"

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", var.repository_prefix))
    error_message = "repository_prefix must be lowercase letters and digits, separated by single . _ or -."
  }
}

variable "images" {
  description = "One repository per image: the two services ECS runs. Add \"orderctl\" (tables, seed, smoke and load tests) to push the CLI for one-off tasks. scripts/upload.sh builds one image per name."
  type        = set(string)
  default     = ["order-api", "order-processor"]

  validation {
    condition     = length(var.images) > 0 && alltrue([for image in var.images : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", image))])
    error_message = "Image names must be lowercase letters and digits, separated by single . _ or -."
  }
}

variable "keep_tagged_images" {
  description = "Images kept per repository (newest first); older ones expire. Each image is a few MB: 20 of each image stay well inside the free 500 MB."
  type        = number
  default     = 20

  validation {
    condition     = var.keep_tagged_images >= 1 && var.keep_tagged_images <= 1000
    error_message = "keep_tagged_images must be 1-1000."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (left over by interrupted pushes) expire."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_expiry_days >= 1
    error_message = "untagged_expiry_days must be at least 1."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the repositories (about 1 USD/month). null: AES-256 encryption managed by ECR, at no cost."
  type        = string
  default     = null
}

variable "force_delete" {
  description = "Let `terraform destroy` delete repositories that still hold images (on by default, so a demo cleans up in one step; set false in production, where losing the images with a destroy is a mistake)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose release workflow may push images, through OIDC and a role limited to these repositories. null: no role."
  type        = string
  default     = null

  validation {
    condition     = var.github_repository == null || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, such as octo-org/order-system."
  }
}

variable "github_release_ref" {
  description = "Git refs allowed to assume the push role (an IAM StringLike pattern on the OIDC subject's ref part)."
  type        = string
  default     = "refs/tags/v*"

  validation {
    condition     = startswith(var.github_release_ref, "refs/")
    error_message = "github_release_ref must be a ref pattern such as refs/tags/v* or refs/heads/main."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC identity provider. An account has at most one: set false when it exists already."
  type        = bool
  default     = true
}
