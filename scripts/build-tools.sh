#!/usr/bin/env bash
# Builds the collection's Go tools (tools/psa-check) into a cache outside the clone, keyed by the
# pinned k8s.io/pod-security-admission version and a hash of go.mod, go.sum, the sources and the
# Go version, then links the binary to .tools/bin/psa-check of this clone. With --test, also builds
# promtool (github.com/prometheus/prometheus cmd/promtool of the Prometheus release the local
# cluster runs, scripts/lib/prometheus.sh; keyed by that version, its build tags and the Go
# version; a cold build takes a minute or two) and links .tools/bin/promtool: only the chart tests
# run it (`promtool test rules`, `promtool check rules`).
# Go modules come from the Go module proxy only and are kept, with the build cache, under the same
# cache folder ($CACHE/go/mod, $CACHE/go/build), so a warm run takes a second or two.
#
# Usage: scripts/build-tools.sh [--test]
#   --test   also run the tool's go tests (with the same caches) and build promtool
# Environment: LARAVEL_OPS_CACHE (default ~/.cache/laravel-ops), GO (default: go on PATH, else
#   /usr/local/go/bin/go), PROMETHEUS_VERSION (default in scripts/lib/prometheus.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
SRC="$ROOT/tools/psa-check"
RUN_TESTS=0

log() { printf '[build-tools] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/go.sh
source "$ROOT/scripts/lib/go.sh"
# shellcheck source=scripts/lib/prometheus.sh
source "$ROOT/scripts/lib/prometheus.sh"

for arg in "$@"; do
  case "$arg" in
    --test) RUN_TESTS=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

go_env

[[ -f "$SRC/go.mod" && -f "$SRC/go.sum" ]] || die "$SRC/go.mod or go.sum is missing"

export GOFLAGS="$GOFLAGS -mod=readonly"
mkdir -p "$GOMODCACHE" "$GOCACHE" "$ROOT/.tools/bin"

psa_version="$(awk '$1 == "k8s.io/pod-security-admission" { print $2; exit }' "$SRC/go.mod")"
[[ -n "$psa_version" ]] || die "k8s.io/pod-security-admission is not pinned in $SRC/go.mod"
src_hash="$(
  cd "$SRC"
  {
    echo "$GO_VERSION"
    cat go.mod go.sum
    for f in *.go; do
      [[ "$f" == *_test.go ]] && continue
      echo "== $f"
      cat "$f"
    done
  } | sha256sum | cut -c1-12
)"
# tool NAME KEY BUILD...: unless $CACHE/NAME-KEY holds a complete build, runs BUILD with the
# binary's path as its last argument; then links .tools/bin/NAME to the binary.
tool() {
  local name="$1" key="$2" dir="$CACHE/$1-$2" start=$SECONDS
  shift 2
  if [[ -x "$dir/$name" && -f "$dir/.complete" ]]; then
    log "$name $key is up to date ($dir/$name)"
  else
    log "building $name $key with $GO_VERSION"
    rm -rf "$dir"
    mkdir -p "$dir"
    "$@" "$dir/$name"
    "$dir/$name" --help >/dev/null 2>&1 || die "$dir/$name does not run"
    touch "$dir/.complete"
    log "built $dir/$name in $((SECONDS - start))s"
  fi
  ln -sfn "$dir/$name" "$ROOT/.tools/bin/$name"
  log "linked $ROOT/.tools/bin/$name -> $dir/$name"
}

build_psa_check() {
  (cd "$SRC" && "$GO" mod download && "$GO" build -trimpath -o "$1.tmp" .)
  mv -f "$1.tmp" "$1"
}

build_promtool() {
  local source
  source="$(go_module_source github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION")"
  GO_BUILD_TAGS="$PROMETHEUS_BUILD_TAGS" go_build_static "$source" "$(dirname "$1")" "$(prometheus_ldflags "$PROMETHEUS_VERSION" "$PROMETHEUS_MODULE_VERSION")" \
    ./cmd/promtool
}

tool psa-check "$psa_version-$src_hash" build_psa_check
if [[ "$RUN_TESTS" == 1 ]]; then
  log "running go test for tools/psa-check"
  (cd "$SRC" && "$GO" test -count=1 ./...)
  tool promtool "$PROMETHEUS_VERSION-$GO_VERSION-${PROMETHEUS_BUILD_TAGS//,/-}" build_promtool
fi
