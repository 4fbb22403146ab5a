#!/usr/bin/env bash
# Prints which local cluster to bring up: `kind` (kind's published node image) where the kind CLI
# is on PATH and a Docker engine answers, as on a laptop that can pull that image; else `local`
# (kind from the node image assembled here, cluster/kind). The role local_cluster and
# scripts/molecule.sh both ask it, so the two cannot choose differently. Why it chose goes to
# stderr, which the role prints.
#
# Usage: scripts/cluster-provider.sh [auto|kind|local]
#   (default: $LARAVEL_OPS_CLUSTER_PROVIDER, else auto; kind or local is printed as asked)
set -euo pipefail
asked="${1:-${LARAVEL_OPS_CLUSTER_PROVIDER:-auto}}"
# chosen PROVIDER WHY
chosen() { echo "$1"; echo "$2" >&2; }
overrides="LARAVEL_OPS_CLUSTER_PROVIDER=kind or local overrides"
case "$asked" in
  kind | local) chosen "$asked" "asked for: LARAVEL_OPS_CLUSTER_PROVIDER (or the role variable local_cluster_provider) is $asked" ;;
  auto)
    if command -v kind >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
      chosen kind "the kind CLI and a Docker engine answer; $overrides"
    else
      chosen local "the kind CLI and a Docker engine do not both answer; $overrides"
    fi
    ;;
  *)
    echo "LARAVEL_OPS_CLUSTER_PROVIDER is '$asked'; allowed: auto, kind, local" >&2
    exit 2
    ;;
esac
