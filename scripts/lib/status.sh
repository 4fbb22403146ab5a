# shellcheck shell=bash
# Sourced by the scripts the local_cluster role runs. A script logs to stderr and records each
# change it makes with `changed "<what>"` (which logs it too); the script the role called then
# prints, as its last act on success, one JSON line on stdout:
#   {"changed": true, "changes": ["starting dockerd ...", ...]}
# which the task reads (changed_when). Scripts it calls record into the same list.
# Needs `log` defined first.

if [[ -z "${LARAVEL_OPS_STATUS_FILE:-}" ]]; then
  LARAVEL_OPS_STATUS_FILE="$(mktemp)"
  export LARAVEL_OPS_STATUS_FILE
  _status_owner=1
fi
# Everything else a script (or a tool it runs) prints goes to stderr; stdout carries the status.
exec 3>&1 1>&2

changed() {
  log "$*"
  printf '%s\n' "$*" >>"$LARAVEL_OPS_STATUS_FILE"
}

# status_end [CODE]: the EXIT trap; a script with an EXIT trap of its own calls it first there,
# as `status_end $?`.
status_end() {
  local code=${1:-$?}
  if [[ -n "${_status_owner:-}" ]]; then
    if [[ $code -eq 0 ]]; then
      python3 -c 'import json, sys
changes = [line.rstrip("\n") for line in open(sys.argv[1])]
print(json.dumps({"changed": bool(changes), "changes": changes}))' "$LARAVEL_OPS_STATUS_FILE" >&3
    fi
    rm -f "$LARAVEL_OPS_STATUS_FILE"
  fi
  return $code
}
trap status_end EXIT
