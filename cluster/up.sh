#!/usr/bin/env bash
# Brings up a real single-node Kubernetes cluster on this machine, from binaries built by
# cluster/build.sh and images built by cluster/images.sh (no registry, no download but Debian
# packages): etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd (Debian),
# kubelet, CNI bridge networking, kube-proxy (iptables), CoreDNS, metrics-server and Traefik (the
# ingress controller, with a default certificate of an ingress CA made here).
#
# Everything runs as background processes of root (no systemd needed); all state lives in
# $LARAVEL_OPS_CLUSTER_DIR (default /var/lib/laravel-ops-cluster): pki/, config/, etcd/,
# containerd/, cni/, logs/<component>.log, run/<component>.pid; the kubelet's root is
# /var/lib/kubelet. Idempotent: what runs is left alone, what is missing is made or started.
# It returns when the node is Ready, CoreDNS is Ready, `kubectl top node` answers and Traefik is
# Ready, and prints the path of the admin kubeconfig ($STATE/admin.kubeconfig) on stdout.
# Stop with cluster/down.sh. See cluster/lib/common.sh for the environment variables.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib/common.sh
source "$HERE/lib/common.sh"

require_root
UP_START=$SECONDS

# ---- 0. host packages -----------------------------------------------------------------------
ensure_packages() {
  local -A want=(
    [containerd]=containerd [runc]=runc [iptables]=iptables [conntrack]=conntrack
    [ethtool]=ethtool [socat]=socat [ip]=iproute2 [openssl]=openssl [curl]=curl
    [debootstrap]=debootstrap [python3]=python3-minimal [findmnt]=util-linux [nft]=nftables
  )
  local cmd missing=()
  for cmd in "${!want[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 \
      || missing+=("${want[$cmd]}")
  done
  ((${#missing[@]} == 0)) && return 0
  changed "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  } || die "apt-get install ${missing[*]} failed"
}
ensure_packages
export PATH="$PATH:/usr/sbin:/sbin"

# ---- 1. binaries and image tarballs (cached; a second or two when warm) ----------------------
"$HERE/build.sh" >/dev/null
"$HERE/images.sh" build
"$HERE/netpol.sh" image >/dev/null

mkdir -p "$PKI" "$CONF" "$LOGS" "$RUN" "$STATE/etcd" "$CONTAINERD_ROOT" "$CNI_BIN" "$CNI_CONF" "$CNI_IPAM"
chmod 700 "$STATE" "$PKI"

# ---- 2. certificates (common.sh's new_ca and new_cert) -------------------------------------
make_pki() {
  new_ca ca kubernetes-ca
  new_ca etcd-ca etcd-ca
  new_ca front-proxy-ca front-proxy-ca
  local api_sans="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  api_sans+=",DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,DNS:localhost,DNS:$NODE_NAME"
  api_sans+=",IP:127.0.0.1,IP:$NODE_IP,IP:$API_SERVICE_IP"
  new_cert apiserver ca "/CN=kube-apiserver" server "$api_sans"
  new_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" client
  new_cert apiserver-etcd-client etcd-ca "/CN=kube-apiserver-etcd-client" client
  new_cert etcd-server etcd-ca "/CN=$NODE_NAME" both "DNS:localhost,DNS:$NODE_NAME,IP:127.0.0.1"
  new_cert etcd-healthcheck-client etcd-ca "/CN=kube-etcd-healthcheck-client" client
  new_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" client
  new_cert admin ca "/O=system:masters/CN=kubernetes-admin" client
  new_cert controller-manager ca "/CN=system:kube-controller-manager" client
  new_cert scheduler ca "/CN=system:kube-scheduler" client
  new_cert kube-proxy ca "/CN=system:kube-proxy" client
  new_cert kubelet-client ca "/O=system:nodes/CN=system:node:$NODE_NAME" client
  new_cert kubelet-server ca "/CN=$NODE_NAME" server "DNS:$NODE_NAME,DNS:localhost,IP:$NODE_IP,IP:127.0.0.1"
  if [[ ! -f "$PKI/sa.key" ]]; then
    log "pki: service-account key pair"
    new_key "$PKI/sa.key"
    openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
}

# kubeconfig FILE USER CERT-NAME [SERVER]
write_kubeconfig() {
  local file="$1" user="$2" cert="$3" server="${4:-https://127.0.0.1:$API_PORT}" tmp
  tmp="$(mktemp "$file.XXXXXX")"
  cat > "$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: laravel-ops
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$cert.crt")
    client-key-data: $(base64 -w0 < "$PKI/$cert.key")
contexts:
- name: $user@laravel-ops
  context:
    cluster: laravel-ops
    user: $user
current-context: $user@laravel-ops
EOF
  chmod 600 "$tmp"
  if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv -f "$tmp" "$file"; fi
}

# write_if_changed FILE (content on stdin): keeps mtime (and so idempotence) when equal
write_if_changed() {
  local tmp; tmp="$(mktemp "$1.XXXXXX")"
  cat > "$tmp"
  # 0600: kubeconfigs carry client keys and containerd.toml the registry password.
  if [[ -f "$1" ]] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; chmod 600 "$1"; fi
}

make_pki
write_kubeconfig "$KUBECONFIG_ADMIN" kubernetes-admin admin
write_kubeconfig "$CONF/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
write_kubeconfig "$CONF/scheduler.kubeconfig" system:kube-scheduler scheduler
write_kubeconfig "$CONF/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
write_kubeconfig "$CONF/kubelet.kubeconfig" "system:node:$NODE_NAME" kubelet-client

# ---- 3. host network: the node address, forwarding, and a guard so pods reach only this machine
check_port_free() { # PORT COMPONENT: fail clearly when something else holds our port
  local port="$1" comp="$2" line
  is_running "$comp" && return 0
  line="$(ss -Htlnp "sport = :$port" 2>/dev/null | head -n1)"
  [[ -z "$line" ]] || die "port $port (for $comp) is already in use: $line (another cluster running? try cluster/down.sh)"
}

setup_host_network() {
  sysctl -qw net.ipv4.ip_forward=1
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null \
    || die "net.bridge.bridge-nf-call-iptables is missing: the br_netfilter module is needed"
  sysctl -qw net.bridge.bridge-nf-call-ip6tables=1 2>/dev/null || true
  if ! ip link show "$HOST_BRIDGE" >/dev/null 2>&1; then
    log "network: bridge $HOST_BRIDGE with the node address $NODE_IP"
    ip link add "$HOST_BRIDGE" type bridge
  fi
  ip link set "$HOST_BRIDGE" up
  ip -4 addr show dev "$HOST_BRIDGE" | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/32" dev "$HOST_BRIDGE"
  # Service IPs that kube-proxy does not translate must not follow the default route out of the
  # machine: they go to the port-less bridge and die there (and take NODE_IP as source).
  ip route replace "$SERVICE_CIDR" dev "$HOST_BRIDGE" src "$NODE_IP"
  # Pod traffic: between pods on the bridge it is accepted; anything else forwarded from a pod
  # (to the outside world) is rejected. Pods reach the host's own addresses (the API server at
  # NODE_IP) through INPUT, which this does not touch.
  iptables -w -N "$FW_CHAIN" 2>/dev/null || true
  iptables -w -F "$FW_CHAIN"
  iptables -w -A "$FW_CHAIN" -i "$CNI_BRIDGE" -o "$CNI_BRIDGE" -j ACCEPT
  iptables -w -A "$FW_CHAIN" -s "$POD_CIDR" -m comment --comment "laravel-ops: pods stay on this machine" -j REJECT
  iptables -w -A "$FW_CHAIN" -d "$POD_CIDR" -m comment --comment "laravel-ops: nothing from outside into pods" -j REJECT
  # first in FORWARD, before kube-proxy's and any Docker engine's accepting rules
  if [[ "$(iptables -w -S FORWARD | sed -n 2p)" != "-A FORWARD -j $FW_CHAIN" ]]; then
    while iptables -w -D FORWARD -j "$FW_CHAIN" 2>/dev/null; do :; done
    iptables -w -I FORWARD 1 -j "$FW_CHAIN"
  fi
}

# ---- 4. control plane -----------------------------------------------------------------------
curl_api() { curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$API_PORT$1"; }

start_etcd() {
  check_port_free "$ETCD_CLIENT_PORT" etcd
  start_proc etcd "$BIN/etcd" \
    --name="$NODE_NAME" --data-dir="$STATE/etcd" \
    --listen-client-urls="https://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls="https://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="$NODE_NAME=http://127.0.0.1:$ETCD_PEER_PORT" \
    --listen-metrics-urls="http://127.0.0.1:$ETCD_METRICS_PORT" \
    --cert-file="$PKI/etcd-server.crt" --key-file="$PKI/etcd-server.key" \
    --client-cert-auth --trusted-ca-file="$PKI/etcd-ca.crt" \
    --snapshot-count=10000 --log-level=warn
  wait_for "etcd is healthy" etcd "$TIMEOUT" \
    "$BIN/etcdctl" --endpoints="https://127.0.0.1:$ETCD_CLIENT_PORT" --cacert="$PKI/etcd-ca.crt" \
      --cert="$PKI/etcd-healthcheck-client.crt" --key="$PKI/etcd-healthcheck-client.key" \
      --command-timeout=3s endpoint health
}

start_apiserver() {
  check_port_free "$API_PORT" kube-apiserver
  start_proc kube-apiserver "$BIN/kube-apiserver" \
    --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port="$API_PORT" \
    --etcd-servers="https://127.0.0.1:$ETCD_CLIENT_PORT" --etcd-cafile="$PKI/etcd-ca.crt" \
    --etcd-certfile="$PKI/apiserver-etcd-client.crt" --etcd-keyfile="$PKI/apiserver-etcd-client.key" \
    --client-ca-file="$PKI/ca.crt" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction,PodSecurity \
    --allow-privileged=true \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --profiling=false
  wait_for "kube-apiserver is ready (/readyz)" kube-apiserver "$TIMEOUT" curl_api /readyz
}

start_controllers() {
  check_port_free 10257 kube-controller-manager
  start_proc kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$CONF/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$CONF/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$CONF/controller-manager.kubeconfig" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --client-ca-file="$PKI/ca.crt" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
    --use-service-account-credentials=true \
    --controllers='*,bootstrapsigner,tokencleaner' \
    --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" --node-cidr-mask-size=24 \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false
  check_port_free 10259 kube-scheduler
  start_proc kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$CONF/scheduler.kubeconfig" \
    --authentication-kubeconfig="$CONF/scheduler.kubeconfig" \
    --authorization-kubeconfig="$CONF/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
  wait_for "kube-controller-manager is healthy" kube-controller-manager "$TIMEOUT" \
    curl -fsSk --max-time 5 https://127.0.0.1:10257/healthz
  wait_for "kube-scheduler is healthy" kube-scheduler "$TIMEOUT" \
    curl -fsSk --max-time 5 https://127.0.0.1:10259/healthz
}

# ---- 5. node: containerd, CNI, kubelet, kube-proxy ------------------------------------------
# The project's registry (scripts/registry.sh) on the host's loopback, which the kubelet's
# containerd shares: plain HTTP there, with the registry's credentials once it has made them.
registry_config() {
  local credentials="$CACHE/registry/credentials.env"
  cat <<EOF
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$LOCAL_REGISTRY"]
    endpoint = ["http://$LOCAL_REGISTRY"]
EOF
  if [[ -f "$credentials" ]]; then
    # shellcheck source=/dev/null
    ( source "$credentials"
      cat <<EOF
  [plugins."io.containerd.grpc.v1.cri".registry.configs."$LOCAL_REGISTRY".auth]
    username = "$LARAVEL_OPS_REGISTRY_USERNAME"
    password = "$LARAVEL_OPS_REGISTRY_PASSWORD"
EOF
    )
  fi
}

start_containerd() {
  write_if_changed "$CONF/containerd.toml" <<EOF
# Generated by cluster/up.sh
version = 2
root = "$CONTAINERD_ROOT/root"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$CONTAINERD_ROOT/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  enable_selinux = false
  # root on these machines lacks CAP_SYS_RESOURCE, so nothing may lower its oom_score_adj below
  # containerd's own (the kubelet asks -998 for sandboxes and runc would fail with "failed to
  # update /proc/self/oom_score_adj: Permission denied"): keep every container at >= containerd's
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # no systemd on these machines: the kubelet and runc use cgroupfs
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$CNI_CONF"
    max_conf_num = 1
$(registry_config)
EOF
  if ! is_running containerd && [[ -S "$CONTAINERD_SOCK" ]] \
      && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; then
    die "a containerd that up.sh did not start already serves $CONTAINERD_SOCK; stop it first"
  fi
  start_proc containerd "$(command -v containerd)" --config "$CONF/containerd.toml" --log-level warn
  wait_for "containerd answers" containerd "$TIMEOUT" ctr --address "$CONTAINERD_SOCK" version
}

setup_cni() {
  local p
  for p in bridge host-local loopback portmap; do
    cmp -s "$BIN/$p" "$CNI_BIN/$p" 2>/dev/null || install -m 0755 "$BIN/$p" "$CNI_BIN/$p"
  done
  write_if_changed "$CNI_CONF/10-laravel-ops.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "laravel-ops",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CNI_IPAM",
        "ranges": [[{"subnet": "$NODE_POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

start_kubelet() {
  write_if_changed "$CONF/kubelet.yaml" <<EOF
# Generated by cluster/up.sh
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI/ca.crt
authorization:
  mode: Webhook
tlsCertFile: $PKI/kubelet-server.crt
tlsPrivateKeyFile: $PKI/kubelet-server.key
rotateCertificates: false
serverTLSBootstrap: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# no systemd here; the cgroup hierarchy is v1, which kubelet 1.35 refuses unless told
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
# root lacks CAP_SYS_RESOURCE here: the kubelet cannot lower its own oom_score_adj
oomScoreAdj: 0
clusterDomain: $CLUSTER_DOMAIN
clusterDNS:
- $DNS_SERVICE_IP
resolvConf: /etc/resolv.conf
podCIDR: $NODE_POD_CIDR
hairpinMode: hairpin-veth
maxPods: 110
serializeImagePulls: false
evictionHard:
  memory.available: 200Mi
  nodefs.available: 5%
  imagefs.available: 5%
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
EOF
  check_port_free 10250 kubelet
  start_proc kubelet "$BIN/kubelet" \
    --config="$CONF/kubelet.yaml" --kubeconfig="$CONF/kubelet.kubeconfig" \
    --root-dir="$KUBELET_ROOT" --node-ip="$NODE_IP" --hostname-override="$NODE_NAME" \
    --v=1
  wait_for "kubelet is healthy" kubelet "$TIMEOUT" curl -fsS --max-time 5 http://127.0.0.1:10248/healthz
  KUBELET_STARTED="$(date -u -r "$RUN/kubelet.pid" +%s)"
  wait_for "node $NODE_NAME is Ready" kubelet "$TIMEOUT" node_ready
}

# node_ready: the node's Ready condition is True and was reported by the running kubelet (a
# status left in etcd from before a restart does not count)
node_ready() {
  local out status beat
  out="$(kubectl get node "$NODE_NAME" \
    -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status} {.lastHeartbeatTime}{end}' 2>/dev/null)" || return 1
  status="${out%% *}"; beat="${out#* }"
  [[ "$status" == True ]] || return 1
  beat="$(date -u -d "$beat" +%s 2>/dev/null)" || return 1
  (( beat >= KUBELET_STARTED - 1 ))
}

start_kube_proxy() {
  write_if_changed "$CONF/kube-proxy.yaml" <<EOF
# Generated by cluster/up.sh
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $CONF/kube-proxy.kubeconfig
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
# root lacks CAP_SYS_RESOURCE here: do not try to lower our own oom_score_adj
oomScoreAdj: 0
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses:
- $NODE_IP/32
conntrack:
  # leave the host's conntrack sysctls alone (they are read-only in some VMs)
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
  check_port_free 10256 kube-proxy
  start_proc kube-proxy "$BIN/kube-proxy" --config="$CONF/kube-proxy.yaml" --v=1
  wait_for "kube-proxy is healthy" kube-proxy "$TIMEOUT" curl -fsS --max-time 5 http://127.0.0.1:10256/healthz
}

# ---- 6. add-ons: CoreDNS, metrics-server ----------------------------------------------------
top_node_works() { kubectl top node "$NODE_NAME" >/dev/null 2>&1; }

wait_addons() {
  local start=$SECONDS
  # Ready, and answering for real through the kube-dns Service (kube-proxy) from the host
  until kubectl -n kube-system rollout status deployment/coredns --timeout=5s >/dev/null 2>&1 \
      && [[ "$(python3 "$HERE/lib/dnsq.py" "$DNS_SERVICE_IP" "kubernetes.default.svc.$CLUSTER_DOMAIN" 2>/dev/null)" == "$API_SERVICE_IP" ]]; do
    if (( SECONDS - start >= TIMEOUT )); then
      explain_addon kube-system k8s-app=kube-dns; show_log kubelet 20
      die "CoreDNS did not become Ready in ${TIMEOUT}s"
    fi
    sleep 2
  done
  log "CoreDNS is Ready and resolves kubernetes.default via $DNS_SERVICE_IP (after $((SECONDS - start))s)"
  start=$SECONDS
  until top_node_works; do
    if (( SECONDS - start >= TIMEOUT )); then
      explain_addon kube-system k8s-app=metrics-server
      kubectl get apiservice v1beta1.metrics.k8s.io -o wide >&2 || true
      die "kubectl top node did not work in ${TIMEOUT}s (metrics-server)"
    fi
    sleep 3
  done
  log "metrics-server serves node metrics (after $((SECONDS - start))s): $(kubectl top node "$NODE_NAME" --no-headers 2>/dev/null | tr -s ' ')"
}

# ---- run -------------------------------------------------------------------------------------
setup_host_network
start_etcd
start_apiserver
start_controllers
setup_cni
start_containerd
"$HERE/images.sh" import
"$HERE/netpol.sh" import
start_kubelet
start_kube_proxy
for m in coredns metrics-server; do apply "$HERE/manifests/$m.yaml"; done
wait_addons
# NetworkPolicy enforced, not only stored (kube-network-policies; fail-closed).
"$HERE/netpol.sh" apply
start_ingress

log "cluster is up in $((SECONDS - UP_START))s: $("$BIN/kubectl" version --kubeconfig "$KUBECONFIG_ADMIN" 2>/dev/null | tail -n1)"
log "admin kubeconfig: $KUBECONFIG_ADMIN (export KUBECONFIG=$KUBECONFIG_ADMIN; kubectl is $BIN/kubectl)"
echo "$KUBECONFIG_ADMIN"
