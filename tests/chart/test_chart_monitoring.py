"""ServiceMonitor and PrometheusRule: gated on metrics.enabled and on the CRDs (or force)."""

from __future__ import annotations

import pytest

from chart_helpers import FULLNAME, kinds, one, render

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
    docs = render({"metrics": {"serviceMonitor": {"force": True, "labels": {"release": "kps"}},
                               "prometheusRule": {"force": True, "labels": {"release": "kps"}}}})
    assert one(docs, "ServiceMonitor")["metadata"]["labels"]["release"] == "kps"
    assert one(docs, "PrometheusRule")["metadata"]["labels"]["release"] == "kps"


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
    assert set(by_name) == {"LaravelBackendHighErrorRate", "LaravelBackendHighLatencyP95"}
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
        "rules": {"errorRate": {"threshold": 0.01}, "latencyP95": {"enabled": False}},
        "additionalRules": [extra]}}})
    rules = one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == ["LaravelBackendHighErrorRate", "Custom"]
    assert 'laravel_http_requests_total{namespace="web", service="shop-backend", code=~"5.."}' in rules[0]["expr"]
    assert rules[0]["expr"].rstrip().endswith("> 0.01")
    assert rules[1] == extra
