#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>, with the
# collections it imports beside it; it runs on a copy of the checkout laid out that way, in a
# virtualenv of its own (its pinned linters would clash with ansible-lint's) cached by version.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
ANSIBLE_CORE="$(grep -E '^ansible-core==' "$ROOT/requirements.txt")"
PYTHON="${PYTHON:-python3}"
VENV="$CACHE/venv-sanity-$("$PYTHON" -c 'import sys; print("py%d.%d" % sys.version_info[:2])')-${ANSIBLE_CORE#ansible-core==}"

# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"
cached_venv "$VENV" "$ANSIBLE_CORE"

# ansible-test bootstraps pip into its per-test virtualenvs with a get-pip script it downloads
# from outside the package registries. This stand-in does the same job with pip's own wheel
# from PyPI: a wheel is importable, so pip installs the requested packages from itself.
PIP_VERSION="$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" "$VENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)"
GET_PIP="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
if [[ ! -f "$GET_PIP" ]]; then
  mkdir -p "$(dirname "$GET_PIP")" "$CACHE/pip-wheels"
  PIP_CACHE_DIR="$CACHE/pip" "$VENV/bin/pip" download --quiet --no-deps -d "$CACHE/pip-wheels" "pip==$PIP_VERSION"
  cat > "$GET_PIP" <<PY
import runpy, sys
sys.path.insert(0, "$CACHE/pip-wheels/pip-$PIP_VERSION-py3-none-any.whl")
# get-pip.py takes pip-install arguments plus its own --no-setuptools / --no-wheel switches.
sys.argv = ["pip", "install"] + [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
PY
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
COPY="$WORK/ansible_collections/laravel_ops/k8s"
mkdir -p "$COPY"
# What a commit of the working tree would hold: files deleted but not yet committed stay out.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
   | while IFS= read -r -d '' file; do if [[ -e "$file" || -L "$file" ]]; then printf '%s\0' "$file"; fi; done \
   | tar --null -T - -cf -) | tar -xf - -C "$COPY"
# The plugins import kubernetes.core's module_utils: give ansible-test the same copy the
# pinned `ansible` package carries.
KUBERNETES_CORE="$("$ROOT/.tools/venv/bin/python" -c 'import ansible_collections.kubernetes.core as m; print(list(m.__path__)[0])')"
mkdir -p "$WORK/ansible_collections/kubernetes"
cp -r "$KUBERNETES_CORE" "$WORK/ansible_collections/kubernetes/core"

cd "$COPY"
git init -q && git add -A >/dev/null
export PIP_CACHE_DIR="$CACHE/pip"
# Only plugin code is in scope: roles, playbooks and the chart have their own linters.
exec "$VENV/bin/ansible-test" sanity --requirements --python "$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --color no plugins/ "$@"
