# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this
# Settings and helpers shared by the cluster/ scripts. Sourced, not run.
#
# Environment (all optional):
#   LARAVEL_OPS_CACHE        build cache (default ~/.cache/laravel-ops)
#   LARAVEL_OPS_CLUSTER_DIR  the cluster's state: its kind configuration, the ingress CA, logs,
#                            pid files, the kubeconfig (default /var/lib/laravel-ops-cluster)
#   LARAVEL_OPS_TIMEOUT      seconds to wait for each component (default 180)

CLUSTER_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=cluster/versions.env
source "$CLUSTER_HERE/versions.env"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/status.sh
source "$CLUSTER_HERE/../scripts/lib/status.sh"

# shellcheck source=scripts/lib/go.sh
source "$CLUSTER_HERE/../scripts/lib/go.sh"

CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
BIN="$CACHE/k8s-$KUBERNETES_VERSION/bin"
STATE="${LARAVEL_OPS_CLUSTER_DIR:-/var/lib/laravel-ops-cluster}"
PKI="$STATE/pki"
LOGS="$STATE/logs"
RUN="$STATE/run"
KUBECONFIG_ADMIN="$STATE/admin.kubeconfig"
TIMEOUT="${LARAVEL_OPS_TIMEOUT:-180}"

CLUSTER_DOMAIN=cluster.local
# The apps' host names behind the cluster's Traefik: its default certificate names *.INGRESS_DOMAIN.
# localtest.me and its subdomains resolve to 127.0.0.1 in public DNS, so a port-forward to Traefik
# serves them in a browser without an /etc/hosts entry.
INGRESS_DOMAIN=localtest.me
LOCAL_REGISTRY="${REGISTRY_ADDR:-127.0.0.1:5000}"   # scripts/registry.sh

kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# render MANIFEST: the manifest with its @VARS@ (images, the cluster's DNS address and domain)
# filled in from the settings above.
render() {
  sed -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" \
      -e "s|@METRICS_SERVER_IMAGE@|$METRICS_SERVER_IMAGE|g" \
      -e "s|@TRAEFIK_IMAGE@|$TRAEFIK_IMAGE|g" \
      -e "s|@INGRESS_DOMAIN@|$INGRESS_DOMAIN|g" \
      -e "s|@INGRESS_CERTIFICATE_HASH@|${INGRESS_CERTIFICATE_HASH:-}|g" \
      -e "s|@KUBE_NETWORK_POLICIES_IMAGE@|$KUBE_NETWORK_POLICIES_IMAGE|g" \
      -e "s|@POD_NETWORK_IMAGE@|$POD_NETWORK_IMAGE|g" \
      -e "s|@API_SERVER_HOST@|${API_SERVER_HOST:-}|g" \
      -e "s|@LOCAL_PATH_PROVISIONER_IMAGE@|$LOCAL_PATH_PROVISIONER_IMAGE|g" \
      -e "s|@TEST_IMAGE@|$TEST_IMAGE|g" \
      -e "s|@DNS_SERVICE_IP@|${DNS_SERVICE_IP:-}|g" \
      -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|g" "$1"
}

# apply MANIFEST: renders and applies it (server-side, as the cluster's own field manager); its
# output goes to $LOGS/apply-<name>.log, shown when it fails.
apply() {
  local log
  log="$LOGS/apply-$(basename "$1" .yaml).log"
  mkdir -p "$LOGS"
  render "$1" | kubectl apply --server-side --field-manager=laravel-ops-cluster -f - >"$log" 2>&1 \
    || { cat "$log" >&2; die "applying $1 failed"; }
}

# ---- Debian root filesystems ------------------------------------------------------------------
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# debootstrap_tar TAR [PACKAGE...]: makes TAR, a `debootstrap --variant=minbase` root filesystem of
# DEBIAN_SUITE with PACKAGE... added, without package caches, lists, documentation or /dev (the
# runtime's), unless TAR.complete says it was made for the same suite, mirror and packages.
debootstrap_tar() {
  local tar="$1" key dir start=$SECONDS
  shift
  key="$(printf '%s\n' "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$@" | sha256sum | cut -c1-12)"
  [[ -f "$tar" && "$(cat "$tar.complete" 2>/dev/null)" == "$key" ]] && return 0
  if ! command -v debootstrap >/dev/null 2>&1; then
    changed "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null \
      || die "apt-get install debootstrap failed (run apt-get update first?)"
  fi
  local include=()
  [[ $# -gt 0 ]] && include=("--include=$(IFS=,; echo "$*")")
  dir="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-rootfs.XXXXXX")"
  changed "debootstrap --variant=minbase $DEBIAN_SUITE ${*:-(nothing added)} from $DEBIAN_MIRROR (log: $tar.log)"
  if ! debootstrap --variant=minbase "${include[@]}" "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >"$tar.log" 2>&1; then
    tail -n 20 "$tar.log" >&2
    rm -rf "$dir"
    die "debootstrap failed (log: $tar.log)"
  fi
  # iptables runs through nf_tables, as the host's own rules are written.
  if [[ -e "$dir/usr/sbin/iptables-nft" ]]; then
    chroot "$dir" update-alternatives --set iptables /usr/sbin/iptables-nft >/dev/null
    chroot "$dir" update-alternatives --set ip6tables /usr/sbin/ip6tables-nft >/dev/null
  fi
  rm -rf "${dir:?}"/var/cache/apt/archives/*.deb "${dir:?}"/var/lib/apt/lists/* "${dir:?}"/dev/* \
    "${dir:?}"/usr/share/doc/* "${dir:?}"/usr/share/man/*
  tar -C "$dir" --numeric-owner --xattrs --sort=name -cf "$tar.tmp" .
  rm -rf "$dir"
  mv -f "$tar.tmp" "$tar"
  echo "$key" >"$tar.complete"
  log "rootfs $tar ready in $((SECONDS - start))s"
}

# ---- certificates (openssl; made once, re-made if the names they must carry change) --------
new_key() { [[ -f "$1" ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

new_ca() { # NAME CN
  local n="$1" cn="$2"
  [[ -f "$PKI/$n.crt" && -f "$PKI/$n.key" ]] && return 0
  log "pki: CA $n"
  new_key "$PKI/$n.key"
  openssl req -x509 -new -key "$PKI/$n.key" -sha256 -days 3650 -subj "/CN=$cn" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
    -out "$PKI/$n.crt" 2>/dev/null
}

# new_cert NAME CA SUBJECT SANS: a server certificate signed by CA.
new_cert() {
  local n="$1" ca="$2" subj="$3" sans="$4"
  local id="$ca|$subj|server|$sans"
  # kept while it carries the same names, is signed by its CA and is valid for another day
  if [[ -f "$PKI/$n.crt" && -f "$PKI/$n.key" && "$(cat "$PKI/$n.id" 2>/dev/null)" == "$id" ]] \
      && openssl x509 -in "$PKI/$n.crt" -noout -checkend 86400 >/dev/null 2>&1 \
      && openssl verify -CAfile "$PKI/$ca.crt" "$PKI/$n.crt" >/dev/null 2>&1; then
    return 0
  fi
  log "pki: certificate $n ($subj, $sans)"
  new_key "$PKI/$n.key"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth"
    echo "subjectAltName=$sans"
  } > "$PKI/$n.ext"
  openssl req -new -key "$PKI/$n.key" -subj "$subj" -out "$PKI/$n.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -sha256 -extfile "$PKI/$n.ext" \
    -out "$PKI/$n.crt" 2>/dev/null
  rm -f "$PKI/$n.csr" "$PKI/$n.ext"
  echo "$id" > "$PKI/$n.id"
}

# explain_addon NAMESPACE LABEL: pod status and logs for an error message.
explain_addon() {
  kubectl -n "$1" get pods -l "$2" -o wide 2>&1 | sed 's/^/[cluster]   /' >&2 || true
  kubectl -n "$1" describe pods -l "$2" 2>/dev/null | tail -n 25 | sed 's/^/[cluster]   /' >&2 || true
  kubectl -n "$1" logs -l "$2" --tail=30 --all-containers 2>/dev/null | sed 's/^/[cluster]   /' >&2 || true
}

# ---- the ingress controller ------------------------------------------------------------------
# start_ingress: Traefik (manifests/traefik.yaml) with a default certificate for *.INGRESS_DOMAIN
# of an ingress CA made in $PKI. The CA is published as the ConfigMap traefik/ingress-ca (and
# $PKI/ingress-ca.crt), so that a client checks what Traefik serves.
start_ingress() {
  mkdir -p "$PKI" && chmod 700 "$PKI"
  new_ca ingress-ca "laravel-ops local ingress CA"
  new_cert ingress ingress-ca "/CN=*.$INGRESS_DOMAIN" "DNS:*.$INGRESS_DOMAIN,DNS:$INGRESS_DOMAIN"
  INGRESS_CERTIFICATE_HASH="$(sha256sum "$PKI/ingress.crt" | cut -c1-16)"
  apply "$CLUSTER_HERE/manifests/traefik.yaml"
  { kubectl -n traefik create secret tls default-certificate --cert="$PKI/ingress.crt" --key="$PKI/ingress.key" \
      --dry-run=client -o yaml
    echo ---
    kubectl -n traefik create configmap ingress-ca --from-file=ca.crt="$PKI/ingress-ca.crt" --dry-run=client -o yaml
  } | kubectl apply --server-side --field-manager=laravel-ops-cluster -f - >"$LOGS/apply-ingress-certificate.log" 2>&1 \
    || { cat "$LOGS/apply-ingress-certificate.log" >&2; die "storing the ingress certificate failed"; }
  local start=$SECONDS
  kubectl -n traefik rollout status deployment/traefik --timeout="${TIMEOUT}s" >/dev/null 2>&1 \
    || { explain_addon traefik app.kubernetes.io/name=traefik; die "Traefik did not become Ready in ${TIMEOUT}s"; }
  log "Traefik serves https://*.$INGRESS_DOMAIN on $(kubectl -n traefik get service traefik -o jsonpath='{.spec.clusterIP}'):443 (Ready after $((SECONDS - start))s)"
}

# ---- processes (each started by us, in its own session, pid in $RUN/NAME.pid) ---------------
pid_of() {
  local f="$RUN/$1.pid" pid exe
  [[ -f "$f" ]] || return 1
  pid="$(head -n1 "$f")"; exe="$(sed -n 2p "$f")"
  [[ -n "$pid" ]] && alive "$pid" || return 1
  # the pid must still be the program we started (pids are reused)
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$exe" ]] || return 1
  echo "$pid"
}
is_running() { pid_of "$1" >/dev/null; }

# fingerprint BINARY ARGS...: what a process was started from: the binary, its arguments and
# the content of every file an argument names (config files, certificates, kubeconfigs).
fingerprint() {
  local a v
  {
    sha256sum "$1"
    printf '%s\n' "$@"
    for a in "$@"; do
      v="${a#*=}"
      if [[ -f "$v" ]]; then sha256sum "$v"; fi
    done
  } 2>/dev/null | sha256sum | cut -c1-16
}

# start_proc NAME BINARY ARGS...: starts BINARY in the background unless NAME already runs from
# the same binary, arguments and files; if any of them changed, NAME is restarted.
start_proc() {
  local name="$1" bin="$2"; shift 2
  local pid fp
  fp="$(fingerprint "$bin" "$@")"
  if pid="$(pid_of "$name")"; then
    if [[ "$(sed -n 3p "$RUN/$name.pid")" == "$fp" ]]; then
      log "$name is running (pid $pid)"
      return 0
    fi
    log "$name: its binary, arguments or files changed: restarting"
    stop_proc "$name"
  fi
  mkdir -p "$LOGS" "$RUN"
  changed "starting $name (log: $LOGS/$name.log)"
  printf '\n==== %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >> "$LOGS/$name.log"
  setsid "$bin" "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  pid=$!
  printf '%s\n%s\n%s\n' "$pid" "$(readlink -f "$bin")" "$fp" > "$RUN/$name.pid"
}

# alive PID: the process exists and is not a zombie waiting for its parent to reap it
alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z ]]
}

# stop_proc NAME [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 20).
stop_proc() {
  local name="$1" grace="${2:-20}" pid i
  if ! pid="$(pid_of "$name")"; then
    rm -f "$RUN/$name.pid"
    return 0
  fi
  changed "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "$name did not stop in ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$RUN/$name.pid"
}
