#!/usr/bin/env bash
# Builds the container images the local cluster itself runs, without any registry or engine (the
# kind node image preloads them, cluster/kind/node-image.sh):
#   pause            our static pause binary (cluster/images/cmd/pause), nothing else
#   coredns          the coredns binary built by cluster/build.sh + /etc/passwd, /etc/group, CA certs
#   metrics-server   likewise
#   traefik          likewise
#   debian           a debootstrap --variant=minbase rootfs + testbox (cluster/images/cmd/testbox)
# Image tarballs are OCI image layouts written by cluster/lib/ociimage.py and cached in
# $CACHE/images/, keyed by a hash of what went into them; the rootfs tar is cached as
# $CACHE/rootfs-<suite>-minbase.tar. A warm run only compares digests.
#
# Usage: cluster/images.sh [build|rootfs]   (default build; rootfs only makes the cached Debian
#   rootfs tar)
# Environment: LARAVEL_OPS_CACHE, DEBIAN_MIRROR (default http://deb.debian.org/debian), GO.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=cluster/lib/oci-images.sh
source "$HERE/lib/oci-images.sh"

IMAGES="$CACHE/images"
ROOTFS_TAR="$CACHE/rootfs-$DEBIAN_SUITE-minbase.tar"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
MODE="${1:-build}"
case "$MODE" in build|rootfs) ;; *) die "usage: $0 [build|rootfs]" ;; esac

go_env
mkdir -p "$IMAGES"

# ---- the small Go tools of the images (pause, testbox) --------------------------------------
build_tools() {
  local key dir
  key="$( { echo "$GO_VERSION"; cd "$HERE/images" && find . -type f \( -name '*.go' -o -name go.mod \) | sort | xargs cat; } | sha256sum | cut -c1-12)"
  dir="$CACHE/cluster-images-$key"
  if [[ -f "$dir/.complete" ]]; then
    TOOLS="$dir"; return
  fi
  log "images: building pause and testbox ($key)"
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$HERE/images" && "$GO" build -trimpath -ldflags "-s -w" -o "$dir/" ./cmd/pause ./cmd/testbox)
  touch "$dir/.complete"
  TOOLS="$dir"
}

# ---- the Debian rootfs (debootstrap is run once; the tar is cached) -------------------------
build_rootfs() {
  if [[ -f "$ROOTFS_TAR" && -f "$ROOTFS_TAR.complete" ]]; then return; fi
  command -v debootstrap >/dev/null 2>&1 || {
    log "images: installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null \
      || die "apt-get install debootstrap failed (run apt-get update first?)"
  }
  local dir start=$SECONDS
  dir="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-rootfs.XXXXXX")"
  log "images: debootstrap --variant=minbase $DEBIAN_SUITE from $DEBIAN_MIRROR"
  if ! debootstrap --variant=minbase "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" >"$IMAGES/debootstrap.log" 2>&1; then
    tail -n 20 "$IMAGES/debootstrap.log" >&2
    rm -rf "$dir"
    die "debootstrap failed (log: $IMAGES/debootstrap.log)"
  fi
  # No package caches or lists in the image; /dev is the runtime's.
  rm -rf "${dir:?}"/var/cache/apt/archives/*.deb "${dir:?}"/var/lib/apt/lists/* "${dir:?}"/dev/*
  tar -C "$dir" --numeric-owner --sort=name -cf "$ROOTFS_TAR.tmp" .
  mv -f "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$dir"
  touch "$ROOTFS_TAR.complete"
  log "images: rootfs $ROOTFS_TAR ready in $((SECONDS - start))s"
}

# image_tar NAME REF KEY ociimage-args...: $IMAGES/NAME/KEY.tar, listed for the import.
image_tar() { oci_image "$WORK/list" "$IMAGES" "$@"; }

build_images() {
  build_tools

  image_tar pause "$PAUSE_IMAGE" "$(hash_of "$TOOLS/pause" <(echo "$PAUSE_IMAGE"))" \
    --file "$TOOLS/pause:/pause:0755" --entrypoint '["/pause"]' --user 65535:65535

  static_image "$WORK/list" "$IMAGES" coredns "$COREDNS_IMAGE" "$BIN/coredns" 53/udp 53/tcp 9153/tcp
  static_image "$WORK/list" "$IMAGES" metrics-server "$METRICS_SERVER_IMAGE" "$BIN/metrics-server" 10250/tcp
  static_image "$WORK/list" "$IMAGES" traefik "$TRAEFIK_IMAGE" "$BIN/traefik" 8000/tcp 8443/tcp 9000/tcp

  build_rootfs
  image_tar debian "$TEST_IMAGE" "$(hash_of "$ROOTFS_TAR" "$TOOLS/testbox" <(echo "$TEST_IMAGE"))" \
    --layer-tar "$ROOTFS_TAR" --file "$TOOLS/testbox:/usr/local/bin/testbox:0755" \
    --cmd '["/bin/bash"]'
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-images.XXXXXX")"
trap 'status_end $?; rm -rf "$WORK"' EXIT
: > "$WORK/list"
start=$SECONDS
if [[ "$MODE" == rootfs ]]; then build_rootfs; exit 0; fi
build_images
log "images: done in $((SECONDS - start))s"
