# shellcheck shell=bash
# Settings and helpers shared by cluster/up.sh, down.sh and smoke.sh. Sourced, not run.
#
# Environment (all optional):
#   LARAVEL_OPS_CACHE        build cache (default ~/.cache/laravel-ops)
#   LARAVEL_OPS_CLUSTER_DIR  all cluster state: certs, etcd data, configs, logs, pid files
#                            (default /var/lib/laravel-ops-cluster)
#   LARAVEL_OPS_NODE_IP      the node's address, put on a bridge of its own (lops0) so nothing of
#                            the cluster uses the machine's real interfaces (default 10.254.254.1)
#   LARAVEL_OPS_TIMEOUT      seconds to wait for each component (default 180)

CLUSTER_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=cluster/versions.env
source "$CLUSTER_HERE/versions.env"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
BIN="$CACHE/k8s-$KUBERNETES_VERSION/bin"
STATE="${LARAVEL_OPS_CLUSTER_DIR:-/var/lib/laravel-ops-cluster}"
PKI="$STATE/pki"
CONF="$STATE/config"
LOGS="$STATE/logs"
RUN="$STATE/run"
KUBECONFIG_ADMIN="$STATE/admin.kubeconfig"
TIMEOUT="${LARAVEL_OPS_TIMEOUT:-180}"

NODE_IP="${LARAVEL_OPS_NODE_IP:-10.254.254.1}"
NODE_NAME="$(hostname | tr '[:upper:]' '[:lower:]')"
HOST_BRIDGE=lops0            # carries NODE_IP; has no ports, nothing leaves through it
CNI_BRIDGE=lops-cni0         # the pods' bridge (made by the CNI bridge plugin)
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
POD_GATEWAY=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
API_PORT=6443
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380
ETCD_METRICS_PORT=2381
CONTAINERD_SOCK=/run/containerd/containerd.sock
CONTAINERD_ROOT="$STATE/containerd"
KUBELET_ROOT=/var/lib/kubelet
CNI_BIN="$STATE/cni/bin"
CNI_CONF="$STATE/cni/net.d"
CNI_IPAM="$STATE/cni/networks"
FW_CHAIN=LARAVEL-OPS-FWD     # our FORWARD guard: pod traffic stays on this machine

kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# ---- processes (each started by us, in its own session, pid in $RUN/NAME.pid) ---------------
pid_of() {
  local f="$RUN/$1.pid" pid exe
  [[ -f "$f" ]] || return 1
  pid="$(head -n1 "$f")"; exe="$(sed -n 2p "$f")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # the pid must still be the program we started (pids are reused)
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$exe" ]] || return 1
  echo "$pid"
}
is_running() { pid_of "$1" >/dev/null; }

# start_proc NAME BINARY ARGS...: starts BINARY in the background unless NAME already runs.
start_proc() {
  local name="$1" bin="$2"; shift 2
  local pid
  if pid="$(pid_of "$name")"; then
    log "$name is running (pid $pid)"
    return 0
  fi
  mkdir -p "$LOGS" "$RUN"
  log "starting $name (log: $LOGS/$name.log)"
  printf '\n==== %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >> "$LOGS/$name.log"
  setsid "$bin" "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  pid=$!
  printf '%s\n%s\n' "$pid" "$(readlink -f "$bin")" > "$RUN/$name.pid"
}

# stop_proc NAME [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 20).
stop_proc() {
  local name="$1" grace="${2:-20}" pid i
  if ! pid="$(pid_of "$name")"; then
    rm -f "$RUN/$name.pid"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$RUN/$name.pid"
}

# show_log NAME [LINES]: the tail of a component's log, for error messages.
show_log() {
  local f="$LOGS/$1.log"
  [[ -f "$f" ]] || { log "(no log for $1 at $f)"; return 0; }
  log "---- last ${2:-40} lines of $f ----"
  tail -n "${2:-40}" "$f" | sed 's/^/[cluster]   /' >&2
  log "---- end of $1 log ----"
}

# wait_for DESCRIPTION COMPONENT-LOG TIMEOUT COMMAND...: polls COMMAND once a second.
wait_for() {
  local what="$1" comp="$2" timeout="$3"; shift 3
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [[ -n "$comp" && "$comp" != - ]] && [[ -f "$RUN/$comp.pid" ]] && ! is_running "$comp"; then
      show_log "$comp"
      die "$comp exited while waiting for $what"
    fi
    if (( SECONDS - start >= timeout )); then
      [[ "$comp" != - ]] && show_log "$comp"
      die "timed out after ${timeout}s waiting for $what"
    fi
    sleep 1
  done
  log "$what (after $((SECONDS - start))s)"
}

require_root() { [[ $EUID -eq 0 ]] || die "run as root (it starts containerd, kubelet and changes iptables)"; }
