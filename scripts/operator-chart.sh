#!/usr/bin/env bash
# Builds the offline test fixture of the prometheus_operator role: the real Prometheus Operator
# from its Go module, a minimal static image for it, and a small chart named
# `kube-prometheus-stack` (tests/fixtures/prometheus-operator/chart) that carries the operator's
# own CRDs under charts/crds/crds/ like the real chart does. Then it pushes the images and the
# chart (OCI) to the local registry, which the cluster's nodes pull from.
# It is a test fixture, not a replacement for kube-prometheus-stack (see the fixture's README).
#
# Steps (each one skipped when its cached result is already there; a warm run only checks):
#   build   go mod download github.com/prometheus-operator/prometheus-operator (+ its nested
#           modules pkg/apis/monitoring and pkg/client at the same version, which its go.mod
#           replaces with ./pkg/...), then `go build` cmd/operator and
#           cmd/prometheus-config-reloader (static, CGO off) with upstream's version ldflags;
#           and the servers the operator runs, at the operator's default versions: Prometheus
#           (github.com/prometheus/prometheus cmd/prometheus, with the Kubernetes service
#           discovery only, and without the web UI's assets, which its module does not carry: the
#           API and /-/ready work, / does not) and Alertmanager
#           (github.com/prometheus/alertmanager cmd/alertmanager); and the local log pipeline:
#           VictoriaLogs (github.com/VictoriaMetrics/VictoriaLogs app/victoria-logs), the store the
#           local inventory ships logs to, and the OpenTelemetry Collector distribution of
#           tests/fixtures/otelcol, which the log_collector role runs locally. One build runs at
#           a time (a lock in the cache): a run that needs the binaries waits for one under way.
#   start-build   runs `build` in the background, in a session of its own (its log in
#           $CACHE/prometheus-operator-<version>/build.log), and returns: the cluster's bring-up
#           starts it before the steps that mostly wait (the node image, creating the cluster),
#           and its last step, which pushes, waits for it.
#   image   OCI image tarballs (cluster/lib/ociimage.py): the binary, /etc/passwd and
#           /etc/group, USER 65534:65534 (nobody), nothing else.
#   chart   stages the chart, copies example/prometheus-operator-crd/*.yaml of the module zip,
#           unmodified, into charts/crds/crds/, `helm lint --strict`, `helm package`.
#   push    pushes the images (tests/fixtures/prometheus-operator/ocireg.py) and the chart
#           (`helm push --plain-http`) to the registry, logged in with a throw-away registry
#           config (the password never reaches a command line).
#
# Usage: scripts/operator-chart.sh [all|build|start-build|image|chart|push|print-vars]  (default all;
#   print-vars prints the role variables that install the pushed chart)
# Environment (all optional):
#   LARAVEL_OPS_CACHE        cache (default ~/.cache/laravel-ops); results in
#                            $CACHE/prometheus-operator-<version>/
#   OPERATOR_VERSION         Go module version of the operator (default below)
#   PROMETHEUS_VERSION       Prometheus server version (default below; module v0.3XX.Y of vX.XX.Y)
#   ALERTMANAGER_VERSION     Alertmanager version (default below)
#   REGISTRY                 registry host:port (default 127.0.0.1:5000); plain HTTP
#   LARAVEL_OPS_REGISTRY_USERNAME / LARAVEL_OPS_REGISTRY_PASSWORD   registry credentials
#                            (default: sourced from $CACHE/registry/credentials.env)
#   GO, HELM                 toolchain / helm binary (default: go on PATH or /usr/local/go/bin/go;
#                            .tools/bin/helm, else helm on PATH)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIXTURE="$HERE/tests/fixtures/prometheus-operator"

log() { printf '[operator-chart] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=cluster/lib/oci-images.sh
source "$HERE/cluster/lib/oci-images.sh"

# v0.93.1: the newest release whose three modules (the root and the nested pkg/apis/monitoring
# and pkg/client, all needed to build) the Go module proxy serves here. v0.94.x lacks
# pkg/client (404), v0.95.x the root module (403). kube-prometheus-stack 88.2.0 (the role's
# default) ships v0.93.0.
OPERATOR_VERSION="${OPERATOR_VERSION:-v0.93.1}"
[[ "$OPERATOR_VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "OPERATOR_VERSION must look like v0.93.1"
# shellcheck source=scripts/lib/prometheus.sh
source "$HERE/scripts/lib/prometheus.sh"
# The default Alertmanager of operator v0.93.1 (its pkg/operator DefaultAlertmanagerVersion).
ALERTMANAGER_VERSION="${ALERTMANAGER_VERSION:-v0.33.1}"
[[ "$ALERTMANAGER_VERSION" =~ ^v0\.[0-9]+\.[0-9]+$ ]] || die "ALERTMANAGER_VERSION must look like v0.33.1"
# VictoriaLogs, the log store of the local cluster, and the collector's contrib release (its
# modules are pinned in tests/fixtures/otelcol/go.mod).
VICTORIALOGS_VERSION="${VICTORIALOGS_VERSION:-v1.52.1}"
OTELCOL_SOURCE="$HERE/tests/fixtures/otelcol"
OTELCOL_VERSION="v$(sed -n 's#^\s*github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver v\([0-9.]*\)$#\1#p' "$OTELCOL_SOURCE/go.mod")"
[[ "$OTELCOL_VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "tests/fixtures/otelcol/go.mod must require the filelog receiver at one release"
CHART_NAME=kube-prometheus-stack
# The fixture's own revision (the last number of its Chart.yaml version) ends the version: a chart
# version names one content, and the role keeps every pulled version in its chart cache.
FIXTURE_REVISION="$(sed -n 's/^version: 0\.0\.0-local\.\([0-9][0-9]*\)$/\1/p' "$HERE/tests/fixtures/prometheus-operator/chart/Chart.yaml")"
[[ -n "$FIXTURE_REVISION" ]] || die "tests/fixtures/prometheus-operator/chart/Chart.yaml: version must be 0.0.0-local.<revision>"
CHART_VERSION="0.0.0-local.${OPERATOR_VERSION#v}.$FIXTURE_REVISION"
REGISTRY="${REGISTRY:-127.0.0.1:5000}"
CHART_REPO="oci://$REGISTRY/charts"
OPERATOR_IMAGE="$REGISTRY/laravel-ops/prometheus-operator:$OPERATOR_VERSION"
RELOADER_IMAGE="$REGISTRY/laravel-ops/prometheus-config-reloader:$OPERATOR_VERSION"
PROMETHEUS_IMAGE="$REGISTRY/laravel-ops/prometheus:$PROMETHEUS_VERSION"
ALERTMANAGER_IMAGE="$REGISTRY/laravel-ops/alertmanager:$ALERTMANAGER_VERSION"
VICTORIALOGS_IMAGE="$REGISTRY/laravel-ops/victoria-logs:$VICTORIALOGS_VERSION"
OTELCOL_IMAGE="$REGISTRY/laravel-ops/otelcol:$OTELCOL_VERSION"
MODULE=github.com/prometheus-operator/prometheus-operator

CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
OUT="$CACHE/prometheus-operator-$OPERATOR_VERSION"
MODE="${1:-all}"
case "$MODE" in all|build|start-build|image|chart|push|print-vars) ;;
  *) die "usage: $0 [all|build|start-build|image|chart|push|print-vars]" ;; esac

if [[ "$MODE" == print-vars ]]; then
  cat <<EOF
prometheus_operator_chart_ref: $CHART_REPO/$CHART_NAME
prometheus_operator_chart_version: $CHART_VERSION
prometheus_operator_chart_plain_http: true
EOF
  exit 0
fi
# shellcheck source=scripts/lib/status.sh
source "$HERE/scripts/lib/status.sh"
# shellcheck source=scripts/lib/go.sh
source "$HERE/scripts/lib/go.sh"

HELM="${HELM:-}"
if [[ -z "$HELM" ]]; then
  if [[ -x "$HERE/.tools/bin/helm" ]]; then HELM="$HERE/.tools/bin/helm"
  else HELM="$(command -v helm || true)"
  fi
fi

go_env

WORK="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-operator-chart.XXXXXX")"
trap 'status_end $?; rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
started=$SECONDS


# ---- build -------------------------------------------------------------------------------------
SRC=""
module_dirs() {
  local json
  json="$("$GO" mod download -json "$MODULE@$OPERATOR_VERSION" "$MODULE/pkg/apis/monitoring@$OPERATOR_VERSION" \
    "$MODULE/pkg/client@$OPERATOR_VERSION")" || {
      printf '%s\n' "$json" | grep '"Error"' >&2 || true
      die "go mod download of $MODULE $OPERATOR_VERSION failed (the proxy must serve the root, pkg/apis/monitoring and pkg/client at that version)"
    }
  SRC="$GOMODCACHE/$MODULE@$OPERATOR_VERSION"
  [[ -f "$SRC/go.mod" ]] || die "module $MODULE@$OPERATOR_VERSION is not in $GOMODCACHE"
}

# operator_source: the operator's source, as go_build's SOURCE. The root module's go.mod replaces
# the nested modules with ./pkg/...; module zips leave nested modules out, so their own zips'
# contents go back where the replace points, in a copy.
operator_source() {
  module_dirs
  SRC_DIR="$WORK/src-operator"
  rm -rf "$SRC_DIR"; mkdir -p "$SRC_DIR"
  cp -a "$SRC/." "$SRC_DIR/"
  local sub
  for sub in pkg/apis/monitoring pkg/client; do
    rm -rf "${SRC_DIR:?}/$sub"; mkdir -p "$SRC_DIR/$sub"
    cp -a "$GOMODCACHE/$MODULE/$sub@$OPERATOR_VERSION/." "$SRC_DIR/$sub/"
  done
  chmod -R u+w "$SRC_DIR"
}

# go_build NAME VERSION PACKAGES LDFLAGS KEY SOURCE...: `go build` PACKAGES (one or more, space
# separated; static, CGO off) into $OUT/NAME-VERSION/, kept while KEY (the Go version and what else
# the build depends on) is the same. Only when it builds it runs the command SOURCE..., which sets
# SRC_DIR to the directory to build in.
go_build() {
  local name="$1" version="$2" ldflags="$4" key="$5" SRC_DIR=. packages
  read -ra packages <<<"$3"
  shift 5
  local bin="$OUT/$name-$version" start=$SECONDS
  if [[ -f "$bin/.complete" && "$(cat "$bin/.complete")" == "$key" ]]; then
    log "build: $name $version already built ($bin)"
    return
  fi
  "$@"
  log "build: $name $version with $GO_VERSION (cold builds take minutes)"
  rm -rf "$bin.tmp"; mkdir -p "$bin.tmp"
  go_build_static "$SRC_DIR" "$bin.tmp" "$ldflags" "${packages[@]}" || die "go build of $name failed"
  rm -rf "$bin"; mv "$bin.tmp" "$bin"
  printf '%s' "$key" >"$bin/.complete"
  changed "build: $name done in $((SECONDS - start))s"
}

# module_source MODULE VERSION [NAME]: downloads MODULE and sets SRC_DIR to its source; when a
# function prepare_NAME exists, to a copy of it that the function prepared.
module_source() {
  local module="$1" version="$2" name="${3:-}"
  SRC_DIR="$(go_module_source "$module" "$version")"
  # otherwise built in place: the module cache is made writable (-modcacherw) and nothing is
  # written there
  if [[ -n "$name" ]] && declare -F "prepare_$name" >/dev/null; then
    rm -rf "$WORK/src-$name"; cp -a "$SRC_DIR" "$WORK/src-$name"; chmod -R u+w "$WORK/src-$name"
    SRC_DIR="$WORK/src-$name"
    (cd "$SRC_DIR" && "prepare_$name") || die "preparing the source of $name failed"
  fi
}

# source_dir DIR: builds in DIR as it is (a source of this checkout).
source_dir() { SRC_DIR="$1"; }

# build_server NAME VERSION MODULE MODULE_VERSION [TAGS]: MODULE's cmd/NAME, stamped as upstream's
# release builds stamp it, with the build tags TAGS (comma separated).
build_server() {
  local name="$1" version="$2" module="$3" module_version="$4" tags="${5:-}"
  GO_BUILD_TAGS="$tags" go_build "$name" "$version" "./cmd/$name" "$(prometheus_ldflags "$version" "$module_version")" \
    "$GO_VERSION${tags:+ $tags}" module_source "$module" "$module_version" "$name"
}

# Alertmanager embeds its web UI from ui/app/dist, which its release process builds with npm and
# the Elm compiler and its module does not carry. A page saying so stands in for it: the API
# (/api/v2) and /-/ready, which the operator and Prometheus use, do not depend on it.
prepare_alertmanager() {
  mkdir -p ui/app/dist
  printf '%s\n' '<!doctype html><title>Alertmanager</title>' \
    '<p>Built without its web UI (laravel_ops.k8s test fixture): use the API under /api/v2/.</p>' \
    >ui/app/dist/index.html
}

# The log pipeline the local inventory ships to: VictoriaLogs, and the collector distribution of
# tests/fixtures/otelcol (its go.sum pins every module).
build_log_pipeline() {
  go_build victoria-logs "$VICTORIALOGS_VERSION" ./app/victoria-logs \
    "-s -w -X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-$VICTORIALOGS_VERSION" "$GO_VERSION" \
    module_source github.com/VictoriaMetrics/VictoriaLogs "$VICTORIALOGS_VERSION"
  go_build otelcol "$OTELCOL_VERSION" . "-s -w -X main.version=${OTELCOL_VERSION#v}" \
    "$GO_VERSION $(hash_of "$OTELCOL_SOURCE"/go.mod "$OTELCOL_SOURCE"/go.sum "$OTELCOL_SOURCE"/*.go)" source_dir "$OTELCOL_SOURCE"
}

# build: the operator and its config reloader, and the servers and log pipeline it runs.
build() {
  exec {build_lock}>"$OUT/.build.lock"
  if ! flock -n "$build_lock"; then
    log "build: waiting for the build under way (log: $OUT/build.log)"
    flock "$build_lock"
  fi
  go_build operator "$OPERATOR_VERSION" "./cmd/operator ./cmd/prometheus-config-reloader" \
    "$(prometheus_ldflags "$OPERATOR_VERSION" "$OPERATOR_VERSION")" "$GO_VERSION" operator_source
  build_server prometheus "$PROMETHEUS_VERSION" github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION" \
    "$PROMETHEUS_BUILD_TAGS"
  build_server alertmanager "$ALERTMANAGER_VERSION" github.com/prometheus/alertmanager "$ALERTMANAGER_VERSION"
  build_log_pipeline
}

# ---- images ------------------------------------------------------------------------------------
PASSWD=$'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n'
GROUP=$'root:x:0:\nnobody:x:65534:\n'

# image NAME REF BINARY [ociimage args]: $OUT/images/NAME/KEY.tar, listed for the push.
image() {
  local name="$1" ref="$2" binary="$3" key; shift 3
  key="$(hash_of "$binary" "$OCIIMAGE_PY" <(printf '%s\n%s%s%s' "$ref" "$PASSWD" "$GROUP" "$*"))"
  oci_image "$WORK/images" "$OUT/images" "$name" "$ref" "$key" \
    --file "$binary:/bin/$name:0755" \
    --text "/etc/passwd:0644:$PASSWD" --text "/etc/group:0644:$GROUP" \
    --entrypoint "[\"/bin/$name\"]" --user 65534:65534 \
    --label "org.opencontainers.image.version=$OPERATOR_VERSION" \
    --label "org.opencontainers.image.source=https://$MODULE" "$@"
}

images() {
  build
  : >"$WORK/images"
  image operator "$OPERATOR_IMAGE" "$OUT/operator-$OPERATOR_VERSION/operator"
  image prometheus-config-reloader "$RELOADER_IMAGE" "$OUT/operator-$OPERATOR_VERSION/prometheus-config-reloader"
  # The operator mounts the storage at /prometheus and passes every flag itself.
  image prometheus "$PROMETHEUS_IMAGE" "$OUT/prometheus-$PROMETHEUS_VERSION/prometheus" --workdir /prometheus
  image alertmanager "$ALERTMANAGER_IMAGE" "$OUT/alertmanager-$ALERTMANAGER_VERSION/alertmanager" --workdir /alertmanager
  image victoria-logs "$VICTORIALOGS_IMAGE" "$OUT/victoria-logs-$VICTORIALOGS_VERSION/victoria-logs" --workdir /victoria-logs-data
  image otelcol "$OTELCOL_IMAGE" "$OUT/otelcol-$OTELCOL_VERSION/otelcol"
}

# ---- chart -------------------------------------------------------------------------------------
CHART_TGZ=""
chart() {
  [[ -n "$HELM" && -x "$HELM" ]] || die "no helm found (run scripts/setup.sh or set HELM)"
  [[ -n "$SRC" ]] || module_dirs
  local crds="$SRC/example/prometheus-operator-crd" key stage
  compgen -G "$crds/*.yaml" >/dev/null || die "no CRDs in $crds"
  key="$( { (cd "$FIXTURE/chart" && find . -type f | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$f"; done);
            cat "$crds"/*.yaml; echo "$CHART_VERSION $OPERATOR_VERSION $PROMETHEUS_VERSION $ALERTMANAGER_VERSION $REGISTRY"; } | sha256sum | cut -c1-16)"
  CHART_TGZ="$OUT/chart-$key/$CHART_NAME-$CHART_VERSION.tgz"
  if [[ -f "$CHART_TGZ" ]]; then
    log "chart: $CHART_NAME $CHART_VERSION is packaged ($CHART_TGZ)"
    return
  fi
  stage="$WORK/chart/$CHART_NAME"
  mkdir -p "$stage"
  cp -a "$FIXTURE/chart/." "$stage/"
  mkdir -p "$stage/charts/crds/crds"
  cp "$crds"/*.yaml "$stage/charts/crds/crds/"
  # The registry the images were pushed to (values.yaml carries 127.0.0.1:5000).
  sed -i -e "s#^  imageRegistry: 127.0.0.1:5000\$#  imageRegistry: $REGISTRY#" \
    -e "s#^      tag: v3[.0-9]*  \(\# the Prometheus server version.*\)\$#      tag: $PROMETHEUS_VERSION  \1#" \
    -e "s#^      tag: v0[.0-9]*  \(\# the Alertmanager version.*\)\$#      tag: $ALERTMANAGER_VERSION  \1#" "$stage/values.yaml"
  grep -q "^      tag: $PROMETHEUS_VERSION  # the Prometheus server version" "$stage/values.yaml" \
    || die "could not set the Prometheus version in the chart's values.yaml"
  grep -q "^      tag: $ALERTMANAGER_VERSION  # the Alertmanager version" "$stage/values.yaml" \
    || die "could not set the Alertmanager version in the chart's values.yaml"
  grep -q "^  imageRegistry: $REGISTRY\$" "$stage/values.yaml" || die "could not set the registry in the chart's values.yaml"
  log "chart: helm lint --strict"
  "$HELM" lint --strict "$stage" >"$WORK/lint.log" 2>&1 || { cat "$WORK/lint.log" >&2; die "helm lint failed"; }
  mkdir -p "$WORK/pkg"
  "$HELM" package "$stage" --version "$CHART_VERSION" --app-version "$OPERATOR_VERSION" \
    --destination "$WORK/pkg" >/dev/null
  mkdir -p "$(dirname "$CHART_TGZ")"
  mv "$WORK/pkg/$CHART_NAME-$CHART_VERSION.tgz" "$CHART_TGZ"
  find "$OUT" -maxdepth 1 -name 'chart-*' ! -name "chart-$key" -exec rm -rf {} +
  changed "chart: packaged $CHART_TGZ"
}

# ---- push to the registry ----------------------------------------------------------------------
credentials() {
  if [[ -z "${LARAVEL_OPS_REGISTRY_USERNAME:-}" || -z "${LARAVEL_OPS_REGISTRY_PASSWORD:-}" ]]; then
    if [[ -f "$CACHE/registry/credentials.env" ]]; then
      # shellcheck source=/dev/null
      source "$CACHE/registry/credentials.env"
    fi
  fi
  [[ -n "${LARAVEL_OPS_REGISTRY_USERNAME:-}" && -n "${LARAVEL_OPS_REGISTRY_PASSWORD:-}" ]] \
    || die "no registry credentials: set LARAVEL_OPS_REGISTRY_USERNAME/PASSWORD or run scripts/registry.sh"
  export LARAVEL_OPS_REGISTRY_USERNAME LARAVEL_OPS_REGISTRY_PASSWORD
}

push() {
  local code
  code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://$REGISTRY/v2/" || true)"
  [[ "$code" == 401 || "$code" == 200 ]] || die "no registry answers on http://$REGISTRY/v2/ (HTTP $code): run scripts/registry.sh"
  credentials
  local ref tar digest
  while read -r ref tar digest; do
    python3 "$FIXTURE/ocireg.py" --plain-http push "$tar" "$ref" 2>&1 >/dev/null | sed 's/^/[operator-chart]   /' >&2 \
      || die "pushing $ref failed"
  done <"$WORK/images"

  # helm reads docker-style auths from its registry config: a private, throw-away one.
  local regconf="$WORK/registry-config.json"
  (umask 077; printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" \
    "$(printf '%s:%s' "$LARAVEL_OPS_REGISTRY_USERNAME" "$LARAVEL_OPS_REGISTRY_PASSWORD" | base64 -w0)" >"$regconf")
  local want have
  want="sha256:$(sha256sum "$CHART_TGZ" | cut -d' ' -f1)"
  have="$(python3 "$FIXTURE/ocireg.py" --plain-http layer "$CHART_REPO/$CHART_NAME:$CHART_VERSION" 2>/dev/null || true)"
  if [[ "$have" == "$want" ]]; then
    log "push: $CHART_REPO/$CHART_NAME:$CHART_VERSION is in the registry ($want)"
  else
    changed "push: helm push $CHART_NAME-$CHART_VERSION.tgz $CHART_REPO"
    "$HELM" push "$CHART_TGZ" "$CHART_REPO" --plain-http --registry-config "$regconf" 2>&1 \
      | sed 's/^/[operator-chart]   /' >&2
    [[ "${PIPESTATUS[0]}" == 0 ]] || die "helm push failed"
  fi
  rm -f "$regconf"
}

case "$MODE" in
  build) build ;;
  start-build)
    setsid nohup bash "$HERE/scripts/operator-chart.sh" build >"$OUT/build.log" 2>&1 </dev/null &
    log "build: started in the background (log: $OUT/build.log)"
    exit 0
    ;;
  image) images ;;
  chart) chart ;;
  push | all) images; chart; push ;;
esac
log "done in $((SECONDS - started))s: chart $CHART_REPO/$CHART_NAME $CHART_VERSION, image $OPERATOR_IMAGE"
