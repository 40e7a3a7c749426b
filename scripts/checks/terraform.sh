#!/usr/bin/env bash
# Checks of the AWS deployment (deliverables/deploy): every Terraform root is
# formatted, validates, passes its `terraform test` suites (mocked provider)
# and checkov (every skip justified inline), ecr/scripts/upload.sh tags and refuses
# as promised, and the roots apply and destroy against a moto server on
# 127.0.0.1 (see "moto coverage" below). Never touches AWS.
#
# Needs terraform (>= 1.10) and the hashicorp/aws 5.100 provider: from the
# public registry, or, on a machine that cannot reach it, from the filesystem
# mirror TERRAFORM_PROVIDER_MIRROR names. Without either only the checks that
# need no provider run, and the output says so. checkov and moto are installed
# into .tools/terraform on first use.
#
# Each check's output is shown only when it fails (lib.sh: quietly). Ends with
# "N passed, N failed"; exits 1 if any check failed.
set -uo pipefail

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
tools=$root/.tools/terraform
work=$tools/work
deploy=deliverables/deploy
ecs_root=$deploy/ecs-ec2/terraform
roots=("$deploy/ecr/terraform" "$deploy/ecs-ec2/bootstrap-state" "$ecs_root")
mirror=${TERRAFORM_PROVIDER_MIRROR:-}

# ---- tools ------------------------------------------------------------------

mkdir -p "$tools"
command -v terraform >/dev/null ||
  abort "terraform is not installed: install Terraform $TERRAFORM_MIN_VERSION or later (make doctor says how)"
provider=false
if [[ -n $mirror && -d $mirror/registry.terraform.io/hashicorp/aws ]]; then
  provider=true
  mkdir -p "$tools/plugin-cache"
  export TF_CLI_CONFIG_FILE=$tools/terraformrc
  cat >"$TF_CLI_CONFIG_FILE" <<CONFIG
plugin_cache_dir = "$tools/plugin-cache"
plugin_cache_may_break_dependency_lock_file = true
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/*/*"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
CONFIG
else
  # No mirror: the public registry, where it can be reached (GitHub's
  # runners); a CLI configuration with only a plugin cache.
  mkdir -p "$tools/plugin-cache"
  export TF_CLI_CONFIG_FILE=$tools/terraformrc-registry
  echo "plugin_cache_dir = \"$tools/plugin-cache\"" >"$TF_CLI_CONFIG_FILE"
  probe=$(mktemp -d)
  printf 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "~> 5.100" }\n  }\n}\n' >"$probe/main.tf"
  if (cd "$probe" && timeout 120 terraform init -backend=false -input=false >/dev/null 2>&1); then
    provider=true
    echo "NOTE the AWS provider comes from the public registry (no TERRAFORM_PROVIDER_MIRROR)"
  else
    echo "NOTE no registry and no TERRAFORM_PROVIDER_MIRROR: validate, terraform test and the moto"
    echo "     apply/destroy are SKIPPED; only the checks that need no provider run (fmt, checkov, upload.sh)."
  fi
  rm -rf "$probe"
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

cd "$root" || exit 1
echo "terraform: $(terraform version | head -n 1)"

# ---- formatting and static analysis (no provider needed) ---------------------

check "terraform fmt -check ($deploy)" quietly terraform fmt -check -recursive -diff "$deploy"

run_checkov() {
  install_checkov || return 1
  "$checkov" --skip-download --quiet --compact --framework terraform -d "$deploy"
}
check "checkov $CHECKOV_VERSION: no failed check" quietly run_checkov

# A skip without a reason is a silenced finding: each must say why. grep
# exits 1 when nothing matches, which is an answer here; 2 (an error) is not.
skips_are_justified() {
  local skips bad status=0
  skips=$(grep -rnE --include='*.tf' 'checkov:skip=' "$deploy") || status=$?
  ((status <= 1)) || { echo "grep could not read $deploy"; return 1; }
  bad=$(grep -vE 'checkov:skip=CKV2?_[A-Z0-9_]+:.{30,}' <<<"$skips") || status=$?
  [[ -z $bad ]] || { echo "checkov skips without a reason:"; echo "$bad"; return 1; }
  echo "$(grep -c . <<<"$skips") skips, each with its reason"
}
check "every checkov skip is justified inline" quietly skips_are_justified

# ---- ecr/scripts/upload.sh, in a throw-away repository ------------------------

upload_behaves() (
  local repo status out registry=123456789012.dkr.ecr.eu-west-1.amazonaws.com upload
  repo=$(mktemp -d)
  trap 'rm -rf "$repo"' EXIT
  upload=$repo/$deploy/ecr/scripts/upload.sh
  mkdir -p "$repo/$deploy/ecr/scripts" "$repo/$ecs_root" "$repo/starter/apps"
  cp "$deploy/ecr/scripts/upload.sh" "$upload"
  printf 'ARG BINARY=order-api\nFROM scratch AS runtime\n' >"$repo/starter/apps/Dockerfile"
  printf 'terraform.tfvars\n' >"$repo/.gitignore"
  git -C "$repo" init -q
  git -C "$repo" -c user.name=check -c user.email=check@localhost add -A
  git -C "$repo" -c user.name=check -c user.email=check@localhost commit -qm init
  local sha
  sha=$(git -C "$repo" rev-parse --short=12 HEAD)

  out=$(cd / && "$upload" --dry-run --registry "$registry" 2>&1) || { echo "$out"; return 1; }
  for image in order-api order-processor; do
    grep -q -- "--build-arg BINARY=$image .*--tag $registry/order-system/$image:$sha --push" <<<"$out" ||
      { echo "no push of $image:$sha (run from /):"; echo "$out"; return 1; }
  done
  ! grep -q -- 'BINARY=orderctl' <<<"$out" || { echo "orderctl pushed by default: $out"; return 1; }
  grep -q -- '--platform linux/amd64 ' <<<"$out" || { echo "not the default instances' linux/amd64 alone: $out"; return 1; }
  grep -q -- '--target runtime' <<<"$out" || { echo "not the runtime stage: $out"; return 1; }
  ! grep -qi 'latest' <<<"$out" || { echo "mentions latest: $out"; return 1; }

  # Graviton instances in the ECS variables: arm64 alone; both on request; orderctl on request.
  printf 'instance_type = "t4g.micro"\n' >"$repo/$ecs_root/terraform.tfvars"
  out=$("$upload" --dry-run --registry "$registry" 2>&1) || { echo "$out"; return 1; }
  grep -q -- '--platform linux/arm64 ' <<<"$out" || { echo "t4g.micro instances did not select linux/arm64: $out"; return 1; }
  out=$("$upload" --dry-run --registry "$registry" --platforms linux/amd64,linux/arm64 --images "order-api orderctl" 2>&1) ||
    { echo "$out"; return 1; }
  grep -q -- '--platform linux/amd64\\,linux/arm64' <<<"$out" || { echo "--platforms not honoured: $out"; return 1; }
  grep -q -- "--build-arg BINARY=orderctl .*--tag $registry/order-system/orderctl:$sha --push" <<<"$out" ||
    { echo "--images orderctl not honoured: $out"; return 1; }

  echo change >>"$repo/starter/apps/Dockerfile"
  out=$("$upload" --dry-run --registry "$registry" 2>&1) && status=0 || status=$?
  [[ $status -ne 0 && $out == *"uncommitted changes"* ]] || { echo "a dirty tree was not refused ($status): $out"; return 1; }
  out=$("$upload" --dry-run --allow-dirty --registry "$registry" 2>&1) || { echo "$out"; return 1; }
  grep -qE -- "--tag $registry/order-system/order-api:$sha-dirty-[0-9]{14} " <<<"$out" ||
    { echo "--allow-dirty did not tag <sha>-dirty-<time>: $out"; return 1; }

  out=$("$upload" --dry-run --registry "not-a-registry" 2>&1) && status=0 || status=$?
  [[ $status -ne 0 && $out == *"must look like"* ]] || { echo "a bad registry was not refused: $out"; return 1; }

  printf 'FROM scratch\n' >"$repo/starter/apps/Dockerfile"
  out=$("$upload" --dry-run --allow-dirty --registry "$registry" 2>&1) && status=0 || status=$?
  [[ $status -ne 0 && $out == *"ARG BINARY"* ]] || { echo "a Dockerfile without ARG BINARY was not refused: $out"; return 1; }
  echo "tags :$sha from any directory, the instances' architecture and the two services by default, refuses dirty trees, bad registries and a foreign Dockerfile"
)
check "ecr/scripts/upload.sh: git-revision tags, never latest, the instances' architecture, dirty refused" quietly upload_behaves

# The real Dockerfile must keep the contract upload.sh relies on.
dockerfile_contract() {
  local dockerfile=starter/apps/Dockerfile
  [[ -f $dockerfile ]] || { echo "$dockerfile is missing"; return 1; }
  grep -Eq '^ARG BINARY(=|$)' "$dockerfile" || { echo "$dockerfile lost ARG BINARY"; return 1; }
  grep -Eiq '^FROM .+ AS runtime$' "$dockerfile" || { echo "$dockerfile lost its runtime stage"; return 1; }
}
check "starter/apps/Dockerfile: ARG BINARY and a runtime stage" quietly dockerfile_contract

# ---- validate and terraform test (mocked provider) ---------------------------

# The roots are copied so init writes no .terraform or lock file into the
# source tree; schema.rs comes along because a test compares the tables to it.
prepare_workspace() {
  rm -rf "$work"
  mkdir -p "$work/$deploy" "$work/starter/apps/order-common/src/storage"
  cp -r "$deploy/." "$work/$deploy/"
  cp starter/apps/order-common/src/storage/schema.rs "$work/starter/apps/order-common/src/storage/"
  find "$work" \( -name .terraform -o -name '.terraform.lock.hcl' -o -name '*.tfstate*' -o -name terraform.tfvars \) -prune -exec rm -rf {} +
}

init_validate() (
  cd "$1" && terraform init -backend=false -input=false >/dev/null && terraform validate -no-color
)

# terraform_test DIR: `terraform test` in DIR, its output without the passing
# runs (so a failure's lines are what quietly shows), its exit status
# terraform's: the filter never decides the result. Its own summary is
# "Success! N passed, 0 failed." or "Failure! N passed, N failed."
terraform_test() {
  local out status=0
  out=$(cd "$1" && terraform test -no-color 2>&1) || status=$?
  grep -vE '^  run .*\.\.\. pass$' <<<"$out"
  return "$status"
}

# The check above must fail when terraform test fails, whatever it prints: a
# stand-in terraform that fails one run proves it (it once took grep's status).
terraform_test_failure_fails() (
  local stub status=0
  stub=$(mktemp -d)
  trap 'rm -rf "$stub"' EXIT
  printf '#!/usr/bin/env bash\necho "  run \\"a\\"... pass"\necho "  run \\"b\\"... fail"\necho "Failure! 1 passed, 1 failed."\nexit 1\n' >"$stub/terraform"
  chmod +x "$stub/terraform"
  PATH="$stub:$PATH" terraform_test "$stub" >"$stub/out" || status=$?
  ((status == 1)) || { echo "a failing terraform test gave status $status"; cat "$stub/out"; return 1; }
  grep -q '^Failure! 1 passed, 1 failed\.$' "$stub/out" || { echo "the failure summary was filtered out:"; cat "$stub/out"; return 1; }
  ! grep -q '\.\.\. pass$' "$stub/out" || { echo "passing runs were not filtered out"; return 1; }
  echo "a failing terraform test fails its check and keeps its summary"
)
check "terraform test's filter keeps terraform's failure" quietly terraform_test_failure_fails

if $provider; then
  prepare_workspace
  for module_root in "${roots[@]}"; do
    check "init + validate $module_root" quietly init_validate "$work/$module_root"
  done
  for module_root in "${roots[@]}"; do
    check "terraform test $module_root" quietly terraform_test "$work/$module_root"
  done
fi

# ---- apply + destroy against moto --------------------------------------------

# moto coverage (moto $MOTO_VERSION with the AWS provider 5.100):
#   ECR root, bootstrap-state root: everything.
#   ECS root: everything except the service auto scaling target and policy
#     (moto's Application Auto Scaling lacks ListTagsForResource, which the
#     provider calls after creating them), so the ECS root is applied with
#     -target on every module and on the two aws_ecs_service resources.
#   ECS root, CloudFront: moto has no VPC origins, so the run sets
#     cloudfront_enabled = false (an internet-facing ALB); terraform test
#     covers the CloudFront module with the mocked provider.
ecs_targets=(
  -target=module.network -target=module.security_groups -target=module.dynamodb
  -target=module.iam -target=module.ecs_cluster -target=module.service_discovery
  -target=module.alb -target=module.order_api.aws_ecs_service.this
  -target=module.order_processor.aws_ecs_service.this -target=module.alarms
  -target=module.processor_tokens
)
moto_region=us-east-1
images="{order_api=\"123456789012.dkr.ecr.$moto_region.amazonaws.com/order-system/order-api:3f2c1e9a7b4d\",order_processor=\"123456789012.dkr.ecr.$moto_region.amazonaws.com/order-system/order-processor:3f2c1e9a7b4d\"}"

start_moto() {
  python_venv "$tools/moto" "moto[server]==$MOTO_VERSION" || return 1
  moto_port=$(free_port)
  moto_endpoint=http://127.0.0.1:$moto_port
  "$tools/moto/bin/python" "$root/$ecs_root/tests/moto/moto_server.py" "$moto_port" >"$tools/moto.log" 2>&1 &
  moto_pid=$!
  local tries=0
  until curl -s -o /dev/null "$moto_endpoint/moto-api/"; do
    ((tries++ < 50)) || { echo "moto did not start:"; cat "$tools/moto.log"; return 1; }
    kill -0 "$moto_pid" 2>/dev/null || { cat "$tools/moto.log"; return 1; }
    sleep 0.2
  done
  echo "moto $MOTO_VERSION on $moto_endpoint"
}

# tf LOG ARGS...: runs terraform, its output in LOG; shows the end of it on failure.
tf() {
  local log=$1
  shift
  terraform "$@" -no-color >"$log" 2>&1 || { tail -n 40 "$log"; return 1; }
  grep -E '^(Apply|Destroy) complete' "$log" || true
}

# moto_root ROOT: a copy of ROOT whose provider talks to moto.
moto_root() {
  local copy
  copy=$work/moto/${1#"$work"/}
  rm -rf "$copy"
  mkdir -p "$copy"
  cp -r "$1/." "$copy/"
  cp "$root/$ecs_root/tests/moto/provider_override.tf" "$root/$ecs_root/tests/moto/moto_endpoint.tf" "$copy/"
  (cd "$copy" && terraform init -backend=false -input=false >/dev/null) || return 1
  echo "$copy"
}

moto_ecs() (
  local copy verify=("$tools/moto/bin/python" "$root/$ecs_root/tests/moto/verify.py" "$moto_endpoint" "$moto_region" order-system)
  copy=$(moto_root "$work/$ecs_root") || return 1
  cd "$copy" || return 1
  local issuer="https://cognito-idp.$moto_region.amazonaws.com/${moto_region}_Example1"
  local vars=(-var "moto_endpoint=$moto_endpoint" -var "aws_region=$moto_region" -var "images=$images"
    -var "auth_issuer=$issuer" -var "auth_audience=order-api" -var "auth_jwks_url=$issuer/.well-known/jwks.json"
    -var "cloudfront_enabled=false")
  tf apply.log apply -auto-approve "${vars[@]}" "${ecs_targets[@]}" || return 1
  "${verify[@]}" applied || return 1
  # Orders take stock; the next plan must not put it back.
  "${verify[@]}" stock-taken || return 1
  terraform plan -detailed-exitcode -no-color "${vars[@]}" -target=module.dynamodb >plan.log ||
    { echo "the plan after an order wants to change the tables or seed items:"; grep -E '^\s+[#~+-]' plan.log; return 1; }
  echo "ok   the plan leaves the seed stock to the application"
  tf destroy.log destroy -auto-approve "${vars[@]}" "${ecs_targets[@]}" || return 1
  "${verify[@]}" destroyed
)

# The ECR root, destroyed by the script users run (with a repository holding
# nothing: moto stores no images).
moto_ecr() (
  local copy
  copy=$(moto_root "$work/$deploy/ecr/terraform") || return 1
  cp -r "$root/$deploy/ecr/scripts" "$(dirname "$copy")/"
  printf 'moto_endpoint = "%s"\naws_region = "%s"\n' "$moto_endpoint" "$moto_region" >"$copy/moto.tfvars"
  (cd "$copy" && tf apply.log apply -auto-approve -var-file=moto.tfvars) || return 1
  TERRAFORM_ECR_VAR_FILE=$copy/moto.tfvars "$(dirname "$copy")/scripts/cleanup.sh" -auto-approve -no-color >"$copy/destroy.log" 2>&1 ||
    { tail -n 40 "$copy/destroy.log"; return 1; }
  grep -E '^Destroy complete' "$copy/destroy.log"
  [[ -z $(terraform -chdir="$copy" state list) ]] || { echo "state not empty after cleanup.sh"; return 1; }
)

moto_simple() ( # ROOT: full apply and destroy
  local copy
  copy=$(moto_root "$work/$1") || return 1
  cd "$copy" || return 1
  local vars=(-var "moto_endpoint=$moto_endpoint" -var "aws_region=$moto_region")
  tf apply.log apply -auto-approve "${vars[@]}" || return 1
  terraform output -no-color
  tf destroy.log destroy -auto-approve "${vars[@]}" || return 1
  [[ -z $(terraform state list) ]] || { echo "state not empty after destroy"; return 1; }
)

if $provider; then
  moto_pid=
  if check "moto server" quietly start_moto; then
    trap '[[ -n $moto_pid ]] && kill "$moto_pid" 2>/dev/null' EXIT
    check "moto: $deploy/ecr/terraform apply + scripts/cleanup.sh" quietly moto_ecr
    check "moto: $deploy/ecs-ec2/bootstrap-state apply + destroy" quietly moto_simple "$deploy/ecs-ec2/bootstrap-state"
    check "moto: $ecs_root apply (all but service auto scaling) + verify + destroy" quietly moto_ecs
    kill "$moto_pid" 2>/dev/null
    moto_pid=
  fi
else
  echo "SKIP validate, terraform test, moto apply/destroy: no AWS provider (registry unreachable, no TERRAFORM_PROVIDER_MIRROR)"
fi

summary
