#!/usr/bin/env bash
# NetworkPolicy enforcement for the local cluster: sigs.k8s.io/kube-network-policies (DESIGN.md),
# built from its Go module at the version pinned in cluster/versions.env, put in an image with
# cluster/lib/ociimage.py (no engine, no registry), preloaded into the kind node image
# (cluster/kind/node-image.sh) and run as the DaemonSet of cluster/manifests/kube-network-policies.yaml.
#
# How it enforces: an nftables table `inet kube-network-policies` in the node's network namespace
# sends the first packet of each new connection from or to a pod that a NetworkPolicy selects to
# an NFQUEUE (number: --nfqueue-id in the manifest); the daemon reads the queue and answers
# accept or drop. Connections opened by root on the node (the kubelet's probes, anything the
# scripts run as root) are never queued (`meta skuid 0 accept`, upstream's own rule).
#
# Two small changes to upstream's source, made here at build time (patch_source):
#  1. The kernel of our machines has no nft_queue (CONFIG_NFT_QUEUE is not set, and it has no
#     loadable modules), so upstream's nftables `queue` statement fails with ENOENT and no rule
#     would ever load: the daemon would run and enforce nothing. The same verdict is given by the
#     xtables NFQUEUE target (CONFIG_NETFILTER_XT_TARGET_NFQUEUE=y) run through nft_compat
#     (CONFIG_NFT_COMPAT=y), which is what iptables-nft uses; each queue statement is replaced
#     by that target. Works on any kernel that has xt_NFQUEUE and nft_compat.
#  2. v0.8.0 only stops cleanly on SIGINT; the kubelet stops containers with SIGTERM, which left
#     the table behind. SIGTERM now runs upstream's own cleanup (deletes the table).
# The image tag carries the patch level (versions.env): bump it when patch_source changes.
#
# Usage: cluster/netpol.sh build|image|apply|wait
#   build    the binary, into $CACHE/kube-network-policies-<version>/bin/ (a stamp skips a warm run)
#   image    build + the OCI image tarball in $CACHE/images/, listed in
#            $CACHE/images/kube-network-policies.list ("REF TAR DIGEST")
#   apply    apply the manifest (the cluster must be up) and wait
#   wait     wait until the DaemonSet is ready, its table is in place and its queue is read
# Environment: LARAVEL_OPS_CACHE, GO (see cluster/lib/common.sh); KIND_NODES, the names of the
# kind nodes' containers (cluster/kind/up.sh sets it), for apply and wait.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=cluster/lib/oci-images.sh
source "$HERE/lib/oci-images.sh"

MODE="${1:-}"
case "$MODE" in build|image|apply|wait) ;;
  *) die "usage: $0 build|image|apply|wait" ;; esac

MODULE=sigs.k8s.io/kube-network-policies
VERSION="$KUBE_NETWORK_POLICIES_VERSION"
IMAGE="$KUBE_NETWORK_POLICIES_IMAGE"
MANIFEST="$HERE/manifests/kube-network-policies.yaml"
TABLE=kube-network-policies            # upstream's table name (inet family)
NP_TOP="$CACHE/kube-network-policies-$VERSION"
NP_BIN="$NP_TOP/bin/kube-network-policies"
IMAGES="$CACHE/images"
export PATH="$PATH:/usr/sbin:/sbin"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-netpol.XXXXXX")"
trap 'status_end $?; rm -rf "$WORK"' EXIT
LIST="$WORK/images"               # what build_image writes

# The queue number the manifest gives the daemon (one place to change it: the manifest).
queue_id() {
  local q
  q="$(sed -n 's/^[[:space:]]*- --nfqueue-id=\([0-9]*\)[[:space:]]*$/\1/p' "$MANIFEST" | head -n1)"
  [[ -n "$q" ]] || die "no --nfqueue-id=N in $MANIFEST"
  echo "$q"
}

# ---- build ------------------------------------------------------------------------------------
build_key() { echo "kube-network-policies=$VERSION image=$IMAGE $GO_VERSION $GOARCH build=1"; }

# patch_source DIR: the two changes described at the top of this file; each is checked, so a
# version whose code moved fails here rather than building something that does not enforce.
patch_source() {
  local src="$1" pkg="$1/pkg/networkpolicy" n
  cat > "$pkg/zz_laravel_ops_nfqueue.go" <<'GO'
// Added by laravel-ops cluster/netpol.sh at build time; not part of upstream.

package networkpolicy

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// compatQueue gives the verdict of the nftables queue statement q through the xtables NFQUEUE
// target (revision 3) run by nft_compat, for kernels built without nft_queue.
func compatQueue(q *expr.Queue) expr.Any {
	// struct xt_NFQ_info_v3 { __u16 queuenum; __u16 queues_total; __u16 flags; } in host byte
	// order, padded to 8 bytes (XT_ALIGN) as iptables-nft sends it.
	info := make([]byte, 8)
	total := q.Total
	if total == 0 {
		total = 1
	}
	binary.NativeEndian.PutUint16(info[0:], q.Num)
	binary.NativeEndian.PutUint16(info[2:], total)
	var flags uint16
	if q.Flag&expr.QueueFlagBypass != 0 {
		flags |= 0x01 // NFQ_FLAG_BYPASS
	}
	if q.Flag&expr.QueueFlagFanout != 0 {
		flags |= 0x02 // NFQ_FLAG_CPU_FANOUT
	}
	binary.NativeEndian.PutUint16(info[4:], flags)
	u := xt.Unknown(info)
	return &expr.Target{Name: "NFQUEUE", Rev: 3, Info: &u}
}
GO
  # controller.go: the rules list a prepared `queue` expression on a line of its own
  sed -i 's/^\([[:space:]]*\)queue,$/\1compatQueue(queue),/' "$pkg/controller.go"
  # dnsagent.go (AdminNetworkPolicy domains; off here, patched so no queue statement is left)
  sed -i 's/\(&expr\.Queue{[^}]*}\),$/compatQueue(\1),/' "$pkg/dnsagent.go"
  # cmd/main.go: stop (and clean up) on SIGTERM as on SIGINT
  sed -i 's/os\.Interrupt, unix\.SIGINT)$/os.Interrupt, unix.SIGINT, unix.SIGTERM)/' "$src/cmd/main.go"

  n="$(cat "$pkg/controller.go" "$pkg/dnsagent.go" | grep -c 'compatQueue(' || true)"
  [[ "$n" == 11 ]] || die "patch: expected 11 queue statements in $MODULE@$VERSION, replaced $n"
  if grep -nE '^[[:space:]]*queue,$|&expr\.Queue\{[^}]*\},$' "$pkg/controller.go" "$pkg/dnsagent.go" >&2; then
    die "patch: a queue statement was left unreplaced (above)"
  fi
  grep -q 'unix.SIGINT, unix.SIGTERM)' "$src/cmd/main.go" || die "patch: the signal handling of cmd/main.go moved"
}

build_binary() {
  go_env
  if [[ -x "$NP_BIN" && -f "$NP_TOP/stamp" && "$(cat "$NP_TOP/stamp")" == "$(build_key)" ]]; then
    log "kube-network-policies: up to date ($(build_key))"
    return 0
  fi
  local work="$WORK/build" start=$SECONDS dir
  mkdir -p "$work" "$GOMODCACHE" "$GOCACHE" "$NP_TOP/bin"
  log "kube-network-policies: building ($(build_key))"
  dir="$(go_module_source "$MODULE" "$VERSION")"
  cp -r "$dir" "$work/src"
  chmod -R u+w "$work/src"
  patch_source "$work/src"
  if ! (cd "$work/src" && nice "$GO" build -trimpath -ldflags "-s -w" -o "$work/kube-network-policies" ./cmd) 2>&1 \
      | sed -u 's/^/[cluster]   /' >&2; then
    die "kube-network-policies: go build failed"
  fi
  mv -f "$work/kube-network-policies" "$NP_BIN"
  build_key > "$NP_TOP/stamp.tmp"
  mv -f "$NP_TOP/stamp.tmp" "$NP_TOP/stamp"
  log "kube-network-policies: built in $((SECONDS - start))s -> $NP_BIN"
}

# ---- image ------------------------------------------------------------------------------------
PASSWD=$'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n'
GROUP=$'root:x:0:\nnobody:x:65534:\n'

# build_image LIST: the image tarball in $IMAGES/kube-network-policies/, listed in LIST.
build_image() {
  build_binary
  oci_image "$1" "$IMAGES" kube-network-policies "$IMAGE" "$(hash_of "$NP_BIN" <(echo "$IMAGE"; printf %s "$PASSWD$GROUP"))" \
    --file "$NP_BIN:/kube-network-policies:0755" \
    --text "/etc/passwd:0644:$PASSWD" --text "/etc/group:0644:$GROUP" \
    --entrypoint '["/kube-network-policies"]' --user 0:0
}

# ---- apply and wait ---------------------------------------------------------------------------
# The daemon's table exists and its queue has a reader (/proc lists the queue with the port id
# of the reading socket, 0 when none). The table is written once the informers have synced, the
# queue is opened right after.
netpol_ready() {
  local q; q="$(queue_id)"
  on_nodes nft list table inet "$TABLE" >/dev/null 2>&1 \
    && on_nodes awk -v q="$q" '$1 == q && $2 != 0 { found = 1 } END { exit !found }' /proc/net/netfilter/nfnetlink_queue
}

# on_nodes COMMAND...: runs COMMAND in the network namespace of each kind node container named in
# KIND_NODES; fails if it fails on one.
on_nodes() {
  local node
  [[ -n "${KIND_NODES:-}" ]] || die "KIND_NODES names no node (cluster/kind/up.sh sets it)"
  for node in $KIND_NODES; do docker exec "$node" "$@" || return 1; done
}

explain() {
  kubectl -n kube-system get pods -l k8s-app=kube-network-policies -o wide 2>&1 | sed 's/^/[cluster]   /' >&2 || true
  kubectl -n kube-system describe pods -l k8s-app=kube-network-policies 2>/dev/null | tail -n 25 | sed 's/^/[cluster]   /' >&2 || true
  kubectl -n kube-system logs -l k8s-app=kube-network-policies --tail=40 2>/dev/null | sed 's/^/[cluster]   /' >&2 || true
  on_nodes cat /proc/net/netfilter/nfnetlink_queue | sed 's/^/[cluster]   nfnetlink_queue: /' >&2 || true
}

wait_netpol() {
  local start=$SECONDS
  until kubectl -n kube-system rollout status daemonset/kube-network-policies --timeout=5s >/dev/null 2>&1 \
      && netpol_ready; do
    if (( SECONDS - start >= TIMEOUT )); then
      explain
      die "kube-network-policies did not become ready in ${TIMEOUT}s (DaemonSet ready, table inet $TABLE, queue $(queue_id) read)"
    fi
    sleep 2
  done
  log "kube-network-policies enforces NetworkPolicy: table inet $TABLE, queue $(queue_id) read (after $((SECONDS - start))s)"
}

apply_manifest() {
  [[ -f "$KUBECONFIG_ADMIN" ]] || die "no $KUBECONFIG_ADMIN: run cluster/kind/up.sh first"
  apply "$MANIFEST"
  wait_netpol
}

case "$MODE" in
  build) build_binary; echo "$NP_BIN" ;;
  image) build_image "$LIST"; mv -f "$LIST" "$IMAGES/kube-network-policies.list" ;;
  apply) apply_manifest ;;
  wait) wait_netpol ;;
esac
