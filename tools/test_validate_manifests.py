"""Tests for tools/validate_manifests.py (run: .tools/venv/bin/python -m pytest tools/)."""

import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate_manifests as vm  # noqa: E402

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: php
          image: php:8.3-fpm
          ports: [{containerPort: 8080}]
"""

SERVICE_MONITOR = """
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  namespaceSelector: {matchNames: [laravel]}
  endpoints: [{port: http, path: /metrics, interval: 30s, scrapeTimeout: 10s}]
"""

PROMETHEUS_RULE = """
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: web}
spec:
  groups:
    - name: web
      rules:
        - {alert: WebDown, expr: up == 0, for: 5m, labels: {severity: critical}, annotations: {summary: down}}
"""


def run(text, *args):
    out = io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        with redirect_stdout(out):
            code = vm.main(list(args) + ["-"])
    finally:
        sys.stdin = stdin
    return code, out.getvalue().splitlines()


def test_valid_stream_passes():
    code, lines = run("---\n# Source: x\n---" + DEPLOYMENT + "---" + SERVICE_MONITOR + "---" + PROMETHEUS_RULE)
    assert code == 0, lines
    assert lines == ["OK Deployment/web", "OK ServiceMonitor/web", "OK PrometheusRule/web",
                     "3 valid, 0 invalid, 0 skipped"]


def test_unknown_field_and_wrong_type_are_both_reported():
    bad = DEPLOYMENT.replace("replicas: 2", "replicass: 2").replace("containerPort: 8080", "containerPort: '8080'")
    code, lines = run(bad)
    assert code == 1
    assert 'ERROR Deployment/web: spec.replicass: unknown field "replicass"' in lines
    assert ("ERROR Deployment/web: spec.template.spec.containers[0].ports[0].containerPort: "
            "'8080' is not of type 'integer'") in lines
    assert lines[-1] == "0 valid, 1 invalid, 0 skipped"


@pytest.mark.parametrize("doc", [DEPLOYMENT, DEPLOYMENT.replace("replicas: 2", "replicass: 2"),
                                 DEPLOYMENT.replace("replicas: 2", "replicas: two")])
def test_verdict_matches_kubernetes_validate_api(doc):
    data = yaml.safe_load(doc)
    try:
        kubernetes_validate.validate(data, vm.DEFAULT_K8S_VERSION, strict=True)
        upstream_valid = True
    except kubernetes_validate.ValidationError:
        upstream_valid = False
    code, _ = run(doc)
    assert (code == 0) == upstream_valid


def test_crd_schemas_reject_typos_and_bad_durations():
    code, lines = run(SERVICE_MONITOR.replace("interval:", "intervall:") + "---"
                      + PROMETHEUS_RULE.replace("for: 5m", "for: 5 minutes"))
    assert code == 1
    assert 'ERROR ServiceMonitor/web: spec.endpoints[0].intervall: unknown field "intervall"' in lines
    assert any(line.startswith("ERROR PrometheusRule/web: spec.groups[0].rules[0].for: '5 minutes' does not match")
               for line in lines)


def test_unknown_kind_is_skipped_loudly_and_removed_api_is_an_error():
    cert = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: tls}\nspec: {secretName: tls}\n"
    code, lines = run(cert)
    assert code == 0 and lines[0] == "SKIP Certificate/tls: no schema for cert-manager.io/v1 Certificate"
    code, _ = run(cert, "--fail-on-skip")
    assert code == 1
    pdb = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 1}\n"
    code, lines = run(pdb)
    assert code == 1 and "is not served by Kubernetes 1.35.0" in lines[0]


def test_duplicate_keys_and_syntax_errors():
    code, lines = run("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: '1', A: '2'}\n")
    assert code == 1 and "duplicate key 'A'" in lines[0]
    code, lines = run("apiVersion: v1\nkind: [\n")
    assert code == 2 and lines[0].startswith("ERROR <stdin>: YAML syntax error")


def test_unsupported_version_is_a_usage_error():
    assert run(DEPLOYMENT, "--kubernetes-version", "1.10.0")[0] == 2
