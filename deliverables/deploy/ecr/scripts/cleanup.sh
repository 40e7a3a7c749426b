#!/usr/bin/env bash
# cleanup.sh: deletes the ECR repositories and the images in them: terraform
# destroy of ../terraform (with force_delete, the default, the images go with
# their repositories). What `make ecr-destroy` runs.
#
#   deliverables/deploy/ecr/scripts/cleanup.sh [terraform destroy options]
#
# Shows what goes and asks first, as terraform destroy does. The variables
# file is ../terraform/terraform.tfvars unless TERRAFORM_ECR_VAR_FILE names
# another. Needs terraform and AWS credentials allowed to delete the
# repositories. Runs on bash 3.2 (macOS): ${1+"$@"} passes no argument when
# there is none, where "$@" can abort an old bash under set -u.
set -euo pipefail
terraform_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../terraform" && pwd)
var_file=${TERRAFORM_ECR_VAR_FILE:-$terraform_dir/terraform.tfvars}
[[ -f $var_file ]] || { echo "cleanup.sh: $var_file is missing (the variables make ecr-apply used)" >&2; exit 1; }
exec terraform -chdir="$terraform_dir" destroy -var-file="$(cd "$(dirname "$var_file")" && pwd)/$(basename "$var_file")" ${1+"$@"}
