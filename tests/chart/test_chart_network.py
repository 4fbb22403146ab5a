"""Service exposure: NetworkPolicy and Ingress."""

from __future__ import annotations

from chart_helpers import FULLNAME, kinds, one, render

INGRESS_CONTROLLER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
}
PROMETHEUS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
DNS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
HTTP = [{"port": 8080, "protocol": "TCP"}]
METRICS = [{"port": 9113, "protocol": "TCP"}]


def _np(docs):
    return one(docs, "NetworkPolicy", FULLNAME)["spec"]


def test_policy_selects_web_and_job_pods_only(default_docs):
    spec = _np(default_docs)
    selector = spec["podSelector"]
    assert selector["matchLabels"] == {"app.kubernetes.io/name": "backend", "app.kubernetes.io/instance": "shop"}
    assert selector["matchExpressions"] == [
        {"key": "app.kubernetes.io/component", "operator": "In", "values": ["web", "migrations"]}
    ]
    assert spec["policyTypes"] == ["Ingress", "Egress"]


def test_ingress_only_from_ingress_controller_prometheus_and_test_pod(default_docs):
    rules = _np(default_docs)["ingress"]
    assert rules[0] == {"from": [INGRESS_CONTROLLER], "ports": HTTP}
    # Prometheus on the metrics port only
    assert rules[1] == {"from": [PROMETHEUS], "ports": METRICS}
    test_peer = {"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "backend", "app.kubernetes.io/instance": "shop",
        "app.kubernetes.io/component": "test"}}}
    assert rules[2] == {"from": [test_peer], "ports": HTTP}
    assert len(rules) == 3
    for rule in rules:
        assert rule["from"], "an empty `from` would allow everyone"


def test_ingress_only_from_ingress_controller_without_metrics_and_tests():
    rules = _np(render({"metrics": {"enabled": False}, "tests": {"enabled": False}}))["ingress"]
    assert rules == [{"from": [INGRESS_CONTROLLER], "ports": HTTP}]


def test_egress_only_postgresql_and_dns(default_docs):
    egress = _np(default_docs)["egress"]
    assert egress == [
        {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}}],
         "ports": [{"port": 5432, "protocol": "TCP"}]},
        {"to": [DNS], "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
    ]


def test_egress_to_database_by_cidr():
    egress = _np(render({"networkPolicy": {"database": {"ipBlock": "10.20.0.0/16", "port": 6432}}}))["egress"]
    assert egress[0] == {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 6432, "protocol": "TCP"}]}
    assert len(egress) == 2


def test_database_in_another_namespace():
    sel = {"matchLabels": {"kubernetes.io/metadata.name": "data"}}
    egress = _np(render({"networkPolicy": {"database": {"namespaceSelector": sel}}}))["egress"]
    assert egress[0]["to"][0]["namespaceSelector"] == sel


def test_extra_rules_appended():
    extra_in = {"from": [{"ipBlock": {"cidr": "192.168.0.0/24"}}], "ports": [{"port": 8080}]}
    extra_out = {"to": [{"ipBlock": {"cidr": "10.9.0.0/16"}}], "ports": [{"port": 6379}]}
    spec = _np(render({"networkPolicy": {"extraIngress": [extra_in], "extraEgress": [extra_out]}}))
    assert spec["ingress"][-1] == extra_in
    assert spec["egress"][-1] == extra_out


def test_network_policy_off():
    assert not kinds(render({"networkPolicy": {"enabled": False}}), "NetworkPolicy")


def test_ingress_off_by_default(default_docs):
    assert not kinds(default_docs, "Ingress")


def test_ingress_on_without_tls():
    docs = render({"ingress": {"enabled": True, "host": "api.example.test",
                               "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"}}})
    ing = one(docs, "Ingress", FULLNAME)
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert "tls" not in ing["spec"]
    rule = ing["spec"]["rules"][0]
    assert rule["host"] == "api.example.test"
    path = rule["http"]["paths"][0]
    assert path["path"] == "/" and path["pathType"] == "Prefix"
    assert path["backend"]["service"] == {"name": FULLNAME, "port": {"name": "http"}}
    assert ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "8m"
    assert one(docs, "ConfigMap")["data"]["APP_URL"] == "http://api.example.test"


def test_ingress_with_tls():
    docs = render({"ingress": {"enabled": True, "host": "api.example.test", "className": "traefik",
                               "tls": {"enabled": True, "secretName": "api-tls"}}})
    ing = one(docs, "Ingress", FULLNAME)
    assert ing["spec"]["tls"] == [{"hosts": ["api.example.test"], "secretName": "api-tls"}]
    assert ing["spec"]["ingressClassName"] == "traefik"
    assert one(docs, "ConfigMap")["data"]["APP_URL"] == "https://api.example.test"


def test_explicit_app_url_wins_over_ingress_host():
    docs = render({"app": {"url": "https://public.example.test"},
                   "ingress": {"enabled": True, "host": "api.example.test"}})
    assert one(docs, "ConfigMap")["data"]["APP_URL"] == "https://public.example.test"
