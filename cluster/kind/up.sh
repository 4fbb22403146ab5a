#!/usr/bin/env bash
# Brings up the local cluster with kind: one control plane and two workers, from the node image
# cluster/kind/node-image.sh builds here. Idempotent: a cluster that answers is kept.
#
#   1. The Docker engine and the local registry (scripts/docker-engine.sh, scripts/registry.sh),
#      the kind CLI (cluster/build.sh kind) and the node image.
#   2. The Docker network `kind` with a fixed subnet, so the nodes' gateway address is known.
#   3. The local registry (127.0.0.1:5000 on this machine) made reachable from the nodes: a
#      forwarder listens on the network's gateway only, and each node's containerd maps
#      127.0.0.1:5000 to it (hosts.toml) with the registry's credentials. Image references
#      stay the ones the chart and the roles use everywhere else.
#   4. `kind create cluster` (kubeadm inside the nodes), its configuration written at run time
#      (0600: it carries the registry password) and never kept in the repository.
#   5. The add-ons: the pod network (cluster/kind/manifests/pod-network.yaml), NetworkPolicy
#      enforcement (kube-network-policies), CoreDNS and metrics-server (cluster/manifests),
#      after the kubelets' serving certificates are approved, and Traefik with its default
#      certificate (common.sh's start_ingress), published on
#      127.0.0.1:8443 of this machine.
#   6. Routes on this machine to each node's pod range and to the Service range, through the
#      nodes' addresses on the kind bridge, so that this machine reaches pods and Services at
#      their cluster addresses, as a node does (the live tests read /metrics at pod addresses).
#
# Usage: cluster/kind/up.sh [up|down]   (default up; down deletes the cluster and the forwarder)
# Environment: LARAVEL_OPS_CLUSTER_DIR, the cluster's state: its kind configuration, the nodes'
# registry mirror, the ingress CA (pki/, kept by down), logs and the kubeconfig, admin.kubeconfig
# (default /var/lib/laravel-ops-cluster).
set -euo pipefail

KIND_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib/common.sh
source "$KIND_HERE/../lib/common.sh"

MODE="${1:-up}"
case "$MODE" in up|down) ;; *) die "usage: $0 [up|down]" ;; esac

KIND="$BIN/kind"
KIND_CLUSTER=laravel-ops
# The API server's host name on the kind network (the control plane's container, a name of its
# certificate), which the pod network agent talks to (render fills it into pod-network.yaml).
API_SERVER_HOST="$KIND_CLUSTER-control-plane"
KIND_NETWORK=kind
KIND_SUBNET=172.30.0.0/24
KIND_GATEWAY=172.30.0.1
KIND_POD_CIDR=10.245.0.0/16
KIND_SERVICE_CIDR=10.97.0.0/16
# CoreDNS's address in the kind cluster's Service range (render fills it into cluster/manifests/coredns.yaml)
DNS_SERVICE_IP=10.97.0.10
REGISTRY_PORT="${LOCAL_REGISTRY##*:}"
FORWARDER=registry-forwarder
# Traefik's HTTPS NodePort (as cluster/kind/manifests/traefik-nodeport.yaml sets it), published by
# the control plane's container on this machine's loopback only.
INGRESS_NODE_PORT="$(sed -n 's/^ *nodePort: *\([0-9]*\)$/\1/p' "$KIND_HERE/manifests/traefik-nodeport.yaml")"
INGRESS_HOST_PORT=8443

kind_exists() { "$KIND" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; }

network() {
  # A bridge that still holds the network's addresses but belongs to no Docker network (left by an
  # engine whose state was removed while the network existed) takes the nodes' traffic away from
  # the network's own bridge: kubeadm join then never reaches the control plane.
  local device id networks=" "
  for id in $(docker network ls -q --filter driver=bridge); do networks+="$(bridge_of "$id") "; done
  for device in $(ip -o -4 addr show to "$KIND_SUBNET" | awk '{print $2}'); do
    if [[ "$device" == br-* && "$networks" != *" $device "* ]]; then
      changed "removing the bridge $device, which holds $KIND_SUBNET and belongs to no Docker network"
      ip link delete "$device" || die "cannot remove the bridge $device (needs root)"
    fi
  done
  if docker network inspect "$KIND_NETWORK" >/dev/null 2>&1; then
    [[ "$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$KIND_NETWORK")" == "$KIND_SUBNET" ]] \
      || die "the Docker network $KIND_NETWORK exists with another subnet than $KIND_SUBNET (docker network rm $KIND_NETWORK)"
    return
  fi
  changed "creating the Docker network $KIND_NETWORK ($KIND_SUBNET)"
  docker network create -d bridge --subnet "$KIND_SUBNET" --gateway "$KIND_GATEWAY" \
    -o com.docker.network.driver.mtu=1500 "$KIND_NETWORK" >/dev/null
}

# The registry stays on loopback (it speaks plain HTTP); only the nodes' gateway address, which
# exists on the kind bridge alone, is forwarded to it.
registry_forwarder() {
  command -v socat >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends socat >/dev/null \
    || die "apt-get install socat failed"
  start_proc "$FORWARDER" "$(command -v socat)" \
    "TCP-LISTEN:$REGISTRY_PORT,bind=$KIND_GATEWAY,reuseaddr,fork" "TCP:$LOCAL_REGISTRY"
  mkdir -p "$STATE/certs.d/$LOCAL_REGISTRY"
  printf 'server = "http://%s"\n\n[host."http://%s:%s"]\n  capabilities = ["pull", "resolve"]\n' \
    "$LOCAL_REGISTRY" "$KIND_GATEWAY" "$REGISTRY_PORT" >"$STATE/certs.d/$LOCAL_REGISTRY/hosts.toml"
}

kind_config() {
  local credentials="$CACHE/registry/credentials.env" node_image
  [[ -f "$credentials" ]] || die "$credentials is missing: run scripts/registry.sh first"
  # shellcheck disable=SC1090
  source "$credentials"
  node_image="$(cat "$CACHE/kind-node/image")"
  umask 077
  cat >"$STATE/config.yaml" <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: $KIND_CLUSTER
networking:
  disableDefaultCNI: true
  kubeProxyMode: iptables
  podSubnet: $KIND_POD_CIDR
  serviceSubnet: $KIND_SERVICE_CIDR
  apiServerAddress: 127.0.0.1
nodes:
$(for role in control-plane worker worker; do
  printf -- '- role: %s\n  image: %s\n  extraMounts:\n  - {hostPath: %s, containerPath: /etc/containerd/certs.d, readOnly: true}\n' \
    "$role" "$node_image" "$STATE/certs.d"
  [[ $role != control-plane ]] || printf -- '  extraPortMappings:\n  - {containerPort: %s, hostPort: %s, listenAddress: 127.0.0.1}\n' \
    "$INGRESS_NODE_PORT" "$INGRESS_HOST_PORT"
done)
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry.configs."$KIND_GATEWAY:$REGISTRY_PORT".auth]
    username = "$LARAVEL_OPS_REGISTRY_USERNAME"
    password = "$LARAVEL_OPS_REGISTRY_PASSWORD"
kubeadmConfigPatches:
- |
  apiVersion: kubeadm.k8s.io/v1beta3
  kind: ClusterConfiguration
  imageRepository: laravel-ops.local
  etcd:
    local:
      imageTag: $ETCD_VERSION
  dns:
    imageTag: $COREDNS_VERSION
  apiServer:
    extraArgs:
      # Aggregated APIs (metrics-server) are reached at their pods' addresses, not through the
      # Service address, which the API server's host network does not answer for them.
      enable-aggregator-routing: "true"
- |
  apiVersion: kubeadm.k8s.io/v1beta3
  kind: InitConfiguration
  skipPhases: [preflight, addon/coredns]
- |
  kind: KubeletConfiguration
  failCgroupV1: false
  oomScoreAdj: 0
  serverTLSBootstrap: true
- |
  kind: KubeProxyConfiguration
  oomScoreAdj: 0
EOF
  umask 022
}

# The kubelets ask for serving certificates signed by the cluster CA (serverTLSBootstrap), which
# metrics-server verifies; nothing approves them in a kubeadm cluster, so this does, for the
# cluster's own nodes only.
approve_serving_certificates() {
  local deadline=$((SECONDS + TIMEOUT)) pending
  while :; do
    pending="$(kubectl get csr -o jsonpath='{range .items[?(@.spec.signerName=="kubernetes.io/kubelet-serving")]}{.metadata.name} {.spec.username} {.status.certificate}{"\n"}{end}' \
      | awk '$2 ~ /^system:node:'"$KIND_CLUSTER"'-/ && $3 == "" {print $1}')"
    [[ -z "$pending" ]] || { kubectl certificate approve $pending >/dev/null; changed "approved kubelet serving certificates: $(echo $pending)"; }
    [[ "$(kubectl get csr -o jsonpath='{range .items[?(@.spec.signerName=="kubernetes.io/kubelet-serving")]}{.status.certificate}{"\n"}{end}' | grep -c .)" -ge 3 ]] && return
    ((SECONDS < deadline)) || die "the kubelets' serving certificates were not all requested within ${TIMEOUT}s"
    sleep 2
  done
}

# Each node's pod range through that node, the Service range through the control plane (kube-proxy
# masquerades traffic from outside the pod range, so replies come back the same way).
host_routes() {
  local device cidr address control_plane
  device="$(bridge_device)"
  control_plane="$(kubectl get nodes -l node-role.kubernetes.io/control-plane \
    -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')"
  while read -r cidr address; do
    [[ "$(ip route show "$cidr")" == "$cidr via $address dev $device"* ]] && continue
    ip route replace "$cidr" via "$address" dev "$device" || die "cannot add the route to $cidr via $address (needs root)"
    changed "route to $cidr via $address"
  done < <(kubectl get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}'
           echo "$KIND_SERVICE_CIDR $control_plane")
}

# bridge_of ID: the Linux bridge of the Docker bridge network ID (br-<its id, first 12 characters>).
bridge_of() { echo "br-${1:0:12}"; }
# The Linux bridge of the Docker network kind.
bridge_device() { bridge_of "$(docker network inspect -f '{{.Id}}' "$KIND_NETWORK")"; }

up() {
  local t=$SECONDS
  mkdir -p "$STATE" "$LOGS" "$RUN"
  "$KIND_HERE/../../scripts/docker-engine.sh"
  "$KIND_HERE/../../scripts/registry.sh" start
  "$KIND_HERE/../build.sh" kind >/dev/null
  "$KIND_HERE/node-image.sh" >/dev/null
  network
  registry_forwarder
  kind_config
  # A cluster is kept while it answers and was created from the same configuration (node image,
  # port mappings, kubeadm patches); otherwise it is made again.
  local config_hash
  config_hash="$(sha256sum "$STATE/config.yaml" | cut -c1-16)"
  if kind_exists && kubectl get --raw /readyz >/dev/null 2>&1 \
      && [[ "$(cat "$STATE/config.created" 2>/dev/null)" == "$config_hash" ]]; then
    log "kind: cluster $KIND_CLUSTER answers"
  else
    kind_exists && "$KIND" delete cluster --name "$KIND_CLUSTER" >&2
    changed "kind: creating cluster $KIND_CLUSTER (one control plane, two workers)"
    "$KIND" create cluster --config "$STATE/config.yaml" --kubeconfig "$KUBECONFIG_ADMIN" >&2 \
      || die "kind create cluster failed"
    echo "$config_hash" >"$STATE/config.created"
    log "kind: cluster created in $((SECONDS - t))s"
  fi
  apply "$KIND_HERE/manifests/pod-network.yaml"
  kubectl wait --for=condition=Ready node --all --timeout="${TIMEOUT}s" >&2 || die "the nodes are not Ready"
  KIND_NODES="$("$KIND" get nodes --name "$KIND_CLUSTER" | tr '\n' ' ')" "$KIND_HERE/../netpol.sh" apply >&2
  apply "$KIND_HERE/../manifests/coredns.yaml"
  approve_serving_certificates
  apply "$KIND_HERE/../manifests/metrics-server.yaml"
  kubectl -n kube-system rollout status deployment/coredns deployment/metrics-server --timeout="${TIMEOUT}s" >&2 \
    || die "CoreDNS or metrics-server did not become ready"
  kubectl wait --for=condition=Available apiservice/v1beta1.metrics.k8s.io --timeout="${TIMEOUT}s" >&2 \
    || die "the metrics API is not available"
  start_ingress
  apply "$KIND_HERE/manifests/traefik-nodeport.yaml"
  log "kind: Traefik answers on https://127.0.0.1:$INGRESS_HOST_PORT (Ingress hosts *.$INGRESS_DOMAIN, CA $PKI/ingress-ca.crt)"
  host_routes
  log "kind: ready in $((SECONDS - t))s ($(kubectl get nodes --no-headers | wc -l) nodes); kubeconfig $KUBECONFIG_ADMIN"
}

down() {
  if kind_exists; then
    changed "kind: deleting cluster $KIND_CLUSTER"
    "$KIND" delete cluster --name "$KIND_CLUSTER" >&2
  fi
  if is_running "$FORWARDER"; then stop_proc "$FORWARDER"; fi
  local cidr
  for cidr in $(ip route show | awk -v dev="$(bridge_device 2>/dev/null)" '$2 == "via" && $4 == "dev" && $5 == dev {print $1}'); do
    ip route del "$cidr" && changed "route to $cidr removed"
  done
  rm -rf "$STATE/config.yaml" "$STATE/config.created" "$STATE/certs.d" "$RUN" "$KUBECONFIG_ADMIN"
}

"$MODE"
