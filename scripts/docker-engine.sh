#!/usr/bin/env bash
# Brings up a local Docker engine for building and running the test images: Debian's containerd,
# runc and CLI, the engine (dockerd) and the buildx CLI plugin built from their Go modules.
# Idempotent: a second run only checks. Needs root (it installs packages and starts daemons).
#
#   1. Debian's docker.io is installed when dockerd, containerd or runc is missing (for the CLI,
#      containerd and runc; its engine, 20.10, is not run: see DOCKER_ENGINE_VERSION).
#   2. /etc/docker/daemon.json gets "insecure-registries": ["127.0.0.1:5000"] (other keys kept;
#      a running engine reloads it with SIGHUP).
#   3. A containerd of its own (socket /run/docker/containerd/containerd.sock, the paths
#      dockerd would use for a managed one) and dockerd are started in the background; logs
#      in $CACHE/docker-engine/logs. dockerd is always given that containerd explicitly, so it
#      never attaches to a system containerd at /run/containerd (the local Kubernetes
#      cluster's), and stopping one never breaks the other.
#   4. The engine (github.com/docker/docker, pinned below) is built into
#      $CACHE/docker-engine-<version>/; a running engine of another version is stopped first.
#   5. The buildx plugin (github.com/docker/buildx, pinned below) is built with `go install`
#      into $CACHE/buildx-<version>/ and linked into /usr/libexec/docker/cli-plugins.
#   6. Checks that the `docker` first on PATH talks to the engine and has buildx.
#
# Environment: LARAVEL_OPS_CACHE (default ~/.cache/laravel-ops), GO (default: go on PATH or
# /usr/local/go/bin/go), DOCKER_ENGINE_TIMEOUT (seconds to wait for the engine, default 60).
#
# Which CLI: /usr/local/bin/docker (if present, e.g. a newer static CLI) comes before Debian's
# /usr/bin/docker on PATH. Both work: the client negotiates the API version down to the
# engine's (1.41 for 20.10), and both find the plugin in /usr/libexec/docker/cli-plugins. Set
# DOCKER_API_VERSION=1.41 only for a client that does not negotiate.
set -euo pipefail

# buildx: the newest release the Go module proxy serves here (v0.38.2) builds with Go 1.26 and
# works with the engine's built-in BuildKit (v0.8, API 1.41) through the `docker` driver:
# RUN --mount caches, multi-stage targets, inline cache export/import. (Older releases such
# as v0.23.0 cannot be `go install`ed at all: their go.mod has exclude directives.)
BUILDX_VERSION="${BUILDX_VERSION:-v0.38.2}"
# The engine: 23 or newer starts privileged containers on hosts whose capability bounding set
# lacks some capability the kernel knows (this one lacks CAP_SYS_RESOURCE; 20.10 asks for every
# capability and fails), which kind's node containers are. v28.5.2 is the newest release the
# module proxy serves; it has no go.mod (+incompatible), so its vendor.mod is the build's go.mod.
# It keeps graphdriver storage (overlay2) by default, so Debian's containerd 1.6 serves it.
DOCKER_ENGINE_VERSION="${DOCKER_ENGINE_VERSION:-v28.5.2}"
INSECURE_REGISTRY="127.0.0.1:5000"

CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
STATE="$CACHE/docker-engine"
LOGS="$STATE/logs"
CONTAINERD_SOCK=/run/docker/containerd/containerd.sock
CONTAINERD_PID=/run/docker/containerd/laravel-ops-containerd.pid
DOCKERD_PID=/var/run/docker.pid
TIMEOUT="${DOCKER_ENGINE_TIMEOUT:-60}"
PLUGIN_DIR=/usr/libexec/docker/cli-plugins
ENGINE_DIR="$CACHE/docker-engine-$DOCKER_ENGINE_VERSION"

log() { printf '[docker-engine] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/status.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/status.sh"
# shellcheck source=scripts/lib/go.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go.sh"
elapsed() { printf '%ss' $((SECONDS - $1)); }

[[ $EUID -eq 0 ]] || die "run as root (installs docker.io, starts containerd and dockerd)"
mkdir -p "$STATE" "$LOGS"
started_all=$SECONDS

# ---- 1. packages -------------------------------------------------------------------------------
install_packages() {
  local t=$SECONDS
  if command -v dockerd >/dev/null 2>&1 && command -v containerd >/dev/null 2>&1 \
     && command -v runc >/dev/null 2>&1; then
    return
  fi
  changed "installing Debian's docker.io (engine, containerd, runc, iptables)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker.io iptables >"$LOGS/apt.log" 2>&1; then
    apt-get update -qq >>"$LOGS/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker.io iptables >>"$LOGS/apt.log" 2>&1 || { tail -n 20 "$LOGS/apt.log" >&2; die "apt-get install docker.io failed"; }
  fi
  log "docker.io installed in $(elapsed "$t")"
}

# ---- 2. daemon.json ----------------------------------------------------------------------------
# Prints "changed" when the file was rewritten.
configure_daemon() {
  mkdir -p /etc/docker
  python3 - "$INSECURE_REGISTRY" <<'EOF'
import json, os, sys
path = "/etc/docker/daemon.json"
registry = sys.argv[1]
try:
    with open(path) as handle:
        config = json.load(handle)
except FileNotFoundError:
    config = {}
before = json.dumps(config, sort_keys=True)
registries = config.setdefault("insecure-registries", [])
if registry not in registries:
    registries.append(registry)
if json.dumps(config, sort_keys=True) != before or not os.path.exists(path):
    with open(path + ".tmp", "w") as handle:
        json.dump(config, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(path + ".tmp", path)
    print("changed")
EOF
}

# ---- 3. daemons --------------------------------------------------------------------------------
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# wait_until WHAT COMMAND...: runs COMMAND until it succeeds (logs "WHAT after Ns") or TIMEOUT.
wait_until() {
  local what="$1" start=$SECONDS deadline=$((SECONDS + TIMEOUT)); shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
  log "$what after $(elapsed "$start")"
}

start_containerd() {
  if pid_alive "$CONTAINERD_PID" && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; then
    return
  fi
  mkdir -p /run/docker/containerd /var/lib/docker/containerd
  # The CRI plugin is for Kubernetes, not for dockerd: disabled.
  cat >"$STATE/containerd.toml" <<EOF
version = 2
root = "/var/lib/docker/containerd/daemon"
state = "/run/docker/containerd/daemon"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CONTAINERD_SOCK"
[debug]
  address = "/run/docker/containerd/containerd-debug.sock"
[ttrpc]
  address = ""
EOF
  rm -f "$CONTAINERD_SOCK"
  changed "starting containerd for dockerd (log: $LOGS/containerd.log)"
  setsid nohup containerd --config "$STATE/containerd.toml" --log-level warn \
    >>"$LOGS/containerd.log" 2>&1 </dev/null &
  echo $! >"$CONTAINERD_PID"
  wait_until "containerd answers on $CONTAINERD_SOCK" ctr --address "$CONTAINERD_SOCK" version \
    || { tail -n 20 "$LOGS/containerd.log" >&2; die "containerd did not answer within ${TIMEOUT}s"; }
}

start_dockerd() {
  if pid_alive "$DOCKERD_PID"; then
    # Running but not answering yet (still starting): wait for it below.
    return
  fi
  rm -f "$DOCKERD_PID" /var/run/docker.sock
  # With ip_forward already 1, dockerd leaves the FORWARD chain's policy alone; when it has to
  # enable forwarding itself it also sets that policy to DROP, which would cut the traffic of
  # anything else routed through this host (a local Kubernetes cluster's pods).
  if [[ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]]; then
    log "enabling net.ipv4.ip_forward (so dockerd keeps the FORWARD policy)"
    echo 1 >/proc/sys/net/ipv4/ip_forward
  fi
  changed "starting dockerd $DOCKER_ENGINE_VERSION (log: $LOGS/dockerd.log)"
  # docker-proxy must be the engine's own: it is passed listening sockets older ones do not take.
  setsid nohup "$ENGINE_DIR/dockerd" --containerd="$CONTAINERD_SOCK" --pidfile="$DOCKERD_PID" \
    --userland-proxy-path="$ENGINE_DIR/docker-proxy" >>"$LOGS/dockerd.log" 2>&1 </dev/null &
}

# An engine of another version (Debian's, or a previous pin) is stopped, so ours starts.
stop_other_engine() {
  local running
  running="$(timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null)" || return 0
  [[ "v$running" != "$DOCKER_ENGINE_VERSION" ]] || return 0
  changed "stopping the running engine $running (this project runs $DOCKER_ENGINE_VERSION)"
  pid_alive "$DOCKERD_PID" || die "engine $running answers but $DOCKERD_PID names no running dockerd: stop it first"
  kill "$(cat "$DOCKERD_PID")"
  local deadline=$((SECONDS + TIMEOUT))
  while pid_alive "$DOCKERD_PID"; do
    ((SECONDS < deadline)) || die "dockerd $running did not stop within ${TIMEOUT}s"
    sleep 0.5
  done
}

# ---- 4. the engine and buildx ------------------------------------------------------------------
install_engine() {
  if [[ -x "$ENGINE_DIR/dockerd" && -f "$ENGINE_DIR/.complete" ]]; then return; fi
  local src version="${DOCKER_ENGINE_VERSION#v}" t=$SECONDS
  go_env
  log "building the engine $DOCKER_ENGINE_VERSION with $GO_VERSION (dockerd and docker-proxy, a few minutes)"
  rm -rf "$ENGINE_DIR"; mkdir -p "$ENGINE_DIR"
  src="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-engine.XXXXXX")"
  (
    set -e
    dir="$(go_module_source github.com/docker/docker "$DOCKER_ENGINE_VERSION+incompatible")"
    cp -r "$dir/." "$src/engine" && chmod -R u+w "$src/engine" && cd "$src/engine"
    cp vendor.mod go.mod && cp vendor.sum go.sum && rm -rf vendor
    # netgo/osusergo: static without cgo; btrfs' graphdriver needs cgo and is not used here.
    GOFLAGS="$GOFLAGS -mod=mod" nice "$GO" build -trimpath \
      -tags "netgo osusergo exclude_graphdriver_btrfs" \
      -ldflags "-s -w -X github.com/docker/docker/dockerversion.Version=$version -X github.com/docker/docker/dockerversion.GitCommit=$DOCKER_ENGINE_VERSION" \
      -o "$ENGINE_DIR/" ./cmd/dockerd ./cmd/docker-proxy
  ) >"$ENGINE_DIR/build.log" 2>&1 || { tail -n 30 "$ENGINE_DIR/build.log" >&2; rm -rf "$src"; die "building the engine $DOCKER_ENGINE_VERSION failed"; }
  rm -rf "$src"
  touch "$ENGINE_DIR/.complete"
  changed "engine $DOCKER_ENGINE_VERSION built in $(elapsed "$t")"
}

install_buildx() {
  local dir="$CACHE/buildx-$BUILDX_VERSION" t=$SECONDS
  if [[ ! -x "$dir/docker-buildx" || ! -f "$dir/.complete" ]]; then
    go_env
    log "building buildx $BUILDX_VERSION with $GO_VERSION (go install, a few minutes)"
    rm -rf "$dir"; mkdir -p "$dir/bin"
    if ! GOBIN="$dir/bin" nice "$GO" install -trimpath \
        -ldflags "-s -w -X github.com/docker/buildx/version.Version=$BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx" \
        "github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION" >"$dir/build.log" 2>&1; then
      tail -n 30 "$dir/build.log" >&2
      die "go install github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION failed"
    fi
    mv "$dir/bin/buildx" "$dir/docker-buildx"
    rmdir "$dir/bin"
    touch "$dir/.complete"
    changed "buildx $BUILDX_VERSION built in $(elapsed "$t")"
  fi
  mkdir -p "$PLUGIN_DIR"
  if [[ "$(readlink "$PLUGIN_DIR/docker-buildx" 2>/dev/null)" != "$dir/docker-buildx" ]]; then
    ln -sfn "$dir/docker-buildx" "$PLUGIN_DIR/docker-buildx"
    log "linked $PLUGIN_DIR/docker-buildx -> $dir/docker-buildx"
  fi
}

# ---- main --------------------------------------------------------------------------------------
install_packages

if [[ "$(configure_daemon)" == changed ]]; then
  log "/etc/docker/daemon.json: insecure-registries includes $INSECURE_REGISTRY"
  if pid_alive "$DOCKERD_PID"; then
    changed "reloading dockerd's configuration (SIGHUP)"
    kill -HUP "$(cat "$DOCKERD_PID")"
  fi
fi

install_engine
stop_other_engine
if engine_answers; then
  log "engine already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
else
  start_containerd
  start_dockerd
  wait_until "dockerd answers" docker info \
    || { tail -n 30 "$LOGS/dockerd.log" >&2; die "dockerd did not answer within ${TIMEOUT}s (log: $LOGS/dockerd.log)"; }
fi

install_buildx

# ---- 5. checks ---------------------------------------------------------------------------------
docker_cli="$(command -v docker)" || die "no docker CLI on PATH"
server="$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')" \
  || die "$docker_cli cannot talk to the engine (try DOCKER_API_VERSION=1.41)"
client="$(docker version --format '{{.Client.Version}} (API {{.Client.APIVersion}})')"
docker info --format '{{json .RegistryConfig.IndexConfigs}}' | grep -qF "\"$INSECURE_REGISTRY\"" \
  || die "the engine does not list $INSECURE_REGISTRY as an insecure registry (see /etc/docker/daemon.json)"
buildx="$(docker buildx version 2>&1)" || die "docker buildx does not work with $docker_cli: $buildx"
[[ "v${server%% *}" == "$DOCKER_ENGINE_VERSION" ]] || die "the engine answering is $server, not $DOCKER_ENGINE_VERSION"
log "engine $server, CLI $docker_cli $client, $buildx"
log "done in $(elapsed "$started_all")"
