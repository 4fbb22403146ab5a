# shellcheck shell=bash
# containerd_import LIST: imports the OCI image tarballs listed in LIST (lines "REF TAR DIGEST")
# into containerd's k8s.io namespace at $CONTAINERD_ADDRESS, skipping each REF that is already
# there at DIGEST, and checks that each import unpacked. Sourced; logs with the caller's log/die.
# Each import logs "import: REF (DIGEST)", the line the local_cluster role counts as a change.
containerd_import() {
  local ref tar digest have
  while read -r ref tar digest; do
    have="$(ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images ls "name==$ref" 2>/dev/null | awk 'NR==2 {print $3}')"
    if [[ "$have" == "$digest" ]]; then
      log "import: $ref is in containerd ($digest)"
      continue
    fi
    log "import: $ref ($digest)"
    ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images import "$tar" 2>&1 \
      | while IFS= read -r line; do log "  $line"; done \
      || die "ctr images import $tar failed"
    # CRI only uses images with containerd's managed label, which `ctr import` sets in the k8s.io
    # namespace (containerd >= 1.5); what is left to check is that the layers unpacked.
    ctr --address "$CONTAINERD_ADDRESS" -n k8s.io images check "name==$ref" | grep -q complete \
      || die "$ref did not import completely"
  done <"$1"
}
