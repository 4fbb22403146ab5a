#!/usr/bin/env bash
# Stops the local cluster that cluster/up.sh started and cleans up after it, so that up.sh
# works again: every pod container and its sandbox (through containerd), the kubelet's mounts
# under /var/lib/kubelet, the pods' network namespaces, the CNI bridge and address allocations,
# kube-proxy's and our iptables chains, the node bridge, then kube-proxy, kubelet, containerd,
# the scheduler, the controller manager, the API server and etcd.
# Only processes whose pid files up.sh wrote (and the containerd shims of our containerd) are
# stopped.
#
# Usage: cluster/down.sh [--purge]
#   default   keeps the state dir's certificates, etcd data and containerd images, so the next
#             up.sh brings back the same cluster (its objects, re-created pods) quickly
#   --purge   also deletes the state dir ($LARAVEL_OPS_CLUSTER_DIR) and /var/lib/kubelet
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib/common.sh
source "$HERE/lib/common.sh"
export PATH="$PATH:/usr/sbin:/sbin"

PURGE=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done
require_root
start=$SECONDS

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

# 1. the node agents first, so nothing re-creates what is removed below
stop_proc kube-proxy
stop_proc kubelet 30

# 2. every container and sandbox of our containerd (tasks killed, then records removed)
if is_running containerd; then
  ids="$(ctr_k8s containers ls -q 2>/dev/null || true)"
  if [[ -n "$ids" ]]; then
    log "removing $(wc -l <<< "$ids") container(s) of containerd's k8s.io namespace"
    for id in $ids; do ctr_k8s tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    sleep 1
    for id in $ids; do
      ctr_k8s tasks delete -f "$id" >/dev/null 2>&1 || true
      ctr_k8s containers delete "$id" >/dev/null 2>&1 || true
    done
  fi
fi
stop_proc containerd 20
# The policy engine's table outlives its daemon and would drop the pods' new connections.
"$HERE/netpol.sh" clean

# shims of our containerd that outlived it (found by their -address argument, ended by pid)
for pid in $(pgrep -x containerd-shim-runc-v2 2>/dev/null || true); do
  if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-address $CONTAINERD_SOCK "; then
    log "ending leftover containerd shim (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
  fi
done

# 3. control plane
stop_proc kube-scheduler
stop_proc kube-controller-manager
stop_proc kube-apiserver 30
stop_proc etcd 30

# 4. mounts: the kubelet's volumes, containerd's sandboxes (shm, rootfs), pod network namespaces
unmount_under() {
  local prefix="$1" m
  findmnt -rn -o TARGET 2>/dev/null | awk -v p="$prefix" 'index($0, p) == 1' | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
}
unmount_under "$KUBELET_ROOT/"
unmount_under "$CONTAINERD_ROOT/"
unmount_under /run/containerd/
# the kubelet bind-mounts its root dir onto itself (to make it rshared)
while findmnt -rn -o TARGET | grep -qx "$KUBELET_ROOT"; do
  umount "$KUBELET_ROOT" 2>/dev/null || umount -l "$KUBELET_ROOT" 2>/dev/null || break
done
for ns in /run/netns/cni-*; do
  [[ -e "$ns" ]] || continue
  umount "$ns" 2>/dev/null || umount -l "$ns" 2>/dev/null || true
  rm -f "$ns"
done

# 5. network: CNI bridge and allocations, kube-proxy's and CNI's iptables chains, our guard
if ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
  log "deleting bridge $CNI_BRIDGE"
  ip link delete "$CNI_BRIDGE" || true
fi
rm -rf "$CNI_IPAM"
for table in filter nat mangle; do
  rules="$(iptables -w -t "$table" -S 2>/dev/null || true)"
  # jumps into KUBE-*/CNI-*/our chains from built-in chains, then the chains themselves
  { grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-|'"$FW_CHAIN"')' <<< "$rules" || true; } \
    | sed 's/^-A/-D/' | while read -r rule; do
      eval "iptables -w -t $table $rule" 2>/dev/null || true
    done
  chains="$(grep -E '^-N (KUBE-|CNI-|'"$FW_CHAIN"'$)' <<< "$rules" | awk '{print $2}' || true)"
  for c in $chains; do iptables -w -t "$table" -F "$c" 2>/dev/null || true; done
  for c in $chains; do iptables -w -t "$table" -X "$c" 2>/dev/null || true; done
done
# kube-proxy also writes the ip6tables KUBE-* chains for its (empty) IPv6 side
for table in filter nat mangle; do
  rules="$(ip6tables -w -t "$table" -S 2>/dev/null || true)"
  { grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' <<< "$rules" || true; } | sed 's/^-A/-D/' \
    | while read -r rule; do eval "ip6tables -w -t $table $rule" 2>/dev/null || true; done
  chains="$(grep -E '^-N KUBE-' <<< "$rules" | awk '{print $2}' || true)"
  for c in $chains; do ip6tables -w -t "$table" -F "$c" 2>/dev/null || true; done
  for c in $chains; do ip6tables -w -t "$table" -X "$c" 2>/dev/null || true; done
done
conntrack -D -s "$POD_CIDR" >/dev/null 2>&1 || true
conntrack -D -d "$POD_CIDR" >/dev/null 2>&1 || true
ip route del "$SERVICE_CIDR" dev "$HOST_BRIDGE" 2>/dev/null || true
if ip link show "$HOST_BRIDGE" >/dev/null 2>&1; then
  log "deleting bridge $HOST_BRIDGE ($NODE_IP)"
  ip link delete "$HOST_BRIDGE" || true
fi

# 6. the kubelet's pod cgroups (empty once the containers are gone)
for sub in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
  [[ -d "$sub" ]] || continue
  find "$sub" -depth -type d -exec rmdir {} + 2>/dev/null || true
done

# 7. files: the kubelet's pod directories always (their volumes are unmounted above)
if [[ -d "$KUBELET_ROOT" ]]; then
  if findmnt -rn -o TARGET | grep -q "^$KUBELET_ROOT/"; then
    log "warning: mounts remain under $KUBELET_ROOT; leaving its files"
  else
    rm -rf "${KUBELET_ROOT:?}/pods" "$KUBELET_ROOT/plugins" "$KUBELET_ROOT/plugins_registry" \
      "$KUBELET_ROOT/pod-resources" "$KUBELET_ROOT"/*_state
  fi
fi
rm -f "$RUN"/*.pid 2>/dev/null || true
if [[ $PURGE == 1 ]]; then
  if findmnt -rn -o TARGET | grep -q -e "^$KUBELET_ROOT/" -e "^$STATE/"; then
    die "mounts remain under $KUBELET_ROOT or $STATE: not deleting them"
  fi
  log "purging $STATE and $KUBELET_ROOT"
  rm -rf "${STATE:?}" "${KUBELET_ROOT:?}"
fi
log "cluster is down ($((SECONDS - start))s$( ((PURGE)) && echo ', state purged'))"
