#!/usr/bin/env bash
# upload.sh: builds the order system's images and pushes them to ECR, tagged
# with the git revision.
#
#   deliverables/deploy/ecr/scripts/upload.sh [--registry HOST] [options]
#
# Runs from any directory. The tag is the short git revision (12 hex digits)
# of HEAD, never "latest": the repositories are immutable, so a tag always
# names one image and task definitions pin exactly what they run. A build
# from uncommitted changes in starter/apps (the build context) is refused,
# unless --allow-dirty, which tags it <revision>-dirty-<UTC time> so it can
# never be mistaken for (or collide with) a committed build.
#
# It relies on starter/apps/Dockerfile taking a BINARY build argument
# (order-api, order-processor, orderctl) and having a final stage named
# "runtime"; it checks both before building.
#
# Options:
#   --registry HOST      <account>.dkr.ecr.<region>.amazonaws.com; default: the
#                        `registry` output of ../terraform's Terraform state
#   --prefix PREFIX      repository namespace (default order-system)
#   --images "A B"       images to build (default: order-api order-processor, the
#                        two ECS runs; add orderctl to push the CLI too)
#   --platforms LIST     buildx platforms (default: the ECS instances' own,
#                        linux/arm64 when ecs-ec2/terraform/terraform.tfvars sets a
#                        Graviton instance_type such as t4g.micro, else linux/amd64;
#                        linux/amd64,linux/arm64 for both)
#   --allow-dirty        build uncommitted changes (tag <revision>-dirty-<time>)
#   --dry-run            print the commands instead of running them
#
# Needs: git, docker with buildx (a docker-container builder is created for
# multi-platform builds; building for another architecture runs under
# emulation, takes tens of minutes, and needs QEMU binfmt, e.g.
# `docker run --privileged --rm tonistiigi/binfmt --install arm64`), the AWS
# CLI v2 with credentials allowed to push to the repositories.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=order-system
images="order-api order-processor"
platforms=
registry=${ECR_REGISTRY:-}
allow_dirty=false
dry_run=false
builder=order-system-multiarch

die() { echo "upload.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while (($# > 0)); do
  case "$1" in
    --registry) registry=${2:?--registry needs a value}; shift 2 ;;
    --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
    --images) images=${2:?--images needs a value}; shift 2 ;;
    --platforms) platforms=${2:?--platforms needs a value}; shift 2 ;;
    --allow-dirty) allow_dirty=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# run CMD...: runs it, or prints it with --dry-run.
run() {
  if $dry_run; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

repo_root=$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null) ||
  die "not inside a git checkout: the image tag is the git revision"
context=$repo_root/starter/apps
dockerfile=$context/Dockerfile

[[ -f $dockerfile ]] || die "$dockerfile is missing"
grep -Eq '^ARG BINARY(=|$)' "$dockerfile" ||
  die "$dockerfile has no 'ARG BINARY': this script builds one image per binary with --build-arg BINARY=<name>"
grep -Eiq '^FROM .+ AS runtime$' "$dockerfile" ||
  die "$dockerfile has no stage named 'runtime' (built with --target runtime)"

[[ -n ${images//[[:space:]]/} ]] || die "--images needs at least one of order-api, order-processor, orderctl"
for image in $images; do
  case "$image" in
    order-api | order-processor | orderctl) ;;
    *) die "unknown image '$image' (order-api, order-processor, orderctl)" ;;
  esac
done

if [[ -z $registry ]]; then
  terraform_dir=$(cd "$script_dir/../terraform" && pwd)
  registry=$(terraform -chdir="$terraform_dir" output -raw registry 2>/dev/null) ||
    die "no --registry given and no Terraform state with a 'registry' output in $terraform_dir (make ecr-apply first)"
fi
# In a variable: bash 3.2 cannot parse a regex with groups written inline.
registry_pattern='^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$'
[[ $registry =~ $registry_pattern ]] ||
  die "--registry must look like 123456789012.dkr.ecr.eu-west-1.amazonaws.com, not '$registry'"
region=${BASH_REMATCH[1]}

# Only the architecture the instances run, unless asked: the other one would
# build under emulation for nothing.
if [[ -z $platforms ]]; then
  ecs_tfvars=$repo_root/deliverables/deploy/ecs-ec2/terraform/terraform.tfvars
  instance_type=t3.micro # the ECS deployment's default
  if [[ -f $ecs_tfvars ]]; then
    set_type=$(sed -n 's/^[[:space:]]*instance_type[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$ecs_tfvars" | tail -n 1)
    instance_type=${set_type:-$instance_type}
  fi
  # Graviton families carry a "g" after the generation: t4g, m7g, c7gn, g5g.
  if [[ $instance_type =~ ^[a-z]+[0-9]+[a-z]*g[a-z]*\. ]]; then platforms=linux/arm64; else platforms=linux/amd64; fi
  echo "platform $platforms, for ECS instances of type $instance_type (--platforms to change)"
fi

revision=$(git -C "$repo_root" rev-parse HEAD)
tag=$(git -C "$repo_root" rev-parse --short=12 HEAD)
# Anything git would not check out as-is changes the image: modified, staged
# or untracked (not ignored) files in the build context.
changes=$(git -C "$repo_root" status --porcelain --untracked-files=normal -- starter/apps)
if [[ -n $changes ]]; then
  $allow_dirty || die "starter/apps has uncommitted changes; commit them, or pass --allow-dirty to push a -dirty tag:
$changes"
  tag=$tag-dirty-$(date -u +%Y%m%d%H%M%S)
fi

echo "building ${images// /, } for $platforms as :$tag (revision $revision)"

if ! $dry_run; then
  command -v docker >/dev/null || die "docker is not installed"
  docker buildx version >/dev/null 2>&1 || die "docker buildx is not available"
  command -v aws >/dev/null || die "the AWS CLI is not installed"
fi

run bash -c "set -o pipefail; aws ecr get-login-password --region $region | docker login --username AWS --password-stdin $registry"
# The default "docker" driver cannot build several platforms into one
# manifest list; a docker-container builder can.
if $dry_run || ! docker buildx inspect "$builder" >/dev/null 2>&1; then
  run docker buildx create --name "$builder" --driver docker-container --bootstrap
fi

pushed=()
for image in $images; do
  reference=$registry/$prefix/$image:$tag
  # Immutable tags: pushing the same revision twice would fail, so a rerun
  # skips what is already there.
  if ! $dry_run && aws ecr describe-images --region "$region" --repository-name "$prefix/$image" \
    --image-ids "imageTag=$tag" >/dev/null 2>&1; then
    echo "$reference already exists: skipped"
    pushed+=("$reference")
    continue
  fi
  run docker buildx build \
    --builder "$builder" \
    --platform "$platforms" \
    --file "$dockerfile" \
    --target runtime \
    --build-arg "BINARY=$image" \
    --build-arg "REVISION=$revision" \
    --tag "$reference" \
    --push \
    "$context"
  pushed+=("$reference")
done

echo
if $dry_run; then echo "would push:"; else echo "pushed:"; fi
# ${a[@]+...}: an empty array under set -u aborts bash 3.2 (macOS).
printf '  %s\n' ${pushed[@]+"${pushed[@]}"}
if [[ " $images " == *" order-api "* && " $images " == *" order-processor "* ]]; then
  echo
  echo "for deliverables/deploy/ecs-ec2/terraform/terraform.tfvars:"
  echo "images = {"
  echo "  order_api       = \"$registry/$prefix/order-api:$tag\""
  echo "  order_processor = \"$registry/$prefix/order-processor:$tag\""
  echo "}"
fi
