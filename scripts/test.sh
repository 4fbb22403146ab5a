#!/usr/bin/env bash
# Runs every check of the collection; each step runs even when an earlier one failed, and the
# summary at the end says which failed. Needs scripts/setup.sh first (make test does both).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"

passed=()
failed=()
step() {
  local name="$1"; shift
  printf '\n==> %s\n' "$name"
  local started=$SECONDS
  if "$@"; then
    passed+=("$name")
    printf '<== %s: passed in %ss\n' "$name" $((SECONDS - started))
  else
    failed+=("$name")
    printf '<== %s: FAILED in %ss\n' "$name" $((SECONDS - started))
  fi
}

# A fresh cluster, whatever ran before (`make deploy`'s release, an earlier run): the live tests
# size their pods and the HPA's ten replicas for the machine's two cores, and a release left
# running there took the CPU their migration Jobs then waited for.
fresh_cluster() {
  bash scripts/cluster.sh -e local_cluster_state=absent && bash scripts/cluster.sh
}
# It comes up in the background, its own process group, while the checks that need no cluster run:
# a cold bring-up is mostly downloads and niced compilers, and those checks mostly use one core.
cluster_log="$(mktemp "${TMPDIR:-/tmp}/laravel-ops-cluster.XXXXXX")"
cluster_started=$SECONDS
set -m
(source "$ROOT/scripts/local-env.sh" && fresh_cluster) >"$cluster_log" 2>&1 &
cluster_pid=$!
set +m
trap 'kill -- "-$cluster_pid" 2>/dev/null; rm -f "$cluster_log"' EXIT
trap 'exit 130' INT TERM

# cluster_ready: its output so far, then as it comes, until it ends; its exit status.
cluster_ready() {
  tail -n +1 -f --pid="$cluster_pid" "$cluster_log"
  wait "$cluster_pid"
  local status=$?
  printf '(the cluster job ran %ss, beside the checks above)\n' $((SECONDS - cluster_started))
  return "$status"
}

step "yamllint" yamllint --strict .
step "ansible-lint (production profile)" ansible-lint --offline --profile production
step "changelog fragments" antsibull-changelog lint
step "helm lint --strict" helm lint --strict charts/backend --values charts/backend/ci/lint-values.yaml
step "checkov (rendered manifests, Dockerfiles)" bash scripts/checkov.sh
step "ansible-test sanity" bash scripts/sanity.sh
step "galaxy-importer (built tarball)" bash scripts/galaxy-importer.sh
step "antsibull-docs (docs lint, docs site)" bash scripts/antsibull-docs.sh
# builds promtool too, which only the chart tests of the PrometheusRule and the dashboard run
step "go tools (psa-check go test, promtool)" bash scripts/build-tools.sh --test
step "pytest (offline)" pytest -ra tools tests/unit tests/chart tests/docker tests/integration

# On a real cluster: the project's own kind cluster (cluster/kind: one control plane, two
# workers, its node image assembled here), the Docker engine, the local registry.
source "$ROOT/scripts/local-env.sh"
# This command brought all of them up: a live test that would skip (a leftover namespace, a missing
# image, an engine not answering) fails instead.
export LARAVEL_OPS_LIVE_SKIPS_FAIL=1
step "a fresh local cluster, registry and image toolchain" cluster_ready
step "execution environment (build and run)" bash scripts/execution-environment.sh
step "pytest (live: images, operator role)" pytest -ra --durations=5 tests/image tests/operator
# -s: each test prints the figures it measured (latencies, seconds to readiness, HPA steps).
step "pytest (live: the backend on pods)" pytest -ra -s --durations=12 tests/live
step "pytest (live: three nodes: spread, drain, a node lost)" pytest -ra -s --durations=5 tests/kind
# Last: Molecule's sequence begins and ends with destroy, so it leaves the machine with neither
# the cluster nor the registry running.
step "molecule default" molecule test --scenario-name default

printf '\n==> summary\n'
for name in "${passed[@]}"; do printf '  passed  %s\n' "$name"; done
for name in "${failed[@]}"; do printf '  FAILED  %s\n' "$name"; done
printf 'checks: %d passed, %d failed\n' "${#passed[@]}" "${#failed[@]}"
[[ ${#failed[@]} -eq 0 ]]
