"""ServiceMonitor and PrometheusRule: gated on metrics.enabled and on the CRDs (or force)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from chart_helpers import FULLNAME, ROOT, deep_merge, kinds, one, render, require_helm

SM_API = "monitoring.coreos.com/v1/ServiceMonitor"
PR_API = "monitoring.coreos.com/v1/PrometheusRule"


def test_absent_without_crds(default_docs):
    assert not kinds(default_docs, "ServiceMonitor")
    assert not kinds(default_docs, "PrometheusRule")


def test_present_with_crds(deployment):
    docs = render(api_versions=[SM_API, PR_API])
    sm = one(docs, "ServiceMonitor", FULLNAME)
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["web"]}
    # nginx's metrics port, not the web port (which answers 404 for /metrics)
    assert sm["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s", "scheme": "http"}
    ]
    service = one(docs, "Service")
    # the ServiceMonitor selects the Service by its labels, and scrapes a port the Service names
    assert sm["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert {"name": "metrics", "port": 9113, "targetPort": "metrics", "protocol": "TCP"} in service["spec"]["ports"]
    one(docs, "PrometheusRule", FULLNAME)


def test_each_crd_gates_its_own_object():
    docs = render(api_versions=[SM_API])
    assert kinds(docs, "ServiceMonitor") and not kinds(docs, "PrometheusRule")
    docs = render(api_versions=[PR_API])
    assert kinds(docs, "PrometheusRule") and not kinds(docs, "ServiceMonitor")


def test_force_without_crds():
    docs = render({"metrics": {"serviceMonitor": {"force": True, "labels": {"team": "shop"}},
                               "prometheusRule": {"force": True, "labels": {"team": "shop"}}}})
    assert one(docs, "ServiceMonitor")["metadata"]["labels"]["team"] == "shop"
    assert one(docs, "PrometheusRule")["metadata"]["labels"]["team"] == "shop"


def _monitoring_objects(values=None):
    docs = render(deep_merge({"pgbouncer": {"enabled": True}}, values or {}), api_versions=[SM_API, PR_API])
    return [one(docs, "ServiceMonitor", FULLNAME), one(docs, "ServiceMonitor", f"{FULLNAME}-pgbouncer"),
            one(docs, "PrometheusRule", FULLNAME)]


def test_release_label_kube_prometheus_stack_selects_by():
    """kube-prometheus-stack's Prometheus selects ServiceMonitors and PrometheusRules labelled
    `release: <its release>`; the default is the prometheus_operator role's release name."""
    for obj in _monitoring_objects():
        assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack", obj["metadata"]["name"]
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == "shop"
    for obj in _monitoring_objects({"metrics": {"prometheusRelease": "prom"}}):
        assert obj["metadata"]["labels"]["release"] == "prom"
    for obj in _monitoring_objects({"metrics": {"prometheusRelease": ""}}):
        assert "release" not in obj["metadata"]["labels"]
    # an object's own labels win (a Prometheus that selects by another value)
    sm, pgb, rule = _monitoring_objects({"metrics": {"serviceMonitor": {"labels": {"release": "other"}}}})
    assert sm["metadata"]["labels"]["release"] == pgb["metadata"]["labels"]["release"] == "other"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_the_fixture_prometheus_selects_the_chart_s_objects():
    """The operator test fixture's Prometheus, installed under the role's default release name,
    selects (as the real chart's defaults do) exactly objects carrying the chart's release label."""
    fixture = ROOT / "tests" / "fixtures" / "prometheus-operator" / "chart"
    result = subprocess.run([require_helm(), "template", "kube-prometheus-stack", str(fixture),
                             "--namespace", "monitoring", "--show-only", "templates/prometheus.yaml"],
                            capture_output=True, text=True, check=True)
    prometheus = next(d for d in yaml.safe_load_all(result.stdout) if d and d["kind"] == "Prometheus")
    spec = prometheus["spec"]
    assert spec["serviceMonitorNamespaceSelector"] == spec["ruleNamespaceSelector"] == {}
    sm, pgb, rule = _monitoring_objects()
    for selector, objects in ((spec["serviceMonitorSelector"], (sm, pgb)), (spec["ruleSelector"], (rule,))):
        assert selector == {"matchLabels": {"release": "kube-prometheus-stack"}}
        for obj in objects:
            assert selector["matchLabels"].items() <= obj["metadata"]["labels"].items(), obj["metadata"]["name"]
    for obj in _monitoring_objects({"metrics": {"prometheusRelease": ""}}):
        assert not spec["serviceMonitorSelector"]["matchLabels"].items() <= obj["metadata"]["labels"].items()


@pytest.mark.parametrize("values", [
    {"metrics": {"enabled": False}},
    {"metrics": {"serviceMonitor": {"enabled": False}, "prometheusRule": {"enabled": False}}},
])
def test_disabled_even_with_crds(values):
    docs = render(values, api_versions=[SM_API, PR_API])
    assert not kinds(docs, "ServiceMonitor")
    assert not kinds(docs, "PrometheusRule")


def test_alert_rules():
    docs = render(api_versions=[PR_API])
    rules = one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    by_name = {r["alert"]: r for r in rules}
    # PgBouncer's rule needs pgbouncer.enabled; the autoscaler's is there with the default HPA
    assert set(by_name) == {"LaravelBackendHighErrorRate", "LaravelBackendHighLatencyP95",
                            "LaravelBackendPhpFpmSaturated", "LaravelBackendDatabaseDown",
                            "LaravelBackendPodsRestarting", "LaravelBackendAutoscalerAtMaximum"}
    err = by_name["LaravelBackendHighErrorRate"]
    assert 'status=~"5.."' in err["expr"]
    assert 'namespace="web", service="shop-backend"' in err["expr"]
    assert err["expr"].rstrip().endswith("> 0.05")
    assert err["for"] == "5m" and err["labels"]["severity"] == "critical"
    lat = by_name["LaravelBackendHighLatencyP95"]
    assert lat["expr"].startswith("histogram_quantile(0.95,")
    assert "http_request_duration_seconds_bucket{" in lat["expr"]
    assert lat["expr"].rstrip().endswith("> 0.5")
    assert lat["for"] == "10m" and lat["labels"]["severity"] == "warning"
    # Prometheus templating survives Helm rendering
    assert "{{ $value | humanizePercentage }}" in err["annotations"]["description"]


def test_alert_tuning_and_additional_rules():
    extra = {"alert": "Custom", "expr": "vector(1)", "for": "1m"}
    docs = render({"metrics": {"prometheusRule": {
        "force": True,
        "metricNames": {"requests": "laravel_http_requests_total", "statusLabel": "code"},
        "rules": {"errorRate": {"threshold": 0.01}, "latencyP95": {"enabled": False},
                  "phpFpmSaturated": {"enabled": False}, "databaseDown": {"enabled": False},
                  "podRestarts": {"enabled": False}, "hpaMaxedOut": {"enabled": False}},
        "additionalRules": [extra]}}})
    rules = one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == ["LaravelBackendHighErrorRate", "Custom"]
    assert 'laravel_http_requests_total{namespace="web", service="shop-backend", code=~"5.."}' in rules[0]["expr"]
    assert rules[0]["expr"].rstrip().endswith("> 0.01")
    assert rules[1] == extra


def test_rules_that_need_their_object():
    """PgBouncer's rule comes with PgBouncer; the autoscaler's goes with the HPA."""
    docs = render({"pgbouncer": {"enabled": True}, "autoscaling": {"enabled": False}}, api_versions=[PR_API])
    rules = {r["alert"]: r for r in one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]}
    assert "LaravelBackendAutoscalerAtMaximum" not in rules
    pgb = rules["LaravelBackendPgBouncerPoolSaturated"]
    assert 'pgbouncer_pools_client_waiting_connections{namespace="web", service="shop-backend-pgbouncer"}' in pgb["expr"]
    assert pgb["for"] == "5m" and pgb["expr"].rstrip().endswith("> 0")


def test_thresholds_and_durations_are_values():
    docs = render({"pgbouncer": {"enabled": True}, "metrics": {"prometheusRule": {"rules": {
        "phpFpmSaturated": {"listenQueue": 3, "for": "1m"}, "databaseDown": {"for": "30s", "severity": "page"},
        "pgbouncerSaturated": {"waitingClients": 4}, "podRestarts": {"restarts": 5, "for": "0"},
        "hpaMaxedOut": {"for": "1h"}}}}}, api_versions=[PR_API])
    rules = {r["alert"]: r for r in one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]}
    php = rules["LaravelBackendPhpFpmSaturated"]
    assert "phpfpm_listen_queue{" in php["expr"] and "> 3)" in php["expr"] and php["for"] == "1m"
    assert "increase(phpfpm_max_children_reached{" in php["expr"]
    db = rules["LaravelBackendDatabaseDown"]
    assert 'app_db_up{namespace="web", service="shop-backend"}) == 0' in db["expr"]
    assert db["for"] == "30s" and db["labels"]["severity"] == "page"
    assert rules["LaravelBackendPgBouncerPoolSaturated"]["expr"].rstrip().endswith("> 4")
    restarts = rules["LaravelBackendPodsRestarting"]
    assert 'pod=~"shop-backend-(pgbouncer-)?[a-z0-9]+-[a-z0-9]+"' in restarts["expr"]
    assert restarts["expr"].rstrip().endswith("> 5") and restarts["for"] == "0"
    hpa = rules["LaravelBackendAutoscalerAtMaximum"]
    assert 'kube_horizontalpodautoscaler_spec_max_replicas{namespace="web", horizontalpodautoscaler="shop-backend"}' \
        in hpa["expr"]
    assert hpa["for"] == "1h"


def test_the_local_inventory_pins_the_fixture_chart_as_it_is_packaged():
    """The fixture's chart version names one content (the role caches every version it pulled):
    the local inventory asks for the version scripts/operator-chart.sh packages now."""
    printed = yaml.safe_load(subprocess.run(["bash", str(ROOT / "scripts" / "operator-chart.sh"), "print-vars"],
                                            capture_output=True, text=True, check=True).stdout)
    inventory = yaml.safe_load((ROOT / "inventories" / "local" / "group_vars" / "all" / "backend.yml").read_text())
    assert inventory["prometheus_operator_chart_version"] == printed["prometheus_operator_chart_version"]
