# shellcheck shell=bash
# OCI image tarballs written without an engine or a registry (lib/ociimage.py); shared by
# cluster/images.sh, cluster/netpol.sh, cluster/kind/node-image.sh and scripts/operator-chart.sh. Sourced; logs with the caller's log/die.

OCIIMAGE_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ociimage.py"

# hash_of FILE...: a short hash of the files' content, the cache key of what is built from them.
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# oci_image LIST DIR NAME REF KEY [ociimage.py args...]: writes image REF as DIR/NAME/KEY.tar
# (+ .digest) unless it is there, drops NAME's tarballs of other keys, and appends
# "REF TAR DIGEST" to LIST (what the node image preloads, what operator-chart.sh pushes).
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

# The users of the images static_image writes: root, nonroot (65532, whom they run as), nobody.
STATIC_PASSWD=$'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n'
STATIC_GROUP=$'root:x:0:\nnonroot:x:65532:\nnobody:x:65534:\n'

# static_image LIST DIR NAME REF BINARY PORT...: as oci_image, an image of one static binary
# (BINARY, a path) run as nonroot, with /etc/passwd, /etc/group, an empty /tmp and this machine's
# CA certificates.
static_image() {
  local list="$1" dir="$2" name="$3" ref="$4" binary="$5" port expose=() tmp
  local ca=/etc/ssl/certs/ca-certificates.crt ca_files=() ca_args=()
  shift 5
  [[ -x "$binary" ]] || die "$binary is missing: run cluster/build.sh first"
  for port in "$@"; do expose+=(--expose "$port"); done
  [[ ! -f "$ca" ]] || { ca_files=("$ca"); ca_args=("--file=$ca:$ca:0644"); }
  tmp="$(mktemp -d)"
  oci_image "$list" "$dir" "$name" "$ref" \
    "$(hash_of "$binary" <(echo "$ref"; printf %s "$STATIC_PASSWD$STATIC_GROUP") "${ca_files[@]}")" \
    --file "$binary:/${binary##*/}:0755" --text "/etc/passwd:0644:$STATIC_PASSWD" \
    --text "/etc/group:0644:$STATIC_GROUP" --dir "$tmp:/tmp:1777" "${ca_args[@]}" \
    --entrypoint "[\"/${binary##*/}\"]" --user 65532:65532 "${expose[@]}"
  rmdir "$tmp"
}
