#!/usr/bin/env bash
# `make deploy [ENV=local]`: deploys the backend with inventories/$ENV. For local, when no cluster
# is configured (K8S_AUTH_KUBECONFIG / KUBECONFIG unset), it first brings up the project's own
# cluster and registry (playbooks/cluster.yml) and deploys onto them.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ENVIRONMENT="${1:-local}"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"

if [[ "$ENVIRONMENT" == local && -z "${K8S_AUTH_KUBECONFIG:-}${KUBECONFIG:-}" ]]; then
  source "$ROOT/scripts/local-env.sh"
  bash "$ROOT/scripts/cluster.sh"
fi
exec ansible-playbook deploy.yml -i "inventories/$ENVIRONMENT" "${@:2}"
