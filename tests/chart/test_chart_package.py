"""The chart as a package: metadata, lint, documentation, Kubernetes schemas, pod security, NOTES."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import chart_readme
from chart_helpers import CHART, FULLNAME, helm_template, pod_specs, render, require_helm

CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
KUBE_VERSION = "1.32.0"


def test_chart_metadata():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert (chart["name"], chart["version"], chart["appVersion"]) == ("backend", "0.1.0", "1.0.0")
    # an offline install must not depend on fetching anything
    assert "dependencies" not in chart
    assert not (CHART / "Chart.lock").exists()
    assert not (CHART / "charts").exists()


def test_lint_strict_as_shipped():
    helm = require_helm()
    result = subprocess.run([helm, "lint", "--strict", str(CHART)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_ci_values_exist():
    names = [p.name for p in CI_VALUES]
    assert "lint-values.yaml" in names and "full-values.yaml" in names


@pytest.mark.parametrize("values_file", CI_VALUES, ids=[p.name for p in CI_VALUES])
def test_lint_strict_with_ci_values(values_file):
    helm = require_helm()
    result = subprocess.run([helm, "lint", "--strict", str(CHART), "-f", str(values_file)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ERROR]" not in result.stdout and "[WARNING]" not in result.stdout
    # every template rendered: no `fail` swallowed by lint mode
    assert "Fail:" not in result.stdout + result.stderr


def schema_nodes(node, path="$"):
    """Every mapping in the schema with its JSONPath-like location."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from schema_nodes(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schema_nodes(value, f"{path}[{index}]")


def test_schema_is_strict_draft7():
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    objects = [(path, node) for path, node in schema_nodes(schema)
               if node.get("type") == "object" and "properties" in node]
    loose = [path for path, node in objects if node.get("additionalProperties") is not False]
    assert not loose, f"not strict: {loose}"
    assert objects[0][0] == "$" and len(objects) > 40
    # no required keys: partial values files (inventory overrides) validate against it too
    required = [path for path, node in schema_nodes(schema)
                if "required" in node and path != "$.properties.imagePullSecrets.items.anyOf[1]"]
    assert required == []


def test_schema_accepts_defaults_in_python_jsonschema():
    """The release role's filter validates with Python's jsonschema: the schema must work there too."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.Draft7Validator(schema).validate(values)
    bad = dict(values, autoscalling={})
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))


def test_every_value_documented_and_readme_current():
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    documented = [p for _, p, _ in chart_readme.params(text) if p]
    assert len(documented) == len(set(documented)), "a value is documented twice"
    for path in documented:
        assert chart_readme.lookup(values, path) is not chart_readme._MISSING, f"@param {path} is not a value"
    assert chart_readme.uncovered_values(values, set(documented)) == []
    readme = (CHART / "README.md").read_text()
    assert chart_readme.updated_readme(readme, chart_readme.render_table(text)) == readme, (
        "README.md is out of date: python3 tests/chart/chart_readme.py --write")
    assert "| `php.image.digest` |" in readme


@pytest.fixture(scope="module")
def full_docs():
    return render(files=[CHART / "ci" / "full-values.yaml"], base=False,
                  api_versions=["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"])


def _validate(docs):
    kv = pytest.importorskip("kubernetes_validate")
    checked = 0
    for doc in docs:
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # CRDs: not in the Kubernetes OpenAPI schema
        kv.validate(doc, KUBE_VERSION, strict=True)
        checked += 1
    return checked


def test_default_render_matches_kubernetes_schema(default_docs):
    assert _validate(default_docs) == len(default_docs)


def test_full_render_matches_kubernetes_schema(full_docs):
    kinds = {d["kind"] for d in full_docs}
    assert {"Ingress", "ServiceMonitor", "PrometheusRule"} <= kinds
    assert _validate(full_docs) >= 10


def test_plain_job_matches_kubernetes_schema():
    docs = render(sets=["migrations.hook=false", "migrations.nameSuffix=9", "migrations.seed.enabled=true"])
    assert _validate([d for d in docs if d["kind"] == "Job"]) == 2


def _restricted_violations(where, spec):
    """The restricted Pod Security Standard, as far as these pods can break it."""
    out = []
    psc = spec.get("securityContext", {})
    forbidden_pod = ("hostNetwork", "hostPID", "hostIPC")
    out += [f"{where}: {k}" for k in forbidden_pod if spec.get(k)]
    for volume in spec.get("volumes", []):
        allowed = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                   "projected", "secret"}
        kinds = set(volume) - {"name"}
        if not kinds <= allowed:
            out.append(f"{where}: volume {volume['name']} {kinds}")
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        name = f"{where}/{c['name']}"
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"{name}: allowPrivilegeEscalation")
        if sc.get("privileged"):
            out.append(f"{name}: privileged")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            out.append(f"{name}: capabilities.drop ALL")
        if set(sc.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            out.append(f"{name}: capabilities.add")
        if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
            out.append(f"{name}: runAsNonRoot")
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            out.append(f"{name}: runAsUser 0")
        seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append(f"{name}: seccompProfile")
        if c.get("ports") and any(p.get("hostPort") for p in c["ports"]):
            out.append(f"{name}: hostPort")
        if not sc.get("readOnlyRootFilesystem"):
            out.append(f"{name}: readOnlyRootFilesystem (project rule)")
    if spec.get("automountServiceAccountToken") is not False:
        out.append(f"{where}: automountServiceAccountToken (project rule)")
    return out


def test_every_pod_is_restricted(full_docs, default_docs):
    specs = pod_specs(full_docs) + pod_specs(default_docs)
    assert len(specs) >= 6  # deployment, migrate, seed, test pod (x2 renders, minus seed)
    violations = [v for where, spec in specs for v in _restricted_violations(where, spec)]
    assert violations == []


def test_restricted_check_catches_a_violation():
    docs = render({"nginx": {"containerSecurityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}})
    violations = [v for where, spec in pod_specs(docs) for v in _restricted_violations(where, spec)]
    assert violations == [f"Deployment/{FULLNAME}/nginx: capabilities.add"]


@pytest.fixture(scope="module")
def notes_chart(tmp_path_factory) -> Path:
    """A copy of the chart whose NOTES.txt is rendered into a ConfigMap (`helm template` skips
    NOTES, and helm 3.17's `install --dry-run=client` still wants a cluster)."""
    copy = tmp_path_factory.mktemp("notes") / "backend"
    shutil.copytree(CHART, copy)
    (copy / "notes-under-test.txt").write_text((copy / "templates" / "NOTES.txt").read_text())
    (copy / "templates" / "NOTES.txt").unlink()
    (copy / "templates" / "zz-notes.yaml").write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n'
        'data:\n  notes: {{ tpl (.Files.Get "notes-under-test.txt") . | quote }}\n')
    return copy


def _notes(chart: Path, values: dict) -> str:
    result = helm_template(values, show_only="templates/zz-notes.yaml", chart=chart)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["data"]["notes"]


def test_notes_default(notes_chart):
    notes = _notes(notes_chart, {})
    assert "kubectl -n web port-forward svc/shop-backend 8080:80" in notes
    assert "php-fpm: laravel-ops/backend-php:1.0.0" in notes
    assert "WARNING: not pinned by digest" in notes
    assert "post-install/post-upgrade hook" in notes


def test_notes_digest_ingress_and_plain_migrations(notes_chart):
    digest = "sha256:" + "b" * 64
    notes = _notes(notes_chart, {
        "php": {"image": {"digest": digest}}, "nginx": {"image": {"digest": digest}},
        "ingress": {"enabled": True, "host": "api.example.test", "tls": {"enabled": True, "secretName": "t"}},
        "migrations": {"enabled": False},
    })
    assert f"php-fpm: laravel-ops/backend-php@{digest}" in notes
    assert "Both images are pinned by digest." in notes
    assert "https://api.example.test/healthz" in notes
    assert "Not run by this release (migrations.enabled=false)" in notes


def test_notes_monitoring(notes_chart):
    notes = _notes(notes_chart, {"metrics": {"serviceMonitor": {"force": True}, "dashboard": {"enabled": True}}})
    assert "carry release=kube-prometheus-stack" in notes
    assert "ConfigMap shop-backend-dashboard in web, labelled grafana_dashboard=1" in notes
    notes = _notes(notes_chart, {"metrics": {"serviceMonitor": {"force": True}, "prometheusRelease": ""}})
    assert "carry release=" not in notes and "Grafana dashboard" not in notes


def test_plain_yaml_files_pass_yamllint():
    """values.yaml, Chart.yaml and ci/ are plain YAML the repository's linters also read
    (templates/ are Go templates, not YAML)."""
    linter = pytest.importorskip("yamllint.linter")
    config = pytest.importorskip("yamllint.config")
    conf = config.YamlLintConfig("{extends: default, rules: {line-length: {max: 160}}}")
    files = [CHART / "values.yaml", CHART / "Chart.yaml", *CI_VALUES]
    problems = []
    for path in files:
        for problem in linter.run(path.read_text(), conf, str(path)):
            problems.append(f"{path.name}:{problem.line}: {problem.desc} ({problem.rule})")
    assert problems == []
