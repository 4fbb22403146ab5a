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
  # A first run builds for a while: each step's task header says when the previous one ended and
  # how long it took, and the recap lists the slowest steps.
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=8 \
    ansible-playbook playbooks/cluster.yml
fi
exec ansible-playbook deploy.yml -i "inventories/$ENVIRONMENT" "${@:2}"
