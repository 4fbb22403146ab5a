# shellcheck shell=bash
# Sourced by the scripts that build from github.com/prometheus/prometheus: operator-chart.sh (the
# server of the local cluster's monitoring) and build-tools.sh (the promtool the chart tests run).
# One version for both, so the alert rules are checked by the promtool of the server that loads
# them, and a cold run compiles the module once. Needs `die` defined first.

# v3.13.1: the default Prometheus of operator v0.93.1 (its pkg/operator DefaultPrometheusVersion).
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v3.13.1}"
[[ "$PROMETHEUS_VERSION" =~ ^v3\.([0-9]+)\.([0-9]+)$ ]] || die "PROMETHEUS_VERSION must look like v3.13.1"
# The module github.com/prometheus/prometheus tags v3.13.1 as v0.313.1. Its go.mod replaces a
# module, which `go install …@version` refuses: it is built in its downloaded source.
PROMETHEUS_MODULE_VERSION="v0.$((300 + BASH_REMATCH[1])).${BASH_REMATCH[2]}"
# Upstream's build tags that leave service discoveries out: the operator configures the server with
# the Kubernetes one only, and promtool here only checks and tests rules. The others' cloud SDKs
# took more than half of a cold build of the two.
PROMETHEUS_BUILD_TAGS=remove_all_sd,enable_kubernetes_sd

# prometheus_ldflags VERSION REVISION: a Prometheus project's binary stamped as upstream's release
# builds stamp it (github.com/prometheus/common/version), stripped.
prometheus_ldflags() {
  local common=github.com/prometheus/common/version
  local ldflags="-s -w -X $common.Version=${1#v} -X $common.Revision=$2 -X $common.Branch=release"
  printf '%s' "$ldflags -X $common.BuildUser=laravel-ops -X $common.BuildDate=19700101-00:00:00"
}
