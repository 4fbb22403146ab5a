#!/usr/bin/env bash
# galaxy-importer, the checks Galaxy and Automation Hub run on an upload, on the tarball
# `ansible-galaxy collection build` makes of this checkout, with the settings in
# .config/galaxy-importer.cfg. Prints the importer's findings and a summary; exits non-zero when
# the import fails, on any error, and on any warning the collection could fix.
#
# The importer runs in a virtualenv of its own (its ansible-lint and ansible-core pins are its
# own business), cached by version under ${LARAVEL_OPS_CACHE:-~/.cache/laravel-ops}, with the
# controller's ansible-core and ansible-lint versions so that it judges what runs here.
#
# As on Galaxy, the importer sees this collection alone: ansible-lint then cannot resolve the
# modules of the collections galaxy.yml depends on, and its syntax check stops the playbooks
# that use them. Those warnings are listed apart, not counted: no change to the collection makes
# a dependency's module resolvable there.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${LARAVEL_OPS_CACHE:-$HOME/.cache/laravel-ops}"
GALAXY_IMPORTER_VERSION=0.4.44
ANSIBLE_CORE="$(grep -E '^ansible-core==' "$ROOT/requirements.txt")"
ANSIBLE_LINT="$(grep -E '^ansible-lint==' "$ROOT/requirements-test.txt")"
PYTHON="${PYTHON:-python3}"
VENV="$CACHE/venv-galaxy-importer-$GALAXY_IMPORTER_VERSION-${ANSIBLE_CORE#ansible-core==}-${ANSIBLE_LINT#ansible-lint==}"

# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"
cached_venv "$VENV" \
  "galaxy-importer==$GALAXY_IMPORTER_VERSION" "$ANSIBLE_CORE" "$ANSIBLE_LINT"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home" "$WORK/run"

"$VENV/bin/ansible-galaxy" collection build --output-path "$WORK" "$ROOT" >/dev/null
tarball="$(ls "$WORK"/*.tar.gz)"

# Nothing of this machine's Ansible setup may reach the importer: no ANSIBLE_* variable, an empty
# home, and only the importer's virtualenv on PATH (it runs ansible-doc and ansible-lint from there).
rc=0
(
  cd "$WORK/run"
  while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^ANSIBLE_' || true)
  HOME="$WORK/home" PATH="$VENV/bin:/usr/bin:/bin" GALAXY_IMPORTER_CONFIG="$ROOT/.config/galaxy-importer.cfg" \
    "$VENV/bin/python" -m galaxy_importer.main "$tarball"
) > "$WORK/import.log" 2>&1 || rc=$?

"$VENV/bin/python" - "$WORK/import.log" "$WORK/run/importer_result.json" "$ROOT/galaxy.yml" "$tarball" "$rc" <<'PY'
import json
import os
import re
import sys
import tarfile

import yaml

log_path, result_path, galaxy_path, tarball, rc = sys.argv[1:]
lines = open(log_path).read().splitlines()
dependencies = tuple(yaml.safe_load(open(galaxy_path)).get("dependencies") or {})
unresolved = re.compile(r"syntax-check\[unknown-module\]: couldn't resolve module/action '([a-z0-9_]+\.[a-z0-9_]+)\.")
stopped = re.compile(r"Failed to load \S+ playbook due to failing syntax check")

errors, to_fix, from_dependencies = [], [], []
for line in lines:
    if line.startswith("ERROR:") or line.startswith("Traceback"):
        errors.append(line)
    elif line.startswith("WARNING:"):
        match = unresolved.search(line)
        if match and match.group(1) in dependencies:
            from_dependencies.append(line)
        elif stopped.search(line):
            from_dependencies.append(line)
        else:
            to_fix.append(line)
# A playbook stopped by the syntax check counts as the dependencies' only when one of their
# modules is what stopped it; otherwise the syntax check failed on something of ours.
if from_dependencies and not any(unresolved.search(line) for line in from_dependencies):
    to_fix.extend(from_dependencies)
    from_dependencies = []
imported = int(rc) == 0 and "Importer processing completed successfully" in lines

# A module or lookup without docs here has none on Galaxy's pages, whatever the log said (a filter
# or test file may carry several plugins under other names, each with docs of its own).
documented, undocumented = 0, []
if os.path.exists(result_path):
    result = json.load(open(result_path))
    for content in result["docs_blob"]["contents"]:
        if content.get("doc_strings"):
            documented += 1
        elif content["content_type"] in ("module", "lookup"):
            undocumented.append("%s %s" % (content["content_type"], content["content_name"]))
    for content in result["contents"]:
        if content["content_type"] == "role":
            if content.get("description"):
                documented += 1
            else:
                undocumented.append("role %s" % content["name"])
to_fix.extend("WARNING: no documentation for %s" % name for name in undocumented)

with tarfile.open(tarball) as archive:
    files = sum(1 for member in archive.getmembers() if member.isfile())
size_kb = os.path.getsize(tarball) / 1024

if not imported:
    print("\n".join(lines[-30:]))
for line in errors + to_fix:
    print("  " + line)
if from_dependencies:
    print("  not counted (modules of %s, which Galaxy's importer does not install):" % ", ".join(dependencies))
    for line in from_dependencies:
        print("    " + line)
print("galaxy-importer: %s %s (%.0f KB, %d files): %s; %d documented plugins and roles; "
      "%d errors, %d warnings to fix, %d from dependencies" % (
          "imported" if imported else "import FAILED for", os.path.basename(tarball), size_kb, files,
          "passed" if imported and not errors and not to_fix else "FAILED",
          documented, len(errors), len(to_fix), len(from_dependencies)))
sys.exit(0 if imported and not errors and not to_fix else 1)
PY
