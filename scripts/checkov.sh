#!/usr/bin/env bash
# checkov on what the collection ships: the chart rendered for every environment (from the values
# playbooks/render.yml writes, offline), the log collector's manifest where an environment enables
# it, and every Dockerfile under docker/. Prints per scan the
# passed/failed/skipped counts and exits non-zero on any failed check (or a render that fails).
#
# checkov runs in a virtualenv of its own (its pins clash with ansible's), cached by version
# under ${LARAVEL_OPS_CACHE:-~/.cache/laravel-ops}; it never asks Prisma Cloud (--skip-download).
#
# The manifests are those a deploy applies:
# - the release role pins every image by digest (release_require_digest), from the image build or
#   the registry; render.yml has neither here, so each image variable of the inventory gets a
#   placeholder digest, as an inventory may give one (prod refuses to render without);
# - the Prometheus Operator's APIs are served (ServiceMonitor, PrometheusRule);
# - prod also applies the plain migration Job before its rollout (migrations role), rendered as
#   that role does.
# Chart findings are fixed in the chart; the only skips are the chart's own
# `checkov.io/skip<N>` annotations, where the project's fixed UIDs mandate them.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
CHECKOV_VERSION=3.3.30
PYTHON="${PYTHON:-python3}"
VENV="$CACHE/venv-checkov-$CHECKOV_VERSION"
TOOLS_PYTHON="$ROOT/.tools/venv/bin/python"
HELM="$ROOT/.tools/bin/helm"
[[ -x "$HELM" ]] || HELM="$(command -v helm)"

# Dockerfile checks skipped in every Dockerfile scan, each with the reason the seed mandates it.
# Keep it empty unless a finding is mandated by the seed's fixed numbers: any other Dockerfile
# finding is fixed in docker/ (whose owner gets the report), not skipped here.
DOCKERFILE_SKIP_CHECKS=(
)

# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"
cached_venv "$VENV" "checkov==$CHECKOV_VERSION"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Nothing here may reach a cluster: any task that tried would fail on this port.
cat > "$WORK/kubeconfig" <<'YAML'
apiVersion: v1
kind: Config
clusters: [{name: unreachable, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: nobody, user: {token: unused}}]
contexts: [{name: unreachable, context: {cluster: unreachable, user: nobody}}]
current-context: unreachable
YAML
export K8S_AUTH_KUBECONFIG="$WORK/kubeconfig" KUBECONFIG="$WORK/kubeconfig"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg" ANSIBLE_NOCOLOR=1
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$PATH"
cd "$ROOT"

summary=()
failures=0

# checkov over a directory or files: lists each failed and skipped check, and records
# "<label>: passed N, failed N, skipped N".
scan() {
  local label="$1" report="$2"; shift 2
  local rc=0
  "$VENV/bin/checkov" --skip-download -o json "$@" > "$report" 2> "$report.stderr" || rc=$?
  local counts
  if ! counts="$("$TOOLS_PYTHON" - "$report" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
total = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
for report in reports:
    for key in total:
        total[key] += int(report.get("summary", {}).get(key, 0))
    results = report.get("results", {})
    for check in results.get("failed_checks", []):
        lines = "-".join(str(n) for n in check.get("file_line_range") or [])
        print(f"  FAILED  {check['check_id']} {check['check_name']}: {check['resource']} "
              f"({check['file_path'].lstrip('/')}:{lines})", file=sys.stderr)
    for check in results.get("skipped_checks", []):
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        print(f"  skipped {check['check_id']}: {check['resource']}: {reason}", file=sys.stderr)
print(total["passed"], total["failed"], total["skipped"], total["parsing_errors"], total["resource_count"])
PY
  )"; then
    tail -n 20 "$report.stderr"
    summary+=("$label: no result from checkov (exit $rc)")
    failures=$((failures + 1))
    return
  fi
  local passed failed skipped errors resources
  read -r passed failed skipped errors resources <<<"$counts"
  printf '  passed %s, failed %s, skipped %s, parsing errors %s, resources %s\n' \
    "$passed" "$failed" "$skipped" "$errors" "$resources"
  summary+=("$label: passed $passed, failed $failed, skipped $skipped ($resources resources)")
  if (( failed > 0 || errors > 0 || resources == 0 )); then
    failures=$((failures + 1))
  fi
}

for inventory in inventories/*/; do
  env="$(basename "$inventory")"
  [[ -f "$inventory/group_vars/all/backend.yml" ]] || continue
  out="$WORK/$env"
  mkdir -p "$out/manifests"
  printf '\n==> %s: render\n' "$env"

  # The inventory's image variables with a placeholder digest each, and where the release goes.
  ansible-inventory -i "$inventory" --list > "$out/inventory.json"
  "$TOOLS_PYTHON" - "$out/inventory.json" "$out/pins.json" "$out/release" <<'PY'
import json, sys
hostvars = json.load(open(sys.argv[1]))["_meta"]["hostvars"]
(host, variables), = hostvars.items()
pins = {}
for index, name in enumerate(("backend_php_image", "backend_nginx_image", "backend_pgbouncer_image", "log_collector_image")):
    image = variables.get(name)
    if isinstance(image, dict):
        pins[name] = dict(image, digest="sha256:" + "%x" % (10 + index) * 64)
json.dump(pins, open(sys.argv[2], "w"))
open(sys.argv[3], "w").write("%s %s\n" % (variables.get("backend_release_name", "backend"),
                                          variables.get("backend_namespace", "backend")))
PY
  read -r release namespace < "$out/release"

  if ! ansible-playbook playbooks/render.yml -i "$inventory" -e "render_output_dir=$out" -e "@$out/pins.json" \
       > "$out/render.log" 2>&1; then
    tail -n 30 "$out/render.log"
    summary+=("$env: render.yml failed")
    failures=$((failures + 1))
    continue
  fi
  helm_args=(template "$release" charts/backend --namespace "$namespace" -f "$out/values-$env.yaml"
             --api-versions monitoring.coreos.com/v1/ServiceMonitor
             --api-versions monitoring.coreos.com/v1/PrometheusRule)
  if ! "$HELM" "${helm_args[@]}" > "$out/manifests/release.yaml"; then
    summary+=("$env: helm template failed")
    failures=$((failures + 1))
    continue
  fi
  if [[ "$env" == prod ]]; then
    # The Job the prod deploy applies before the rollout (migrations role).
    if ! "$HELM" "${helm_args[@]}" --show-only templates/migrations-job.yaml \
         --set migrations.enabled=true,migrations.hook=false,migrations.nameSuffix=checkov \
         > "$out/manifests/migrations-job.yaml"; then
      summary+=("$env: helm template of the migration Job failed")
      failures=$((failures + 1))
      continue
    fi
  fi
  # The log collector's ConfigMap and DaemonSet, where the inventory enables it (render.yml).
  if [[ -f "$out/log-collector-$env.yaml" ]]; then cp "$out/log-collector-$env.yaml" "$out/manifests/"; fi
  printf '==> %s: checkov --framework kubernetes\n' "$env"
  scan "$env (kubernetes)" "$out/checkov.json" --framework kubernetes -d "$out/manifests"
done

printf '\n==> Dockerfiles: checkov --framework dockerfile\n'
dockerfiles=()
while IFS= read -r file; do dockerfiles+=(-f "$file"); done < <(find docker -type f -name 'Dockerfile*' ! -name '*.dockerignore' | sort)
skip_args=()
if (( ${#DOCKERFILE_SKIP_CHECKS[@]} )); then
  skip_args=(--skip-check "$(IFS=,; echo "${DOCKERFILE_SKIP_CHECKS[*]}")")
fi
scan "Dockerfiles ($(( ${#dockerfiles[@]} / 2 )) files)" "$WORK/dockerfiles.json" --framework dockerfile \
  "${skip_args[@]}" "${dockerfiles[@]}"

printf '\n==> checkov summary\n'
printf '  %s\n' "${summary[@]}"
if (( failures > 0 )); then
  printf 'checkov: %d scan(s) with failures\n' "$failures"
  exit 1
fi
printf 'checkov: no failed check\n'
