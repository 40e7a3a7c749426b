#!/usr/bin/env bash
# doctor.sh [TARGET...]: before a deploy, checks that this machine has the tools
# each target needs, at the versions the project supports, and says in one line
# each what is missing and how to fix it.
#
#   native      make dev, make test: Rust (rustup), Java 17+, Node.js and npm,
#               Python PYTHON_MIN_VERSION+, bash 4.4+
#   compose     make compose-up: Docker Engine and the Compose plugin, engine running
#   minikube    make minikube-start, minikube-images: minikube, and a Docker engine that
#               can give the node MINIKUBE_MEMORY and MINIKUBE_CPUS
#   kubernetes  make monitoring-install, helm-install, helm-test: kubectl, helm
#
# Every target also checks GNU make 3.81+ (macOS ships 3.81). The deploy paths
# run on macOS's bash 3.2 and BSD tools; only native needs a newer bash.
#   aws         make ecr-apply, tf-plan ...: Terraform, AWS CLI v2 with a working identity
#   images      make images-push: a running Docker engine with buildx
#
# No TARGET: every target. Minimum versions come from versions.env; the minikube
# check reads MINIKUBE_MEMORY and MINIKUBE_CPUS, which `make doctor` passes with
# make/helm.mk's defaults. SKIP_DOCTOR=1 makes the deploy targets skip it. Ends with
# "N passed, N failed" and exits 1 if anything failed.
set -uo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "ok   $*"
}
problem() {
  failed=$((failed + 1))
  echo "FAIL $*"
}

# first_version TEXT: the first x.y or x.y.z in TEXT.
first_version() { grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' <<<"$1" | head -n 1; }

# need NAME MINIMUM HOW VERSION_COMMAND...: NAME on PATH, at MINIMUM or later.
need() {
  local name=$1 minimum=$2 how=$3 version
  shift 3
  if ! command -v "$name" >/dev/null; then
    problem "$name is missing: $how"
    return 1
  fi
  version=$(first_version "$("$@" 2>&1)")
  if [[ -z $version ]]; then
    problem "$name: cannot read its version ($*): reinstall it: $how"
    return 1
  fi
  if [[ $minimum != - ]] && ! at_least "$version" "$minimum"; then
    problem "$name $version is older than $minimum: upgrade it: $how"
    return 1
  fi
  ok "$name $version"
}

# mebibytes SIZE: minikube's --memory spelling (6g, 6gb, 6144m, 6144mb, 6144,
# any case) in MiB.
mebibytes() {
  local size='^([0-9]+)([a-zA-Z]*)$'
  [[ $1 =~ $size ]] || return 0
  case "${BASH_REMATCH[2]}" in
    [gG] | [gG][bB]) echo $((10#${BASH_REMATCH[1]} * 1024)) ;;
    [mM] | [mM][bB] | '') echo $((10#${BASH_REMATCH[1]})) ;;
  esac
}

# Every target runs through make; macOS's is GNU make 3.81, which is enough.
check_make() {
  local how="install GNU make 3.81+ (macOS: xcode-select --install; Debian/Ubuntu: sudo apt-get install make)" first version
  command -v make >/dev/null || { problem "make is missing: $how"; return 0; }
  first=$(make --version 2>&1)
  first=${first%%$'\n'*}
  version=$(first_version "$first")
  if [[ $first != "GNU Make "* || -z $version ]]; then
    problem "make is not GNU make ($first): $how"
  elif ! at_least "$version" 3.81; then
    problem "make $version is older than 3.81: $how"
  else
    ok "GNU make $version"
  fi
}

docker_engine() {
  local how="install Docker Engine ($DOCKER_MIN_VERSION+) or Docker Desktop: https://docs.docker.com/engine/install/" version
  command -v docker >/dev/null || { problem "docker is missing: $how"; return 1; }
  if ! version=$(docker version --format '{{.Server.Version}}' 2>/dev/null) || [[ -z $version ]]; then
    problem "docker: the engine does not answer: start Docker Desktop, or 'sudo systemctl start docker' (and check 'docker info' works without sudo)"
    return 1
  fi
  if ! at_least "$version" "$DOCKER_MIN_VERSION"; then
    problem "docker engine $version is older than $DOCKER_MIN_VERSION: upgrade it: $how"
    return 1
  fi
  ok "docker engine $version"
}

check_native() {
  echo "--- native (make dev, make test)"
  need cargo - "install Rust with rustup: https://rustup.rs (rust-toolchain.toml picks the version)" cargo --version
  need java 17 "install a JDK or JRE 17+ (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless)" java -version
  need node 20 "install Node.js 20+ (https://nodejs.org, or your package manager)" node --version
  need npm - "install npm with Node.js" npm --version
  need python3 "$PYTHON_MIN_VERSION" "install Python $PYTHON_MIN_VERSION+ with venv (macOS: brew install python; Debian/Ubuntu: sudo apt-get install python3 python3-venv)" python3 --version
  # The contributors' scripts (make dev, make test) expand arrays that may be
  # empty under set -u, which bash 4.4 allows. macOS's /bin/bash is 3.2; the
  # deploy paths run on it, make test refuses it here first.
  need bash 4.4 "install bash 4.4+ first on PATH (macOS: brew install bash)" bash --version
}

check_compose() {
  echo "--- compose (make compose-up)"
  docker_engine || return 0
  local how="install the Compose plugin $DOCKER_COMPOSE_MIN_VERSION+ (Docker Desktop has it; Linux: the docker-compose-plugin package)" version
  version=$(first_version "$(docker compose version --short 2>/dev/null)")
  if [[ -z $version ]]; then
    problem "docker compose is missing: $how"
  elif ! at_least "$version" "$DOCKER_COMPOSE_MIN_VERSION"; then
    problem "docker compose $version is older than $DOCKER_COMPOSE_MIN_VERSION: upgrade it: $how"
  else
    ok "docker compose $version"
  fi
}

check_kubernetes() {
  echo "--- kubernetes (make monitoring-install helm-install helm-test, any cluster)"
  need kubectl - "install kubectl: https://kubernetes.io/docs/tasks/tools/" kubectl version --client
  need helm "$HELM_MIN_VERSION" "install Helm $HELM_MIN_VERSION+: https://helm.sh/docs/intro/install/" helm version --template '{{.Version}}'
}

check_minikube() {
  echo "--- minikube (make minikube-start minikube-images, Docker driver)"
  need minikube "$MINIKUBE_MIN_VERSION" "install minikube $MINIKUBE_MIN_VERSION+: https://minikube.sigs.k8s.io/docs/start/" minikube version --short
  docker_engine || return 0
  local minikube_memory=${MINIKUBE_MEMORY:?run make doctor, which sets MINIKUBE_MEMORY} minikube_cpus=${MINIKUBE_CPUS:?run make doctor, which sets MINIKUBE_CPUS}
  # minikube's Docker driver refuses a node bigger than what Docker itself has.
  local wanted have cpus
  wanted=$(mebibytes "$minikube_memory")
  if [[ -z $wanted ]]; then
    problem "MINIKUBE_MEMORY=$minikube_memory is not a size minikube reads: use e.g. 6g or 6144mb"
    return 0
  fi
  have=$(docker info --format '{{.MemTotal}}' 2>/dev/null)
  if [[ ! $have =~ ^[0-9]+$ ]]; then
    problem "docker: cannot read how much memory it has (docker info --format '{{.MemTotal}}')"
  elif ((have / 1048576 < wanted)); then
    problem "docker has $((have / 1048576)) MiB, MINIKUBE_MEMORY asks for $wanted MiB: give Docker more (Docker Desktop: Settings > Resources > Memory) or run 'make minikube-start MINIKUBE_MEMORY=$((have / 1048576 - 256))mb' (4 GiB is the least that leaves the stack some headroom)"
  else
    ok "docker memory $((have / 1048576)) MiB >= MINIKUBE_MEMORY $minikube_memory"
  fi
  cpus=$(docker info --format '{{.NCPU}}' 2>/dev/null)
  if [[ ! $cpus =~ ^[0-9]+$ ]]; then
    problem "docker: cannot read how many CPUs it has (docker info --format '{{.NCPU}}')"
  elif ((cpus < minikube_cpus)); then
    problem "docker has $cpus CPUs, MINIKUBE_CPUS asks for $minikube_cpus: run 'make minikube-start MINIKUBE_CPUS=$cpus' or give Docker more CPUs"
  else
    ok "docker CPUs $cpus >= MINIKUBE_CPUS $minikube_cpus"
  fi
}

check_aws() {
  echo "--- aws (make ecr-apply tf-plan tf-apply)"
  need terraform "$TERRAFORM_MIN_VERSION" "install Terraform $TERRAFORM_MIN_VERSION+: https://developer.hashicorp.com/terraform/install" terraform version
  if need aws 2.0.0 "install AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" aws --version; then
    local identity
    if identity=$(aws sts get-caller-identity --query Arn --output text 2>&1); then
      ok "aws identity $identity"
    else
      problem "aws: no working identity ($(head -n 1 <<<"$identity")): run 'aws configure sso' or 'aws configure', or set AWS_PROFILE"
    fi
  fi
}

check_images() {
  echo "--- images (make images-push)"
  docker_engine || return 0
  if docker buildx version >/dev/null 2>&1; then
    ok "docker buildx $(first_version "$(docker buildx version)")"
  else
    problem "docker buildx is missing (images-push builds with it): install Docker Desktop, or the docker-buildx-plugin package"
  fi
}

(($# > 0)) || set -- native compose minikube kubernetes aws images
for target in "$@"; do
  case "$target" in
    native | compose | minikube | kubernetes | aws | images) ;;
    *)
      echo "unknown target '$target': use native, compose, minikube, kubernetes, aws or images" >&2
      exit 2
      ;;
  esac
done
echo "--- make (every target)"
check_make
for target in "$@"; do
  "check_$target"
done
echo "$passed passed, $failed failed"
((failed == 0))
