#!/usr/bin/env bash
# `make molecule [SCENARIO=default]`: runs a Molecule scenario against the local cluster.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$PATH"
source "$ROOT/scripts/local-env.sh"
exec molecule test --scenario-name "${1:-default}"
