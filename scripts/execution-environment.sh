#!/usr/bin/env bash
# Builds the execution environment of execution-environment.yml on the project's Docker engine and
# proves it the way AWX uses it:
#   1. build/ee/ (gitignored) gets what the definition installs: the tarball
#      `ansible-galaxy collection build` makes of this checkout; the collections it depends on, from
#      the wheel of the `ansible` package requirements.txt pins (cached as tarballs in
#      $CACHE/ee-collections-ansible-<version>-<key>/); helm and kubectl (scripts/setup.sh) and the
#      buildx plugin (scripts/docker-engine.sh), hard-linked from their caches.
#   2. The base image the definition names, from the cached Debian bookworm rootfs
#      ($CACHE/rootfs-bookworm-minbase.tar, made by cluster/images.sh rootfs) with Debian's python3,
#      python3-pip, python3-venv and ee-pkgmgr; saved as $CACHE/ee/base-<key>.tar.
#   3. `ansible-builder create` (ansible-builder in a virtualenv of its own) into a temporary
#      context and `docker buildx build` (docker driver), tagged laravel-ops/ee:<collection version>
#      and labelled with a hash of its inputs: a run whose inputs did not change builds nothing.
#   4. In the image: the collections, helm, kubectl, docker buildx and ansible-doc; the installed
#      collection's check playbook as the image's own user; then playbooks/check.yml
#      -i inventories/prod of this checkout through ansible-navigator, as an AWX job runs it (the
#      project mounted, its ansible.cfg read). Every container runs without a network, so nothing
#      in it can reach a cluster.
# Exits non-zero on any failure; build logs are kept in build/ee/.
#
# Environment: LARAVEL_OPS_CACHE (default ~/.cache/laravel-ops), DEBIAN_MIRROR (default
#   http://deb.debian.org/debian), DEBIAN_SECURITY_MIRROR (default
#   http://deb.debian.org/debian-security).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
ANSIBLE_BUILDER_VERSION=3.2.0
ANSIBLE_NAVIGATOR_VERSION=26.10.0
PYTHON="${PYTHON:-python3}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
EE_FILE="$ROOT/execution-environment.yml"
STAGE="$ROOT/build/ee"
ROOTFS="$CACHE/rootfs-bookworm-minbase.tar"
BUILDX_PLUGIN=/usr/libexec/docker/cli-plugins/docker-buildx
TOOLS_PYTHON="$ROOT/.tools/venv/bin/python"
GALAXY="$ROOT/.tools/venv/bin/ansible-galaxy"

log() { printf '[execution-environment] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
sha() { sha256sum | cut -c1-16; }
label() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
size() { docker image inspect --format '{{.Size}}' "$1" | numfmt --to=iec --suffix=B; }
# A hard link costs nothing; the copy is for a cache on another filesystem.
place() { ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"; }

started=$SECONDS
[[ -x "$GALAXY" && -x "$ROOT/.tools/bin/helm" && -x "$ROOT/.tools/bin/kubectl" ]] \
  || die "no .tools/ in $ROOT (run scripts/setup.sh first)"
mkdir -p "$STAGE" "$CACHE/ee"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-ee.XXXXXX")"
SERVER_PID=
trap '[[ -z "$SERVER_PID" ]] || kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"
# venv NAME VERSION [PIP_ARGS...]: a virtualenv of NAME==VERSION of its own, cached by version.
venv() {
  local name="$1" version="$2" dir; shift 2
  dir="$CACHE/venv-$name-$version${1:+-${1#*==}}"
  [[ -f "$dir/.complete" ]] || log "installing $name $version into $dir"
  cached_venv "$dir" "$name==$version" "$@"
  printf '%s\n' "$dir"
}

# ---- the inputs ------------------------------------------------------------------------------
read -r NAMESPACE NAME VERSION SOURCE BASE_IMAGE ANSIBLE_VERSION CORE_PIN EE_CORE_PIN DEPENDENCIES < <(
  "$TOOLS_PYTHON" - "$ROOT" <<'PY'
import json, re, sys, yaml
root = sys.argv[1]
galaxy = yaml.safe_load(open(f"{root}/galaxy.yml"))
ee = yaml.safe_load(open(f"{root}/execution-environment.yml"))
pins = {}
for line in open(f"{root}/requirements.txt"):
    match = re.match(r"\s*([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
    if match:
        pins[match.group(1).lower()] = match.group(2)
print(galaxy["namespace"], galaxy["name"], galaxy["version"], galaxy["repository"],
      ee["images"]["base_image"]["name"], pins["ansible"], "ansible-core==" + pins["ansible-core"],
      ee["dependencies"]["ansible_core"]["package_pip"],
      json.dumps(sorted(galaxy.get("dependencies") or {}), separators=(",", ":")))
PY
)
[[ "$EE_CORE_PIN" == "$CORE_PIN" ]] \
  || die "execution-environment.yml installs $EE_CORE_PIN but requirements.txt pins $CORE_PIN: make them agree"
IMAGE="laravel-ops/ee:$VERSION"

if ! timeout 20 docker info >/dev/null 2>&1 || ! docker buildx version >/dev/null 2>&1; then
  log "starting the Docker engine (scripts/docker-engine.sh)"
  bash "$ROOT/scripts/docker-engine.sh" >/dev/null
fi
[[ -f "$BUILDX_PLUGIN" ]] || die "no buildx plugin at $BUILDX_PLUGIN (scripts/docker-engine.sh installs it)"
BUILDER="$(venv ansible-builder "$ANSIBLE_BUILDER_VERSION")"
NAVIGATOR="$(venv ansible-navigator "$ANSIBLE_NAVIGATOR_VERSION" "$CORE_PIN")"

# ---- 1. build/ee/ ----------------------------------------------------------------------------
# The collections the `ansible` wheel carries for galaxy.yml's dependencies, and theirs.
dependency_collections() {
  local dir
  dir="$CACHE/ee-collections-ansible-$ANSIBLE_VERSION-$(printf '%s' "$DEPENDENCIES" | sha | cut -c1-8)"
  if [[ ! -f "$dir/.complete" ]]; then
    local t=$SECONDS work="$WORK/ansible-wheel"
    log "taking $DEPENDENCIES (and their dependencies) from ansible $ANSIBLE_VERSION"
    rm -rf "$dir"; mkdir -p "$dir" "$work"
    PIP_CACHE_DIR="$CACHE/pip" "$BUILDER/bin/pip" download --quiet --no-deps --only-binary=:all: \
      -d "$work" "ansible==$ANSIBLE_VERSION"
    "$TOOLS_PYTHON" - "$work"/ansible-*.whl "$work/src" "$DEPENDENCIES" >"$work/requirements.yml" <<'PY'
import json, sys, zipfile
wheel, dest, wanted = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
closure = []
with zipfile.ZipFile(wheel) as archive:
    while wanted:
        fqcn = wanted.pop(0)
        if fqcn in closure:
            continue
        closure.append(fqcn)
        prefix = "ansible_collections/%s/%s/" % tuple(fqcn.split("."))
        manifest = json.loads(archive.read(prefix + "MANIFEST.json"))
        wanted.extend(manifest["collection_info"]["dependencies"] or {})
        for member in archive.namelist():
            if member.startswith(prefix) and "/__pycache__/" not in member:
                archive.extract(member, dest)
print("collections:")
for fqcn in closure:
    print("  - {name: %s/ansible_collections/%s/%s, type: dir}" % ((dest,) + tuple(fqcn.split("."))))
PY
    # The wheel leaves out files its collections' FILES.json lists (.github/, tests/), which
    # ansible-galaxy's checksums refuse in a tarball; installed as directories, each gets a
    # FILES.json of what it holds.
    ANSIBLE_COLLECTIONS_PATH="$work/installed" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
      "$GALAXY" collection install --offline -r "$work/requirements.yml" -p "$work/installed" \
      >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; die "installing the collections of ansible $ANSIBLE_VERSION failed"; }
    local collection
    for collection in "$work"/installed/ansible_collections/*/*/; do
      collection="${collection%/}"
      tar -C "$collection" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
        --transform='s,^\./,,' -czf "$dir/$(basename "$(dirname "$collection")")-$(basename "$collection").tar.gz" .
    done
    touch "$dir/.complete"
    log "collections of ansible $ANSIBLE_VERSION cached in $dir in $((SECONDS - t))s"
  fi
  local tarball
  for tarball in "$dir"/*.tar.gz; do place "$tarball" "$STAGE/collections/"; done
}

t=$SECONDS
rm -rf "${STAGE:?}/collections" "${STAGE:?}/bin"
mkdir -p "$STAGE/collections" "$STAGE/bin"
(cd "$ROOT" && "$GALAXY" collection build --force --output-path "$WORK" . >/dev/null)
mv "$WORK/$NAMESPACE-$NAME-$VERSION.tar.gz" "$STAGE/collections/$NAMESPACE-$NAME.tar.gz"
dependency_collections
HELM_BIN="$(readlink -f "$ROOT/.tools/bin/helm")"
KUBECTL_BIN="$(readlink -f "$ROOT/.tools/bin/kubectl")"
BUILDX_BIN="$(readlink -f "$BUILDX_PLUGIN")"
place "$HELM_BIN" "$STAGE/bin/helm"
place "$KUBECTL_BIN" "$STAGE/bin/kubectl"
place "$BUILDX_BIN" "$STAGE/bin/docker-buildx"
log "staged $STAGE in $((SECONDS - t))s: $(cd "$STAGE/collections" && echo *.tar.gz), helm, kubectl, docker-buildx"

# ---- 2. the base image -----------------------------------------------------------------------
build_base() {
  local ctx="$WORK/base" t=$SECONDS key archive
  if [[ ! -f "$ROOTFS.complete" ]]; then
    log "no cached bookworm rootfs: cluster/images.sh rootfs"
    bash "$ROOT/cluster/images.sh" rootfs
    [[ -f "$ROOTFS.complete" ]] || die "cluster/images.sh rootfs did not make $ROOTFS"
  fi
  mkdir -p "$ctx"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
    "$MIRROR" "$MIRROR" "$SECURITY_MIRROR" >"$ctx/sources.list"
  cat >"$ctx/ee-pkgmgr" <<'EOF'
#!/bin/sh
# ansible-builder's package manager (options.package_manager_path of execution-environment.yml):
# its scripts call `install -y PKG...` and `clean all`, dnf's words, here done with apt-get.
set -eu
verb="${1:-}"
[ $# -gt 0 ] && shift
case "$verb" in
  install)
    packages=""
    for arg in "$@"; do
      [ "$arg" = -y ] || packages="$packages $arg"
    done
    apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages
    ;;
  clean)
    apt-get clean
    rm -rf /var/lib/apt/lists/*
    ;;
  *)
    echo "ee-pkgmgr: only install and clean are supported, not: $verb $*" >&2
    exit 2
    ;;
esac
EOF
  chmod 0755 "$ctx/ee-pkgmgr"
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
ADD $(basename "$ROOTFS") /
ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY sources.list /etc/apt/sources.list
COPY ee-pkgmgr /usr/local/sbin/ee-pkgmgr
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq \\
 && ee-pkgmgr install -y python3 python3-pip python3-venv ca-certificates && ee-pkgmgr clean all
CMD ["bash"]
EOF
  key="$( { sha256sum <"$ROOTFS"; cat "$ctx/Dockerfile" "$ctx/ee-pkgmgr" "$ctx/sources.list"; } | sha)"
  if [[ "$(label "$BASE_IMAGE" org.laravel-ops.ee-base.key)" == "$key" ]]; then
    log "$BASE_IMAGE is up to date ($key)"
    return
  fi
  archive="$CACHE/ee/base-$key.tar"
  if [[ -f "$archive.complete" ]]; then
    docker load -q -i "$archive" >/dev/null
    log "$BASE_IMAGE loaded from $archive in $((SECONDS - t))s"
    return
  fi
  log "building $BASE_IMAGE ($key; log: $STAGE/base-build.log)"
  place "$ROOTFS" "$ctx/$(basename "$ROOTFS")"
  docker buildx build --progress plain --label "org.laravel-ops.ee-base.key=$key" -t "$BASE_IMAGE" "$ctx" \
    >"$STAGE/base-build.log" 2>&1 || { tail -n 30 "$STAGE/base-build.log" >&2; die "building $BASE_IMAGE failed"; }
  rm -f "$CACHE"/ee/base-*.tar "$CACHE"/ee/base-*.tar.complete
  docker save -o "$archive.tmp" "$BASE_IMAGE"
  mv "$archive.tmp" "$archive"
  touch "$archive.complete"
  log "built $BASE_IMAGE ($(size "$BASE_IMAGE")) in $((SECONDS - t))s, saved as $archive"
}
build_base

# ---- 3. the execution environment ------------------------------------------------------------
KEY="$( {
  echo "ansible-builder $ANSIBLE_BUILDER_VERSION"
  cat "$EE_FILE" "$ROOT"/requirements*.txt "$0"
  # This collection by content: ansible-galaxy's tarballs differ in timestamps from build to build.
  tar -xzOf "$STAGE/collections/$NAMESPACE-$NAME.tar.gz" MANIFEST.json FILES.json
  (cd "$STAGE/collections" && sha256sum -- *-*.tar.gz | grep -v " $NAMESPACE-$NAME.tar.gz$")
  # The binaries' caches are named by version.
  stat -c '%n %s %Y' "$HELM_BIN" "$KUBECTL_BIN" "$BUILDX_BIN"
  docker image inspect --format '{{.Id}}' "$BASE_IMAGE"
} | sha)"
# wheelhouse CONTEXT: prints the folder holding a wheel of everything pip installs in the build of
# CONTEXT, for the base image's Python: what its Dockerfile names and what ansible-builder's
# introspection finds in the collections (run here on the same collections, with the same files).
wheelhouse() {
  local ctx="$1" target key dir t=$SECONDS
  target="$(docker run --rm --network none "$BASE_IMAGE" python3 -c \
    'import platform, sys; print("%d.%d" % sys.version_info[:2], platform.libc_ver()[1], platform.machine())')"
  local python glibc machine
  read -r python glibc machine <<<"$target"
  ANSIBLE_COLLECTIONS_PATH="$WORK/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
    "$GALAXY" collection install --offline -p "$WORK/collections" "$STAGE"/collections/*.tar.gz \
    >"$WORK/collections.log" 2>&1 || { cat "$WORK/collections.log" >&2; die "installing build/ee/collections failed"; }
  local introspect=(introspect --write-pip "$WORK/introspected.txt")
  [[ -f "$ctx/_build/requirements.txt" ]] && introspect+=(--user-pip "$ctx/_build/requirements.txt")
  [[ -f "$ctx/_build/exclude-requirements.txt" ]] && introspect+=(--exclude-pip-reqs "$ctx/_build/exclude-requirements.txt")
  [[ -f "$ctx/_build/exclude-collections.txt" ]] && introspect+=(--exclude-collection-reqs "$ctx/_build/exclude-collections.txt")
  "$BUILDER/bin/ansible-builder" "${introspect[@]}" "$WORK/collections" >/dev/null
  "$TOOLS_PYTHON" - "$ctx/Dockerfile" >"$WORK/named.txt" <<'PY'
import re, shlex, sys
text = open(sys.argv[1]).read()
refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', text, re.M)
for args in re.findall(r"^RUN \$PYCMD -m pip install --no-cache-dir (.*)$", text, re.M):
    for word in shlex.split(args.replace("$ANSIBLE_INSTALL_REFS", refs.group(1) if refs else "")):
        print(word)
PY
  key="$( { echo "$target"; sort "$WORK/named.txt"; grep -v '^#' "$WORK/introspected.txt" | sort; } | sha)"
  dir="$CACHE/ee-wheels-$key"
  if [[ ! -f "$dir/.complete" ]]; then
    log "downloading the build's wheels for Python $python, glibc $glibc, $machine into $dir"
    rm -rf "$dir"
    # pip takes a platform tag literally: every manylinux this glibc runs is named.
    local platforms=() minor
    for ((minor = ${glibc#*.}; minor >= 5; minor--)); do
      platforms+=(--platform "manylinux_2_${minor}_$machine")
    done
    platforms+=(--platform "manylinux2014_$machine" --platform "manylinux2010_$machine" --platform "manylinux1_$machine")
    PIP_CACHE_DIR="$CACHE/pip" "$BUILDER/bin/pip" download --quiet --only-binary=:all: -d "$dir" \
      --python-version "$python" --implementation cp --abi "cp${python/./}" "${platforms[@]}" \
      -r "$WORK/named.txt" -r "$WORK/introspected.txt" >&2
    find "$CACHE" -maxdepth 1 -name 'ee-wheels-*' ! -name "ee-wheels-$key" -exec rm -rf {} +
    touch "$dir/.complete"
    log "$(find "$dir" -name '*.whl' | wc -l) wheels in $((SECONDS - t))s"
  fi
  printf '%s\n' "$dir"
}

# serve DIR: an HTTP listing of DIR on the Docker bridge (what the build's RUN steps reach) until
# the script ends, at WHEELS_URL on WHEELS_HOST.
serve() {
  local bridge port
  bridge="$(ip -4 -o addr show docker0 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')"
  [[ -n "$bridge" ]] || die "no docker0 bridge address: the build could not reach the wheelhouse"
  "$PYTHON" -u -m http.server 0 --bind "$bridge" --directory "$1" >"$WORK/wheelhouse.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do
    port="$(sed -n 's/^Serving HTTP on .* port \([0-9]*\).*/\1/p' "$WORK/wheelhouse.log")"
    [[ -n "$port" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$port" ]] || { cat "$WORK/wheelhouse.log" >&2; die "the wheelhouse server did not start"; }
  WHEELS_HOST="$bridge"
  WHEELS_URL="http://$bridge:$port/"
}

if [[ "$(label "$IMAGE" org.laravel-ops.ee.key)" == "$KEY" ]]; then
  log "$IMAGE is up to date ($KEY): nothing to build"
else
  t=$SECONDS
  log "building $IMAGE ($KEY; log: $STAGE/build.log)"
  "$BUILDER/bin/ansible-builder" create -f "$EE_FILE" -c "$WORK/context" --output-filename Dockerfile \
    >"$STAGE/build.log" 2>&1 || { cat "$STAGE/build.log" >&2; die "ansible-builder create failed"; }
  cp "$WORK/context/Dockerfile" "$STAGE/Dockerfile"
  WHEELS="$(wheelhouse "$WORK/context")"
  serve "$WHEELS"
  docker buildx build --progress plain -f "$WORK/context/Dockerfile" -t "$IMAGE" \
    --build-arg "PIP_FIND_LINKS=$WHEELS_URL" --build-arg PIP_NO_INDEX=1 --build-arg "PIP_TRUSTED_HOST=$WHEELS_HOST" \
    --label "org.laravel-ops.ee.key=$KEY" \
    --label "org.opencontainers.image.title=$NAMESPACE.$NAME execution environment" \
    --label "org.opencontainers.image.version=$VERSION" \
    --label "org.opencontainers.image.source=$SOURCE" \
    "$WORK/context" >>"$STAGE/build.log" 2>&1 \
    || { tail -n 40 "$STAGE/build.log" >&2; die "building $IMAGE failed (log: $STAGE/build.log)"; }
  kill "$SERVER_PID"; SERVER_PID=
  log "built $IMAGE in $((SECONDS - t))s"
fi

# ---- 4. the proof ----------------------------------------------------------------------------
in_image() { docker run --rm --network none "$IMAGE" "$@"; }
t=$SECONDS

expected="$("$TOOLS_PYTHON" - "$STAGE"/collections/*.tar.gz <<'PY'
import json, sys, tarfile
found = []
for path in sys.argv[1:]:
    with tarfile.open(path) as archive:
        info = json.load(archive.extractfile("MANIFEST.json"))["collection_info"]
    found.append("%s.%s %s" % (info["namespace"], info["name"], info["version"]))
print("\n".join(sorted(found)))
PY
)"
installed="$(in_image ansible-galaxy collection list --format json | "$TOOLS_PYTHON" -c 'import json, sys
paths = json.load(sys.stdin)
# ansible-core lists its own ansible.* collections too.
print("\n".join(sorted("%s %s" % (name, info["version"]) for found in paths.values() for name, info in found.items()
                        if not name.startswith("ansible."))))')"
log "collections in $IMAGE: $(echo "$installed" | paste -sd, - | sed 's/,/, /g')"
[[ "$installed" == "$expected" ]] \
  || die "the collections in $IMAGE are not the staged ones: expected $(echo "$expected" | paste -sd,), found $(echo "$installed" | paste -sd,)"
grep -qx "$NAMESPACE.$NAME $VERSION" <<<"$installed" || die "$NAMESPACE.$NAME $VERSION is not in $IMAGE"

helm_version="$(in_image helm version --template '{{ .Version }}')"
[[ "$helm_version" == "$("$HELM_BIN" version --template '{{ .Version }}')" ]] \
  || die "helm in $IMAGE is $helm_version, not the one of $HELM_BIN"
kubectl_version="$(in_image kubectl version --client -o json | "$TOOLS_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
[[ -n "$kubectl_version" ]] || die "kubectl version --client failed in $IMAGE"
# `docker version` fails without an engine to ask; the client's own version needs none.
docker_version="$(in_image docker --version)" || die "docker --version failed in $IMAGE"
buildx_version="$(in_image docker buildx version)"
[[ "$buildx_version" == "$(docker buildx version)" ]] \
  || die "docker buildx in $IMAGE says '$buildx_version', not what $BUILDX_BIN says"
in_image ansible-doc "$NAMESPACE.$NAME.helm_rollback" >"$WORK/ansible-doc.txt" \
  || die "ansible-doc $NAMESPACE.$NAME.helm_rollback failed in $IMAGE"
log "in $IMAGE: helm $helm_version, kubectl $kubectl_version, $docker_version, $buildx_version, ansible-doc $NAMESPACE.$NAME.helm_rollback ($(wc -l <"$WORK/ansible-doc.txt") lines)"

# The collection as the image holds it, as the image's own user, with nothing mounted.
if ! in_image ansible-playbook "$NAMESPACE.$NAME.check" \
    -i "/usr/share/ansible/collections/ansible_collections/$NAMESPACE/$NAME/inventories/prod" \
    >"$STAGE/check-installed.log" 2>&1; then
  tail -n 40 "$STAGE/check-installed.log" >&2
  die "$NAMESPACE.$NAME.check -i inventories/prod failed in $IMAGE (log: $STAGE/check-installed.log)"
fi
log "$NAMESPACE.$NAME.check in $IMAGE: $(grep -E '^[a-z0-9-]+ +: ok=' "$STAGE/check-installed.log" | tr -s ' ')"

# This checkout as an AWX project: ansible-navigator mounts it and runs the playbook in the image.
if ! (cd "$ROOT" && "$NAVIGATOR/bin/ansible-navigator" run playbooks/check.yml -i inventories/prod \
      --mode stdout --execution-environment true --container-engine docker \
      --execution-environment-image "$IMAGE" --pull-policy never \
      --container-options=--network=none \
      --playbook-artifact-enable false --log-file "$WORK/navigator.log") \
    >"$STAGE/check-navigator.log" 2>&1; then
  tail -n 40 "$STAGE/check-navigator.log" >&2
  die "ansible-navigator run playbooks/check.yml -i inventories/prod failed in $IMAGE (log: $STAGE/check-navigator.log)"
fi
log "ansible-navigator run playbooks/check.yml -i inventories/prod in $IMAGE: $(grep -E '^[a-z0-9-]+ +: ok=' "$STAGE/check-navigator.log" | tr -s ' ')"
log "proved in $((SECONDS - t))s"

log "$IMAGE: $(size "$IMAGE") (base $BASE_IMAGE: $(size "$BASE_IMAGE")); done in $((SECONDS - started))s"
