#!/usr/bin/env bash
# Runs a local image registry for the image role and the local cluster: Debian's
# docker-registry (distribution 2.8) on 127.0.0.1:5000, plain HTTP (loopback only), htpasswd
# basic auth, deletion enabled, storage in the cache. Idempotent: a second run only checks.
#
# Files (all under $CACHE/registry, the directory is 0700):
#   credentials.env   0600, generated once:  export LARAVEL_OPS_REGISTRY_USERNAME=...
#                                            export LARAVEL_OPS_REGISTRY_PASSWORD=...
#                     (`source` it before running the image role or `docker login`)
#   htpasswd          bcrypt hash of that password (apache2-utils' htpasswd -B)
#   config.yml        the registry configuration
#   data/             the blobs and manifests
#   registry.log, registry.pid
#
# Usage: scripts/registry.sh [start|stop|status]   (default start)
# Environment: LARAVEL_OPS_CACHE (default ~/.cache/laravel-ops), REGISTRY_ADDR (default
# 127.0.0.1:5000; keep it on loopback: the registry speaks plain HTTP).
# No systemd here: the registry runs as a background process of root (its storage is in the
# cache, under root's home).
set -euo pipefail

CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
DIR="$CACHE/registry"
ADDR="${REGISTRY_ADDR:-127.0.0.1:5000}"
USERNAME=laravel-ops
TIMEOUT=30
PIDFILE="$DIR/registry.pid"
MODE="${1:-start}"

log() { printf '[registry] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/status.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/status.sh"

case "$MODE" in start|stop|status) ;; *) die "usage: $0 [start|stop|status]" ;; esac
started=$SECONDS

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" "http://$ADDR/v2/" || true; }

stop_registry() {
  if running; then
    local pid; pid="$(cat "$PIDFILE")"
    changed "stopping the registry (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$PIDFILE"
}

if [[ "$MODE" == stop ]]; then stop_registry; exit 0; fi
if [[ "$MODE" == status ]]; then
  if running; then log "running (pid $(cat "$PIDFILE")) on $ADDR"; exit 0; fi
  log "not running"; exit 1
fi

# ---- packages ----------------------------------------------------------------------------------
missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [[ ${#missing[@]} -gt 0 ]]; then
  [[ $EUID -eq 0 ]] || die "run as root to install ${missing[*]}"
  changed "installing ${missing[*]}"
  # The package's init script must not start a second registry: policy-rc.d on this machine
  # denies it, and without systemd nothing else would.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# ---- credentials (generated once) --------------------------------------------------------------
mkdir -p "$DIR/data"
chmod 0700 "$DIR"
umask 077
if [[ ! -s "$DIR/credentials.env" ]]; then
  password="$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | cut -c1-32)"
  printf 'export LARAVEL_OPS_REGISTRY_USERNAME=%s\nexport LARAVEL_OPS_REGISTRY_PASSWORD=%s\n' \
    "$USERNAME" "$password" >"$DIR/credentials.env.tmp"
  mv "$DIR/credentials.env.tmp" "$DIR/credentials.env"
  log "generated credentials in $DIR/credentials.env"
fi
chmod 0600 "$DIR/credentials.env"
# shellcheck source=/dev/null
source "$DIR/credentials.env"
user="$LARAVEL_OPS_REGISTRY_USERNAME"
pass="$LARAVEL_OPS_REGISTRY_PASSWORD"

restart=false
if [[ ! -s "$DIR/htpasswd" ]] || ! htpasswd -vb "$DIR/htpasswd" "$user" "$pass" >/dev/null 2>&1; then
  htpasswd -cbB "$DIR/htpasswd" "$user" "$pass" 2>/dev/null
  chmod 0600 "$DIR/htpasswd"
  log "wrote $DIR/htpasswd (bcrypt)"
  restart=true
fi

# ---- configuration -----------------------------------------------------------------------------
if [[ ! -s "$DIR/http-secret" ]]; then
  head -c 32 /dev/urandom | base64 | tr -d '/+=' >"$DIR/http-secret"
fi
config="$(cat <<EOF
# Written by scripts/registry.sh; rewritten when it changes.
version: 0.1
log:
  level: info
  formatter: text
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $DIR/data
  delete:
    enabled: true
http:
  addr: $ADDR
  secret: $(cat "$DIR/http-secret")
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: laravel-ops-registry
    path: $DIR/htpasswd
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
)"
if [[ "$(cat "$DIR/config.yml" 2>/dev/null)" != "$config" ]]; then
  printf '%s\n' "$config" >"$DIR/config.yml"
  log "wrote $DIR/config.yml (storage $DIR/data, deletion enabled)"
  restart=true
fi

# ---- process -----------------------------------------------------------------------------------
if running && [[ "$restart" == true ]]; then
  stop_registry
fi
if ! running; then
  code="$(http_code)"
  [[ "$code" == 000 ]] || die "something else already answers on $ADDR (HTTP $code); stop it first"
  changed "starting docker-registry on $ADDR (log: $DIR/registry.log)"
  setsid nohup docker-registry serve "$DIR/config.yml" >>"$DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  deadline=$((SECONDS + TIMEOUT))
  until [[ "$(http_code)" != 000 ]]; do
    if ! running || ((SECONDS >= deadline)); then
      tail -n 20 "$DIR/registry.log" >&2
      die "the registry did not answer on $ADDR"
    fi
    sleep 0.2
  done
fi

# ---- verification ------------------------------------------------------------------------------
anonymous="$(http_code)"
[[ "$anonymous" == 401 ]] || die "GET /v2/ without credentials answered $anonymous, expected 401"
authenticated="$(http_code -u "$user:$pass")"
[[ "$authenticated" == 200 ]] || die "GET /v2/ with the credentials answered $authenticated, expected 200"
log "registry on http://$ADDR (pid $(cat "$PIDFILE")): /v2/ answers 401 without and 200 with credentials"
log "credentials: source $DIR/credentials.env; done in $((SECONDS - started))s"
