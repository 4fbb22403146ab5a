# shellcheck shell=bash
# OCI image tarballs written without an engine or a registry (lib/ociimage.py), and their import
# into the cluster's containerd; shared by cluster/images.sh, cluster/netpol.sh and
# scripts/operator-chart.sh. Sourced; logs with the caller's log/die.

OCIIMAGE_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ociimage.py"

# hash_of FILE...: a short hash of the files' content, the cache key of what is built from them.
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# oci_image LIST DIR NAME REF KEY [ociimage.py args...]: writes image REF as DIR/NAME/KEY.tar
# (+ .digest) unless it is there, drops NAME's tarballs of other keys, and appends
# "REF TAR DIGEST" to LIST, the list containerd_import reads.
oci_image() {
  local list="$1" dir="$2/$3" ref="$4" key="$5"
  shift 5
  local tar="$dir/$key.tar"
  mkdir -p "$dir"
  if [[ -f "$tar" && -f "$tar.digest" ]]; then
    log "image: $ref is built ($(cat "$tar.digest"))"
  else
    changed "image: writing $ref ($tar)"
    python3 "$OCIIMAGE_PY" --name "$ref" --out "$tar" "$@" >"$tar.digest.tmp"
    mv -f "$tar.digest.tmp" "$tar.digest"
    find "$dir" -maxdepth 1 -name '*.tar*' ! -name "$key.tar*" -delete
  fi
  printf '%s %s %s\n' "$ref" "$tar" "$(cat "$tar.digest")" >>"$list"
}

# containerd_import LIST: imports the OCI image tarballs listed in LIST (lines "REF TAR DIGEST")
# into containerd's k8s.io namespace at $CONTAINERD_ADDRESS, skipping each REF that is already
# there at DIGEST, and checks that each import unpacked. Sourced; logs with the caller's log/die.
# Each import is recorded as a change (lib/status.sh's changed), "import: REF (DIGEST)".
containerd_import() {
  local ref tar digest have
  while read -r ref tar digest; do
    have="$(ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images ls "name==$ref" 2>/dev/null | awk 'NR==2 {print $3}')"
    if [[ "$have" == "$digest" ]]; then
      log "import: $ref is in containerd ($digest)"
      continue
    fi
    changed "import: $ref ($digest)"
    ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images import "$tar" 2>&1 \
      | while IFS= read -r line; do log "  $line"; done \
      || die "ctr images import $tar failed"
    # CRI only uses images with containerd's managed label, which `ctr import` sets in the k8s.io
    # namespace (containerd >= 1.5); what is left to check is that the layers unpacked.
    ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images check "name==$ref" | grep -q complete \
      || die "$ref did not import completely"
  done <"$1"
}
