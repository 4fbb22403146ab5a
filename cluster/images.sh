#!/usr/bin/env bash
# Builds the container images the local cluster itself runs, without any registry or engine (the
# kind node image preloads them, cluster/kind/node-image.sh):
#   pause            our static pause binary (cluster/images/cmd/pause), nothing else
#   coredns          the coredns binary built by cluster/build.sh + /etc/passwd, /etc/group, CA certs
#   metrics-server   likewise
#   traefik          likewise
#   debian           a debootstrap --variant=minbase rootfs + testbox (cluster/images/cmd/testbox)
# Image tarballs are OCI image layouts written by cluster/lib/ociimage.py and cached in
# $CACHE/images/, keyed by a hash of what went into them, and listed in $CACHE/images/cluster.list
# ("REF TAR DIGEST" lines); the rootfs tar is cached as $CACHE/rootfs-<suite>-minbase.tar. A warm
# run only compares digests.
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
  (cd "$HERE/images" && nice "$GO" build -trimpath -ldflags "-s -w" -o "$dir/" ./cmd/pause ./cmd/testbox)
  touch "$dir/.complete"
  TOOLS="$dir"
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

  debootstrap_tar "$ROOTFS_TAR"
  image_tar debian "$TEST_IMAGE" "$(hash_of "$ROOTFS_TAR" "$TOOLS/testbox" <(echo "$TEST_IMAGE"))" \
    --layer-tar "$ROOTFS_TAR" --file "$TOOLS/testbox:/usr/local/bin/testbox:0755" \
    --cmd '["/bin/bash"]'
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-images.XXXXXX")"
trap 'status_end $?; rm -rf "$WORK"' EXIT
: > "$WORK/list"
start=$SECONDS
if [[ "$MODE" == rootfs ]]; then debootstrap_tar "$ROOTFS_TAR"; exit 0; fi
build_images
mv -f "$WORK/list" "$IMAGES/cluster.list"
log "images: done in $((SECONDS - start))s"
