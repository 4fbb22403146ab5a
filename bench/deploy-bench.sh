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
# timed_build IMAGE_TAG CACHE_TAG: one playbooks/build.yml run; its wall time goes to $times, the
# bytes it added to the registry to $pushed.
timed_build() {
  local before t
  before=$(registry_bytes); t=$(now)
  playbook playbooks/build.yml -i inventories/local -e image_tag="$1" -e image_cache_tag="$2"
  times+=("$(since "$t")"); pushed+=("$(( $(registry_bytes) - before ))")
}
# report LABEL: the median of $times and of $pushed, and every run; sets $result to that median.
report() {
  result=$(median "${times[@]}")
  printf '%-27s %6ss  %10s bytes pushed  (runs: %s)\n' "$1:" "$result" "$(median "${pushed[@]}")" "${times[*]}"
}

echo "== image build (Debian flavour, local registry)"
times=(); pushed=()
for sample in $(seq "$SAMPLES"); do
  docker builder prune -af >/dev/null
  timed_build "bench-cold-$$-$sample" "bench-cache-$$-$sample"
done
report "cold build+push"; cold=$result
times=(); pushed=()
for sample in $(seq "$SAMPLES"); do
  echo "// bench $$ $sample" >> examples/laravel-app/routes/api.php
  timed_build "bench-change-$$-$sample" "bench-cache-$$-$SAMPLES"
done
git checkout -q -- examples/laravel-app
report "one-file change build+push"; rebuild=$result
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
