# shellcheck shell=bash
# Sourced by the scripts that run a Python tool in a virtualenv of its own (its pins clash with
# the project's). Needs CACHE; PYTHON defaults to python3.

# cached_venv DIR PIP_ARGS...: makes DIR a virtualenv holding PIP_ARGS, once: DIR/.complete marks
# a finished install, so a run cut short starts over. pip's downloads are cached in $CACHE/pip.
cached_venv() {
  local dir="$1"
  shift
  if [[ ! -f "$dir/.complete" ]]; then
    rm -rf "$dir"
    "${PYTHON:-python3}" -m venv "$dir"
    PIP_CACHE_DIR="$CACHE/pip" "$dir/bin/pip" install --quiet "$@"
    touch "$dir/.complete"
  fi
}
