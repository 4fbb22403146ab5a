#!/usr/bin/env bash
# antsibull-docs, the tool that builds the Ansible documentation site, on this checkout:
#   lint-collection-docs --plugin-docs   every plugin's and role's docs against the docsite's schema
#                                        and markup, references to this collection and to those it
#                                        depends on included;
#   collection                           the collection's pages (RST, as docs.ansible.com builds
#                                        them from), written to a temporary directory.
# Prints each finding and a summary; exits non-zero on any finding or a page that fails to build.
#
# antsibull-docs runs in a virtualenv of its own, with the controller's ansible-core, cached by
# version under ${LARAVEL_OPS_CACHE:-~/.cache/laravel-ops}. The checkout is found as
# laravel_ops.k8s through collections/ (as a project checkout is), and the collections it depends
# on through the `ansible` package of .tools/venv (scripts/setup.sh), the versions the deploy runs.
# HTML is not built: Sphinx would fetch the Ansible docsite's inventories for the links to it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
ANTSIBULL_DOCS_VERSION=2.28.0
ANSIBLE_CORE="$(grep -E '^ansible-core==' "$ROOT/requirements.txt")"
PYTHON="${PYTHON:-python3}"
VENV="$CACHE/venv-antsibull-docs-$ANTSIBULL_DOCS_VERSION-${ANSIBLE_CORE#ansible-core==}"
TOOLS_PYTHON="$ROOT/.tools/venv/bin/python"

# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"
cached_venv "$VENV" "antsibull-docs==$ANTSIBULL_DOCS_VERSION" "$ANSIBLE_CORE"

DEPENDENCIES="$("$TOOLS_PYTHON" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))')"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^ANSIBLE_' || true)
export ANSIBLE_COLLECTIONS_PATH="$ROOT/collections:$DEPENDENCIES" ANSIBLE_NOCOLOR=1
export PATH="$VENV/bin:$PATH"
COLLECTION="$ROOT/collections/ansible_collections/laravel_ops/k8s"

failures=0
printf '==> antsibull-docs lint-collection-docs --plugin-docs\n'
if antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs dependent \
     --disallow-unknown-collection-refs --check-extra-docs-refs "$COLLECTION" > "$WORK/lint.log" 2>&1; then
  lint="no finding"
else
  sed 's/^/  /' "$WORK/lint.log"
  lint="$(grep -c . "$WORK/lint.log" || true) line(s) of findings"
  failures=$((failures + 1))
fi

printf '==> antsibull-docs collection\n'
mkdir -p "$WORK/site"
chmod og-w "$WORK/site"
if antsibull-docs collection --use-current --fail-on-error --squash-hierarchy --dest-dir "$WORK/site" \
     laravel_ops.k8s > "$WORK/site.log" 2>&1; then
  pages="$(find "$WORK/site" -name '*.rst' | wc -l) pages"
else
  sed 's/^/  /' "$WORK/site.log"
  pages="FAILED"
  failures=$((failures + 1))
fi

printf 'antsibull-docs %s: lint: %s; docs site: %s\n' "$ANTSIBULL_DOCS_VERSION" "$lint" "$pages"
exit $(( failures > 0 ))
