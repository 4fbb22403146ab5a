#!/usr/bin/env bash
# Runs playbooks/cluster.yml (arguments passed on, e.g. -e local_cluster_state=absent) as
# `make deploy`, `make test` and `make down` do. A first run builds for a while: each step's task
# header says how long the step before it took, and the recap lists the slowest steps.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=8
exec ansible-playbook "$ROOT/playbooks/cluster.yml" "$@"
