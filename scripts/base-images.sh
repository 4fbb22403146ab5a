#!/usr/bin/env bash
# Builds the base image of docker/Dockerfile.debian without any registry: a
# `debootstrap --variant=minbase` of Debian sid (the suite that packages Laravel 13 as
# php-laravel-framework), tarred, then `docker import`ed as
#   laravel-ops/debian-sid-base:$BASE_VERSION
# The tarball is cached in $CACHE/base-images/ keyed by BASE_VERSION; bump BASE_VERSION (and
# BASE_IMAGE in docker/Dockerfile.debian) to take a newer sid. Idempotent: a warm run only
# compares the imported image's label with the cached tarball's checksum.
#
# Usage: scripts/base-images.sh [all|rootfs|import]   (default all; rootfs needs no engine)
# Environment: LARAVEL_OPS_CACHE (default ~/.cache/laravel-ops), DEBIAN_MIRROR (default
# http://deb.debian.org/debian).
#
# What the image adds to the bare rootfs (all of it in /etc/apt and /etc/dpkg):
#   - apt sources: sid main from $DEBIAN_MIRROR;
#   - Acquire::Check-Valid-Until "false": the archive's sid Release file is past its
#     Valid-Until on these machines, and apt refuses an expired Release otherwise (signatures
#     are still checked);
#   - /usr/sbin/policy-rc.d denying service starts (no init system in a container);
#   - no recommends / suggests, no docs, man pages or translations (dpkg path-exclude, as the
#     official slim images do; copyright files are kept).
set -euo pipefail

# Version key of the base image: bump it to rebuild from the archive's current sid.
BASE_VERSION=v1
SUITE=sid
IMAGE="laravel-ops/debian-sid-base:$BASE_VERSION"
# debootstrap of $SUITE failing (e.g. a Release it cannot validate) falls back to bootstrapping
# this stable suite and upgrading it to $SUITE inside the chroot.
FALLBACK_SUITE=bookworm

CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
DIR="$CACHE/base-images"
TAR="$DIR/debian-$SUITE-minbase-$BASE_VERSION.tar"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
MODE="${1:-all}"
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3)

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/status.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/status.sh"

case "$MODE" in all|rootfs|import) ;; *) die "usage: $0 [all|rootfs|import]" ;; esac
started=$SECONDS
mkdir -p "$DIR"

in_chroot() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

configure_rootfs() {
  mkdir -p "$ROOTFS/etc/apt/apt.conf.d" "$ROOTFS/etc/dpkg/dpkg.cfg.d"
  printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$ROOTFS/etc/apt/sources.list"
  cat >"$ROOTFS/etc/apt/apt.conf.d/90laravel-ops" <<'EOF'
// laravel-ops base image (scripts/base-images.sh).
// The archive's sid Release file is past its Valid-Until here; signatures are still verified.
Acquire::Check-Valid-Until "false";
Acquire::Retries "3";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/90laravel-ops-nodoc" <<'EOF'
# laravel-ops base image: no documentation in containers (copyright files are kept).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
}

bootstrap() {
  local suite="$1"
  log "debootstrap --variant=minbase $suite from $MIRROR (log: $DIR/debootstrap-$BASE_VERSION.log)"
  debootstrap --variant=minbase "$suite" "$ROOTFS" "$MIRROR" >>"$DIR/debootstrap-$BASE_VERSION.log" 2>&1
}

build_rootfs() {
  if [[ -f "$TAR" && -f "$TAR.complete" ]]; then
    log "rootfs tarball cached: $TAR"
    return
  fi
  [[ $EUID -eq 0 ]] || die "debootstrap needs root"
  if ! command -v debootstrap >/dev/null 2>&1; then
    changed "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  local t=$SECONDS
  ROOTFS="$(mktemp -d "${TMPDIR:-/tmp}/laravel-ops-base.XXXXXX")"
  # shellcheck disable=SC2064  # expand now: ROOTFS is fixed from here on
  trap "status_end \$?; rm -rf '$ROOTFS'" EXIT
  : >"$DIR/debootstrap-$BASE_VERSION.log"
  if ! bootstrap "$SUITE"; then
    log "debootstrap of $SUITE failed ($(tail -n 1 "$DIR/debootstrap-$BASE_VERSION.log")); bootstrapping $FALLBACK_SUITE and upgrading it to $SUITE"
    rm -rf "$ROOTFS"; mkdir -p "$ROOTFS"
    bootstrap "$FALLBACK_SUITE" || { tail -n 20 "$DIR/debootstrap-$BASE_VERSION.log" >&2; die "debootstrap of $FALLBACK_SUITE failed too"; }
    configure_rootfs
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    in_chroot apt-get "${APT_OPTS[@]}" update >>"$DIR/debootstrap-$BASE_VERSION.log" 2>&1
    in_chroot apt-get "${APT_OPTS[@]}" -y -o Dpkg::Options::=--force-confnew full-upgrade \
      >>"$DIR/debootstrap-$BASE_VERSION.log" 2>&1 || { tail -n 20 "$DIR/debootstrap-$BASE_VERSION.log" >&2; die "upgrade to $SUITE failed"; }
    in_chroot apt-get -y autoremove --purge >>"$DIR/debootstrap-$BASE_VERSION.log" 2>&1
  fi
  configure_rootfs
  log "debootstrap done in $((SECONDS - t))s ($(cat "$ROOTFS/etc/debian_version"))"

  # What an image must not carry: package caches and lists, docs already unpacked by
  # debootstrap (the dpkg excludes only apply to later installs), the build host's identity,
  # device nodes (the runtime provides /dev).
  in_chroot apt-get clean
  rm -rf "${ROOTFS:?}"/var/lib/apt/lists/* "${ROOTFS:?}"/var/cache/apt/*.bin \
         "${ROOTFS:?}"/var/cache/debconf/*-old "${ROOTFS:?}"/var/log/* "${ROOTFS:?}"/dev/* \
         "${ROOTFS:?}"/tmp/* "${ROOTFS:?}"/var/tmp/* "${ROOTFS:?}"/usr/share/man/* \
         "${ROOTFS:?}"/usr/share/info/* "${ROOTFS:?}"/usr/share/lintian/*
  find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  # No init system in a container: package scripts must not try to start services.
  printf '#!/bin/sh\n# laravel-ops base image: no services are started in image builds.\nexit 101\n' \
    >"$ROOTFS/usr/sbin/policy-rc.d"
  chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
  : >"$ROOTFS/etc/resolv.conf"
  : >"$ROOTFS/etc/machine-id" 2>/dev/null || true
  echo localhost >"$ROOTFS/etc/hostname"

  tar -C "$ROOTFS" --numeric-owner --sort=name --xattrs -cf "$TAR.tmp" .
  mv "$TAR.tmp" "$TAR"
  sha256sum "$TAR" | cut -d' ' -f1 >"$TAR.sha256"
  touch "$TAR.complete"
  rm -rf "$ROOTFS"; trap status_end EXIT
  changed "rootfs tarball $TAR ($(du -h "$TAR" | cut -f1)) in $((SECONDS - t))s"
}

import_image() {
  if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    die "no Docker engine answers (run scripts/docker-engine.sh first)"
  fi
  local sum current t=$SECONDS
  sum="$(cat "$TAR.sha256")"
  current="$(docker image inspect --format '{{ index .Config.Labels "org.laravel-ops.rootfs.sha256" }}' "$IMAGE" 2>/dev/null || true)"
  if [[ "$current" == "$sum" ]]; then
    log "$IMAGE is up to date ($(docker image inspect --format '{{.Id}}' "$IMAGE" | cut -c1-19))"
    return
  fi
  log "docker import $TAR as $IMAGE"
  docker import \
    --change "LABEL org.laravel-ops.rootfs.sha256=$sum org.laravel-ops.base.version=$BASE_VERSION org.opencontainers.image.title=debian-$SUITE-minbase" \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase $SUITE ($BASE_VERSION)" \
    "$TAR" "$IMAGE" >/dev/null
  changed "imported $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec)) in $((SECONDS - t))s"
}

if [[ "$MODE" == all || "$MODE" == rootfs ]]; then build_rootfs; fi
if [[ "$MODE" == all || "$MODE" == import ]]; then
  [[ -f "$TAR.complete" ]] || die "no rootfs tarball yet (run $0 rootfs)"
  import_image
fi
log "done in $((SECONDS - started))s"
