#!/usr/bin/env bash
# Prints, from one run on the local cluster (make deploy must have brought it up):
#   - cold deploy wall time (namespace and release gone, images already in the registry)
#   - no-op redeploy wall time and its changed count, beside a bare
#     `helm upgrade --install --wait` of the same chart and values, and their ratio: the medians
#     of $SAMPLES runs each, taken in turn so that both see the same machine load
#   - cold image build (empty build cache, no stage cache in the registry) beside a rebuild
#     after a one-file code change, with the bytes each added to the registry, and the ratio of
#     their medians of $SAMPLES runs each
# Not a test: figures only. Usage: bench/deploy-bench.sh
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"
# shellcheck source=scripts/local-env.sh
source "$ROOT/scripts/local-env.sh"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
REGISTRY_DATA="$CACHE/registry/data"
NAMESPACE=backend
RELEASE=backend
SAMPLES="${SAMPLES:-5}"
WORK="$(mktemp -d)"
trap 'git -C "$ROOT" checkout -q -- examples/laravel-app; rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
registry_bytes() { du -sb "$REGISTRY_DATA" | cut -f1; }
playbook() { ansible-playbook "$@" > "$WORK/last.log" 2>&1 || { tail -40 "$WORK/last.log"; exit 1; }; }
deploy() { playbook deploy.yml -i inventories/local "$@"; }
changed_count() { sed -n 's/.*changed=\([0-9]*\).*/\1/p' "$WORK/last.log" | tail -1; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== image build (Debian flavour, local registry)"
colds=(); pushed=()
for sample in $(seq "$SAMPLES"); do
  docker builder prune -af >/dev/null
  before=$(registry_bytes); t=$(now)
  playbook playbooks/build.yml -i inventories/local -e image_tag=bench-cold-$$-$sample -e image_cache_tag=bench-cache-$$-$sample
  colds+=("$(since "$t")"); pushed+=("$(( $(registry_bytes) - before ))")
done
cold=$(median "${colds[@]}")
printf 'cold build+push:            %6ss  %10s bytes pushed  (runs: %s)\n' "$cold" "$(median "${pushed[@]}")" "${colds[*]}"
rebuilds=(); pushed=()
for sample in $(seq "$SAMPLES"); do
  echo "// bench $$ $sample" >> examples/laravel-app/routes/api.php
  before=$(registry_bytes); t=$(now)
  playbook playbooks/build.yml -i inventories/local -e image_tag=bench-change-$$-$sample -e image_cache_tag=bench-cache-$$-$SAMPLES
  rebuilds+=("$(since "$t")"); pushed+=("$(( $(registry_bytes) - before ))")
done
git checkout -q -- examples/laravel-app
rebuild=$(median "${rebuilds[@]}")
printf 'one-file change build+push: %6ss  %10s bytes pushed  (runs: %s)\n' "$rebuild" "$(median "${pushed[@]}")" "${rebuilds[*]}"
awk -v a="$rebuild" -v b="$cold" 'BEGIN { printf "ratio change / cold build:  %6.1f%%  (medians of '"$SAMPLES"')\n", 100 * a / b }'

echo "== deploy"
helm -n "$NAMESPACE" uninstall "$RELEASE" --wait >/dev/null 2>&1 || true
kubectl delete namespace "$NAMESPACE" --wait=true >/dev/null 2>&1 || true
t=$(now); deploy
printf 'cold deploy:                %6ss  changed=%s\n' "$(since "$t")" "$(changed_count)"
helm -n "$NAMESPACE" get values "$RELEASE" -o yaml > "$WORK/values.yaml"
noops=(); bares=(); changes=()
for _ in $(seq "$SAMPLES"); do
  t=$(now); deploy; noops+=("$(since "$t")"); changes+=("$(changed_count)")
  t=$(now)
  helm upgrade --install "$RELEASE" charts/backend -n "$NAMESPACE" -f "$WORK/values.yaml" --wait --timeout 10m > /dev/null
  bares+=("$(since "$t")")
done
noop=$(median "${noops[@]}"); bare=$(median "${bares[@]}")
printf 'no-op redeploy:             %6ss  changed=%s  (runs: %s)\n' "$noop" "$(IFS=,; echo "${changes[*]}")" "${noops[*]}"
printf 'bare helm upgrade --wait:   %6ss  (runs: %s)\n' "$bare" "${bares[*]}"
awk -v a="$noop" -v b="$bare" 'BEGIN { printf "ratio no-op / bare helm:    %6.2f  (medians of %d)\n", a / b, '"$SAMPLES"' }'
