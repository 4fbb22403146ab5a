# shellcheck shell=bash
# Sourced by every script that builds Go code. Needs CACHE and `die` defined first.

# go_env: sets GO to the toolchain (GO, else go on PATH, else /usr/local/go/bin/go) and GO_VERSION
# to its version, and exports GOARCH and the environment all of the project's Go builds share: one
# module and one build cache under $CACHE (keyed by content, so every script reuses the others'
# work), the local toolchain only, static Linux binaries, each module built on its own go.mod
# (some module zips carry a go.work naming directories they leave out).
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
  export GOWORK=off
  export GOFLAGS="-modcacherw -buildvcs=false"
  export CGO_ENABLED=0
  export GOOS=linux
  GOARCH="$("$GO" env GOARCH)" || die "$GO does not run"
  export GOARCH
  GO_VERSION="$("$GO" env GOVERSION)" || die "$GO does not run"
}

# go_build_static DIR OUT LDFLAGS PACKAGE...: builds PACKAGE... of the module in DIR into the folder
# OUT, as its go.mod and go.sum pin them (niced: a cold build takes minutes). Builds that take the
# same flags share the build cache: the Prometheus server and promtool compile their module once.
# GO_BUILD_TAGS (comma separated) adds build tags to netgo.
go_build_static() {
  local dir="$1" out="$2" ldflags="$3"
  shift 3
  (cd "$dir" && nice "$GO" build -mod=readonly -trimpath -tags "netgo${GO_BUILD_TAGS:+,$GO_BUILD_TAGS}" \
    -ldflags "$ldflags" -o "$out/" "$@")
}

# go_module_source MODULE VERSION: downloads MODULE at VERSION into the module cache and prints the
# folder of its source there.
go_module_source() {
  local dir
  dir="$("$GO" mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || die "go mod download $1@$2 failed"
  printf '%s\n' "$dir"
}
