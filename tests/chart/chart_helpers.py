"""Helpers of the charts/backend tests: run `helm template`, pick documents.

helm is taken from $HELM, else the repository's .tools/bin/helm (scripts/setup.sh), else PATH.
Without it every chart test is skipped, and the reason is printed in the report header.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "backend"
RELEASE = "shop"
NAMESPACE = "web"
FULLNAME = f"{RELEASE}-backend"
# A dummy key: the chart refuses to render without a secret.
APP_KEY = "base64:dGVzdC1vbmx5LWR1bW15LWtleS1ub3QtYS1zZWNyZXQhIQ=="
BASE_VALUES = {"secrets": {"appKey": APP_KEY, "dbPassword": "test-only"}}


def find_helm() -> str | None:
    candidates = [os.environ.get("HELM"), str(ROOT / ".tools" / "bin" / "helm"), shutil.which("helm")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


# The Grafana dashboard the chart ships, and the template variables its queries use ($x, ${x},
# ${x:format}).
DASHBOARD_FILE = CHART / "dashboards" / "backend.json"
DASHBOARD_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def dashboard_variables(text: str) -> set[str]:
    return {braced or bare for braced, bare in DASHBOARD_VARIABLE.findall(text)}


def dashboard_queries(dashboard: dict, values: dict[str, str] | None = None) -> dict[str, str]:
    """Every PromQL query of the dashboard by name: its panels' targets (`panel <id> <refId>:
    <title>`), then its annotations (`annotation: <name>`), with the template variables replaced by
    `values` when given."""
    queries = {f"panel {panel['id']} {target['refId']}: {panel['title']}": target["expr"]
               for panel in dashboard["panels"] if panel["type"] != "row" for target in panel["targets"]}
    queries.update({f"annotation: {annotation['name']}": annotation["expr"]
                    for annotation in dashboard["annotations"]["list"]})
    if values is None:
        return queries
    return {name: DASHBOARD_VARIABLE.sub(lambda m: values[m.group(1) or m.group(2)], expr)
            for name, expr in queries.items()}


HELM = find_helm()
SKIP_REASON = (
    "helm not found ($HELM, .tools/bin/helm or PATH): run scripts/setup.sh; chart tests skipped"
)


def require_helm() -> str:
    if HELM is None:
        print(SKIP_REASON)
        pytest.skip(SKIP_REASON)
    return HELM


def deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def helm_template(
    values: dict | None = None,
    sets: list[str] | tuple[str, ...] = (),
    *,
    base: bool = True,
    files: list[str | Path] | tuple = (),
    api_versions: list[str] | tuple[str, ...] = (),
    show_only: str | None = None,
    chart: Path | None = None,
    kube_version: str | None = None,
) -> subprocess.CompletedProcess:
    """Run `helm template` with BASE_VALUES (unless base=False) ⊕ values, files and --set's."""
    helm = require_helm()
    merged = deep_merge(BASE_VALUES if base else {}, values or {})
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump(merged, handle)
        values_file = handle.name
    try:
        cmd = [helm, "template", RELEASE, str(chart or CHART), "--namespace", NAMESPACE]
        for extra in files:
            cmd += ["-f", str(extra)]
        cmd += ["-f", values_file]
        for item in sets:
            cmd += ["--set", item]
        for api in api_versions:
            cmd += ["--api-versions", api]
        if show_only:
            cmd += ["--show-only", show_only]
        if kube_version:
            cmd += ["--kube-version", kube_version]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(values_file)


def render(values: dict | None = None, sets=(), **kwargs) -> list[dict]:
    """Rendered documents; fails the test with helm's stderr when rendering fails."""
    result = helm_template(values, sets, **kwargs)
    assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_error(values: dict | None = None, sets=(), **kwargs) -> str:
    """stderr of a `helm template` that must fail."""
    result = helm_template(values, sets, **kwargs)
    assert result.returncode != 0, f"helm template unexpectedly succeeded:\n{result.stdout[:2000]}"
    return result.stderr


def kinds(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc.get("kind") == kind]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in kinds(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def container(pod_spec: dict, name: str) -> dict:
    found = [c for c in pod_spec["containers"] if c["name"] == name]
    assert len(found) == 1, f"container {name} not in {[c['name'] for c in pod_spec['containers']]}"
    return found[0]


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    """(kind/name, pod spec) of every workload in the documents."""
    out = []
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind == "Pod":
            out.append((f"{kind}/{name}", doc["spec"]))
        elif kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            out.append((f"{kind}/{name}", doc["spec"]["template"]["spec"]))
    return out


PROMTOOL_MISSING = "promtool not built ($PROMTOOL, .tools/bin/promtool or PATH; scripts/build-tools.sh --test builds it)"


def find_promtool() -> str | None:
    """promtool from $PROMTOOL, else .tools/bin/promtool (scripts/build-tools.sh --test), else PATH."""
    candidates = [os.environ.get("PROMTOOL"), str(ROOT / ".tools" / "bin" / "promtool"), shutil.which("promtool")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_promtool() -> str:
    promtool = find_promtool()
    if promtool is None:
        reason = f"{PROMTOOL_MISSING}: promtool checks skipped"
        print(reason)
        pytest.skip(reason)
    return promtool


def run_promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run promtool; fails the test with its output unless it exits 0."""
    result = subprocess.run([require_promtool(), *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert result.returncode == 0, f"promtool {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result
