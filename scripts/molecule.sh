#!/usr/bin/env bash
# `make molecule [SCENARIO=default]`: runs a Molecule scenario. `default` runs on the project's own
# cluster and registry (this script points the playbooks at them); `kind` on kind's published node
# image, with the kubeconfig in Molecule's ephemeral directory and the registry the user names.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$PATH"
scenario="${1:-default}"
if [[ "$scenario" != kind ]]; then
  # shellcheck source=scripts/local-env.sh
  source "$ROOT/scripts/local-env.sh"
fi
exec molecule test --scenario-name "$scenario"
