#!/usr/bin/env bash
# Builds the kind node image of the pinned Kubernetes here, from what cluster/build.sh and
# cluster/images.sh build, without kind's published base image or any registry:
#   - a Debian rootfs with systemd, containerd and runc (debootstrap, cached by package list);
#   - kubeadm, kubelet and kubectl in /usr/bin, the CNI plugins in /opt/cni/bin;
#   - the files of cluster/kind/node (entrypoint, containerd configuration, units);
#   - /kind/version, the one line kind reads to pick its kubeadm configuration, and
#     /kind/manifests/default-storage.yaml, the default StorageClass kind applies
#     (cluster/kind/manifests/default-storage.yaml);
#   - every image the nodes run preloaded into containerd's k8s.io namespace (not unpacked: the
#     runtime unpacks an image the first time a container uses it).
# The image is imported into the Docker engine as laravel-ops.local/kind-node:<version>-<key>,
# its key a hash of everything above; a run whose key is already there does nothing.
#
# Usage: cluster/kind/node-image.sh   Writes the image reference to $LARAVEL_OPS_CACHE/kind-node/image.
# Environment: LARAVEL_OPS_CACHE, DEBIAN_MIRROR (default http://deb.debian.org/debian), GO.
set -euo pipefail

KIND_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib/common.sh
source "$KIND_HERE/../lib/common.sh"
# shellcheck source=cluster/lib/oci-images.sh
source "$KIND_HERE/../lib/oci-images.sh"

IMAGES="$CACHE/images"
NODE_CACHE="$CACHE/kind-node"
# What a node runs besides Kubernetes' own binaries: systemd as PID 1, the runtime, and the
# tools kube-proxy, the kubelet and kind's own commands (bash, cat, pgrep, journalctl) call.
NODE_PACKAGES=(systemd systemd-sysv dbus containerd runc iptables nftables conntrack iproute2
  ethtool kmod libseccomp2 pigz ca-certificates procps util-linux mount bash)
# kube-proxy's image: iptables-restore and conntrack, with the node's (nft) backend.
NETBASE_PACKAGES=(iptables nftables conntrack iproute2 ca-certificates)
CONTROL_PLANE=(kube-apiserver kube-controller-manager kube-scheduler)

# The images every node has preloaded: the control plane, kube-proxy and etcd written here, and
# cluster/images.sh's (pause, CoreDNS, metrics-server, Traefik, the Debian test image) and
# cluster/netpol.sh's (kube-network-policies), the pod network's agent (netbase + kubectl) and
# local-path-provisioner.
build_images() {
  local b netbase
  for b in "${CONTROL_PLANE[@]}" etcd; do
    oci_image "$WORK/images" "$IMAGES" "kind-$b" "laravel-ops.local/$b:$(image_version "$b")" \
      "$(hash_of "$BIN/$b" <(echo "$b $(image_version "$b")"))" \
      --file "$BIN/$b:/usr/local/bin/$b:0755" --env PATH=/usr/local/bin:/usr/bin:/bin
  done
  netbase="$NODE_CACHE/rootfs-$DEBIAN_SUITE-netbase.tar"
  debootstrap_tar "$netbase" "${NETBASE_PACKAGES[@]}"
  oci_image "$WORK/images" "$IMAGES" kind-kube-proxy "laravel-ops.local/kube-proxy:$KUBERNETES_VERSION" \
    "$(hash_of "$netbase" "$BIN/kube-proxy")" \
    --layer-tar "$netbase" --file "$BIN/kube-proxy:/usr/local/bin/kube-proxy:0755" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  oci_image "$WORK/images" "$IMAGES" kind-pod-network "$POD_NETWORK_IMAGE" \
    "$(hash_of "$netbase" "$BIN/kubectl")" \
    --layer-tar "$netbase" --file "$BIN/kubectl:/usr/local/bin/kubectl:0755" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  static_image "$WORK/images" "$IMAGES" local-path-provisioner "$LOCAL_PATH_PROVISIONER_IMAGE" "$BIN/local-path-provisioner"
  "$KIND_HERE/../images.sh" build >&2
  "$KIND_HERE/../netpol.sh" image >&2
  cat "$IMAGES/cluster.list" "$IMAGES/kube-network-policies.list" >>"$WORK/images"
}
image_version() { case "$1" in etcd) echo "$ETCD_VERSION" ;; *) echo "$KUBERNETES_VERSION" ;; esac; }

# preload ROOT: imports the listed images into ROOT's containerd store with a containerd of the
# same version as the node's (the host's, Debian's), on a socket of its own.
preload() {
  local root="$1" dir="$WORK/preload" pid ref tar digest
  mkdir -p "$dir"
  cat >"$dir/config.toml" <<EOF
version = 2
root = "$root/var/lib/containerd"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
EOF
  containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do [[ -S "$dir/containerd.sock" ]] && break; sleep 0.2; done
  [[ -S "$dir/containerd.sock" ]] || { cat "$dir/containerd.log" >&2; die "the preload containerd did not start"; }
  while read -r ref tar digest; do
    ctr --address "$dir/containerd.sock" -n k8s.io images import --no-unpack --digests "$tar" >/dev/null \
      || die "ctr images import $tar failed"
    ctr --address "$dir/containerd.sock" -n k8s.io images ls -q "name==$ref" | grep -qx "$ref" \
      || die "$ref ($digest) is not in the node's store after the import"
  done <"$WORK/images"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# assemble KEY REF: the node's root filesystem, imported into the engine as REF.
assemble() {
  local key="$1" ref="$2" root="$WORK/root" b
  mkdir -p "$root"
  tar -C "$root" --numeric-owner --xattrs -xf "$NODE_ROOTFS"
  install -m 0755 "$KIND_HERE/node/entrypoint" "$root/usr/local/bin/entrypoint"
  install -m 0644 "$KIND_HERE/node/containerd.toml" "$root/etc/containerd/config.toml"
  install -m 0644 "$KIND_HERE/node/crictl.yaml" "$root/etc/crictl.yaml"
  install -m 0644 "$KIND_HERE/node/kubelet.default" "$root/etc/default/kubelet"
  install -m 0644 -t "$root/etc/systemd/system" "$KIND_HERE/node/containerd.service" \
    "$KIND_HERE/node/kubelet.service" "$KIND_HERE/node/kubelet.slice"
  for b in kubeadm kubelet kubectl; do install -m 0755 "$BIN/$b" "$root/usr/bin/$b"; done
  mkdir -p "$root/opt/cni/bin" "$root/etc/cni/net.d" "$root/etc/kubernetes/manifests" "$root/kind/manifests"
  for b in bridge host-local loopback portmap; do install -m 0755 "$BIN/$b" "$root/opt/cni/bin/$b"; done
  echo "$KUBERNETES_VERSION" >"$root/kind/version"
  install -m 0644 "$WORK/default-storage.yaml" "$root/kind/manifests/default-storage.yaml"
  # What a container needs from systemd: the runtime and the kubelet, journald without the
  # kernel's ring buffer, and none of the units that manage hardware, consoles or the kernel.
  local wants="$root/etc/systemd/system/multi-user.target.wants" unit
  mkdir -p "$wants"
  ln -sf /etc/systemd/system/containerd.service "$wants/containerd.service"
  ln -sf /etc/systemd/system/kubelet.service "$wants/kubelet.service"
  for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
      systemd-udev-trigger.service systemd-modules-load.service systemd-binfmt.service \
      getty@tty1.service console-getty.service systemd-logind.service \
      sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nReadKMsg=no\n' >"$root/etc/systemd/journald.conf.d/10-node.conf"
  : >"$root/etc/machine-id"
  preload "$root"
  changed "node image: importing $ref"
  tar -C "$root" --numeric-owner --xattrs -c . | docker import \
    --change 'ENV container=docker' \
    --change 'STOPSIGNAL SIGRTMIN+3' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    --change "LABEL org.laravel-ops.kind-node.key=$key" \
    - "$ref" >/dev/null
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-kind-node.XXXXXX")"
trap 'status_end $?; rm -rf "$WORK"' EXIT
mkdir -p "$NODE_CACHE"
start=$SECONDS
"$KIND_HERE/../build.sh" kubernetes etcd cni coredns metrics-server traefik kubeadm local-path-provisioner >/dev/null
: >"$WORK/images"
build_images
render "$KIND_HERE/manifests/default-storage.yaml" >"$WORK/default-storage.yaml"
NODE_ROOTFS="$NODE_CACHE/rootfs-$DEBIAN_SUITE-node.tar"
debootstrap_tar "$NODE_ROOTFS" "${NODE_PACKAGES[@]}"
key="$( { sha256sum "$NODE_ROOTFS" | cut -d' ' -f1
  for b in kubeadm kubelet kubectl bridge host-local loopback portmap; do sha256sum "$BIN/$b" | cut -d' ' -f1; done
  cut -d' ' -f1,3 "$WORK/images"
  sha256sum "$WORK/default-storage.yaml" | cut -d' ' -f1
  (cd "$KIND_HERE/node" && find . -type f | sort | xargs sha256sum)
} | sha256sum | cut -c1-12)"
ref="laravel-ops.local/kind-node:$KUBERNETES_VERSION-$key"
if [[ "$(docker image inspect --format '{{index .Config.Labels "org.laravel-ops.kind-node.key"}}' "$ref" 2>/dev/null)" == "$key" ]]; then
  log "node image: $ref is built"
else
  assemble "$key" "$ref"
  log "node image: $ref built in $((SECONDS - start))s"
  # Earlier node images (about 700 MB each) go, unless a cluster still runs on one.
  docker image ls --format '{{.Repository}}:{{.Tag}}' laravel-ops.local/kind-node | grep -vxF "$ref" \
    | xargs -r docker image rm >/dev/null 2>&1 || true
fi
echo "$ref" >"$NODE_CACHE/image"
