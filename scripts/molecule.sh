#!/usr/bin/env bash
# `make molecule`: runs the Molecule scenario on the cluster scripts/cluster-provider.sh chooses (as
# the scenario's create step will). On the project's own cluster, it exports that cluster's
# registry credentials first; on kind's published node image, the user's own (see README).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$PATH"
asked="${LARAVEL_OPS_CLUSTER_PROVIDER:-auto}"
if [[ "$("$ROOT/scripts/cluster-provider.sh")" == local ]]; then
  # shellcheck source=scripts/local-env.sh
  source "$ROOT/scripts/local-env.sh"
  # local-env.sh pins the local cluster (for make deploy and make test): the scenario's create
  # step makes the same choice itself and says why.
  export LARAVEL_OPS_CLUSTER_PROVIDER="$asked"
fi
exec molecule test
