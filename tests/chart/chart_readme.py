#!/usr/bin/env python3
"""Parameter table of charts/backend/README.md, generated from values.yaml.

values.yaml documents each value Bitnami-style:

    ## @section Title
    ## @param path.to.value Description

This script renders those comments (with each value's default) as Markdown tables between the
`<!-- parameters:start -->` and `<!-- parameters:end -->` markers of the README.

    python3 tests/chart/chart_readme.py            # exit 1 if README.md is out of date
    python3 tests/chart/chart_readme.py --write    # rewrite the table

The chart tests import `params`, `uncovered_values` and `render_table` from here.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "backend"
START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
_MISSING = object()

_SECTION = re.compile(r"^\s*## @section (?P<title>.+?)\s*$")
_PARAM = re.compile(r"^\s*## @param (?P<path>\S+) (?P<desc>.+?)\s*$")


def params(values_text: str) -> list[tuple[str, str | None, str]]:
    """(section, path, description) for each @section / @param line, in file order.

    A section line yields (title, None, "").
    """
    out: list[tuple[str, str | None, str]] = []
    section = ""
    for line in values_text.splitlines():
        m = _SECTION.match(line)
        if m:
            section = m.group("title")
            out.append((section, None, ""))
            continue
        m = _PARAM.match(line)
        if m:
            out.append((section, m.group("path"), m.group("desc")))
    return out


def lookup(values: dict, path: str):
    """The value at a dotted path, or _MISSING."""
    node = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _leaves(node, prefix=""):
    """Dotted paths of the leaves: scalars, lists and empty maps."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix


def uncovered_values(values: dict, documented: set[str]) -> list[str]:
    """Leaves with no @param on themselves or on an ancestor map (e.g. a whole selector)."""
    missing = []
    for leaf in _leaves(values):
        parts = leaf.split(".")
        if not any(".".join(parts[:n]) in documented for n in range(1, len(parts) + 1)):
            missing.append(leaf)
    return missing


def _default(value) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    return "`" + text.replace("|", "\\|") + "`"


def render_table(values_text: str) -> str:
    values = yaml.safe_load(values_text)
    lines: list[str] = []
    for section, path, desc in params(values_text):
        if path is None:
            lines += ["", f"### {section}", "", "| Name | Description | Default |", "| --- | --- | --- |"]
            continue
        value = lookup(values, path)
        if value is _MISSING:
            raise KeyError(f"@param {path} documents a value that values.yaml does not have")
        cell = desc.replace("|", "\\|")
        lines.append(f"| `{path}` | {cell} | {_default(value)} |")
    return "\n".join(lines).strip() + "\n"


def updated_readme(readme: str, table: str) -> str:
    if START not in readme or END not in readme:
        raise ValueError(f"README.md lacks the {START} / {END} markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite README.md")
    args = parser.parse_args(argv)
    values_text = (CHART / "values.yaml").read_text()
    readme_path = CHART / "README.md"
    readme = readme_path.read_text()
    new = updated_readme(readme, render_table(values_text))
    if args.write:
        readme_path.write_text(new)
        return 0
    if new != readme:
        print("charts/backend/README.md is out of date: run python3 tests/chart/chart_readme.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
