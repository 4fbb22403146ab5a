# shellcheck shell=bash
# Sourced by every script that builds Go code. Needs CACHE and `die` defined first.

# go_env: sets GO to the toolchain (GO, else go on PATH, else /usr/local/go/bin/go) and GO_VERSION
# to its version, and exports GOARCH and the environment all of the project's Go builds share: one
# module and one build cache under $CACHE (keyed by content, so every script reuses the others'
# work), the local toolchain only, static Linux binaries.
go_env() {
  GO="${GO:-}"
  if [[ -z "$GO" ]]; then
    if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
    elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
    else die "no Go toolchain found (set GO=/path/to/go; Go >= 1.26 is needed)"
    fi
  fi
  export GOMODCACHE="$CACHE/go/mod"
  export GOCACHE="$CACHE/go/build"
  export GOTOOLCHAIN=local          # never download another toolchain
  export GOFLAGS="-modcacherw -buildvcs=false"
  export CGO_ENABLED=0
  export GOOS=linux
  GOARCH="$("$GO" env GOARCH)" || die "$GO does not run"
  export GOARCH
  GO_VERSION="$("$GO" env GOVERSION)" || die "$GO does not run"
}
