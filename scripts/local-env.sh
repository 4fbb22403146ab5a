# Sourced: points kubectl, helm and the kubernetes.core modules at the project's local cluster (the
# one of the node image built here, which the local inventory and the live tests are made for,
# even where kind's published node image could run), and the image role at the local registry's
# credentials.
export LARAVEL_OPS_CLUSTER_PROVIDER=local
_laravel_ops_cache="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
export K8S_AUTH_KUBECONFIG="${LARAVEL_OPS_CLUSTER_DIR:-/var/lib/laravel-ops-cluster}/admin.kubeconfig"
export KUBECONFIG="$K8S_AUTH_KUBECONFIG"
if [[ ! -f "$_laravel_ops_cache/registry/credentials.env" ]]; then
  "$(dirname "${BASH_SOURCE[0]}")/registry.sh" start >/dev/null
fi
# shellcheck source=/dev/null
source "$_laravel_ops_cache/registry/credentials.env"
unset _laravel_ops_cache
