#!/usr/bin/env bash
# The Minikube path as the reviewer runs it: the bash blocks of
# deliverables/Instructions.md from "How to deploy to MiniKube" to "Clean up",
# in order, from the repository root, with a PATH that has no cargo, rustc or
# apt, and recording stand-ins for docker, minikube, kubectl, helm and curl.
# It then reads the record: the images built into Minikube, the namespace
# made restricted before the install, the chart installed with its defaults
# (no key from this machine), a token minted by the orderctl image in the
# cluster and sent with the request, `helm test` reached, and nothing asked
# of a Rust toolchain or apt.
#
# It cannot replace a real run: the stand-ins answer what a cluster would,
# so it shows the path is complete, not that the cluster accepts it (the e2e
# workflow runs the same commands on Minikube). `make observability-cluster`
# is left out: it needs a live Prometheus answering queries.
# Ends with "N passed, N failed"; exits 1 if any check failed.
set -uo pipefail

# shellcheck source=SCRIPTDIR/../../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
cd "$root" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
record=$work/record
app_version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' deliverables/deploy/kubernetes/charts/microservices/Chart.yaml)
token=eyJ.reviewer-path.token

# stub NAME SCRIPT: a stand-in that records its arguments (and any manifest
# it is given on stdin), then runs SCRIPT.
stub() {
  printf '#!/bin/bash\necho "%s $*" >>"%s"\n%s\n' "$1" "$record" "$2" >"$work/bin/$1"
  chmod +x "$work/bin/$1"
}
# Single-quoted on purpose: the stand-ins expand their variables when they run.
# shellcheck disable=SC2016
{
  for tool in cargo rustc rustup apt apt-get sudo; do stub "$tool" 'exit 127'; done
  stub docker '
case "$1 $2" in
  "version --format") echo "'"$DOCKER_MIN_VERSION"'" ;;
  "info --format") case "$3" in *MemTotal*) echo 8589934592 ;; *NCPU*) echo 8 ;; esac ;;
esac'
  stub minikube '
case "$1" in
  version) echo "v'"$MINIKUBE_MIN_VERSION"'" ;;
  image) if [[ $2 == ls ]]; then for image in order-api order-processor orderctl; do echo "docker.io/library/$image:'"$app_version"'"; done; fi ;;
esac'
  stub kubectl '
case "$1 $*" in
  version*) echo "Client Version: v1.32.0" ;;
  *" --filename -"*|*" -f -"*) cat >>"'"$record"'" ;;
  *" run "*" -- token "*) echo "'"$token"'" ;;
  *" get secret "*) printf password ;;
esac'
  stub helm '[[ $1 == version ]] && echo "v'"$HELM_MIN_VERSION"'"; exit 0'
  stub curl 'echo "{\"status\": \"confirmed\"}"'
}

# The documented commands, in order.
python3 - >"$work/path.sh" <<'EXTRACT'
import re
text = open("deliverables/Instructions.md", encoding="utf-8").read()
section = text.split("## How to deploy to MiniKube", 1)[1].split("## Clean up", 1)[0]
print("set -e")
for block in re.findall(r"```bash\n(.*?)```", section, re.S):
    for line in block.splitlines():
        if line.split("#")[0].strip() == "make observability-cluster":
            print("# left out: " + line)
        else:
            print(line)
EXTRACT

passed=0
failed=0
expect() { # expect DESCRIPTION GREP-PATTERN
  if grep -qE -- "$2" "$record"; then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    echo "FAIL $1 (nothing in the record matches: $2)"
  fi
}

echo "--- the documented commands (Instructions.md, Kubernetes and Helm)"
sed 's/^/    /' "$work/path.sh"
: >"$record"
if env -i HOME="$work" PATH="$work/bin:/usr/bin:/bin" LANG=C bash "$work/path.sh" >"$work/out" 2>&1; then
  passed=$((passed + 1))
  echo "ok   every documented command ran"
else
  failed=$((failed + 1))
  echo "FAIL the documented commands stopped:"
  tail -n 20 "$work/out" | sed 's/^/    /'
fi

expect "Minikube started" '^minikube start '
for image in order-api order-processor orderctl; do
  expect "image $image built into Minikube" "^minikube image build -t $image:$app_version "
done
expect "kube-prometheus-stack installed at its pin" "^helm upgrade --install kube-prometheus-stack kube-prometheus-stack .*--version $KUBE_PROMETHEUS_STACK_VERSION"
expect "the namespace is made restricted before the install" '^    pod-security.kubernetes.io/enforce: restricted$'
expect "the chart installed with its defaults" '^helm upgrade --install microservices deliverables/deploy/kubernetes/charts/microservices --namespace orders '
expect "a customer token minted by the orderctl image in the cluster" "^kubectl .* run .*--image=orderctl:$app_version .* -- token --customer CUST001"
expect "the order request carries that token" "^curl .*Authorization: Bearer $token"
expect "helm test reached" '^helm test microservices --namespace orders'
if grep -qE '^(cargo|rustc|rustup|apt|apt-get|sudo) ' "$record"; then
  failed=$((failed + 1))
  echo "FAIL the path asked for a tool a reviewer does not have:"
  grep -E '^(cargo|rustc|rustup|apt|apt-get|sudo) ' "$record" | sed 's/^/    /'
else
  passed=$((passed + 1))
  echo "ok   no Rust toolchain, apt or root asked for"
fi
if grep -qE '^helm upgrade --install microservices .*(--set-file|jwks)' "$record"; then
  failed=$((failed + 1))
  echo "FAIL the chart was given a key from this machine"
else
  passed=$((passed + 1))
  echo "ok   no key from this machine given to the chart"
fi

echo "$passed passed, $failed failed"
((failed == 0))
