"""The Grafana dashboard ConfigMap: behind metrics.dashboard.enabled, labelled for the Grafana
sidecar, and a dashboard whose every panel queries the data source variable with PromQL that
parses (each query and the deploy annotation, variables substituted, as a recording rule under `promtool check rules`;
skipped with the reason printed when promtool is not built)."""

from __future__ import annotations

import json

import pytest
import yaml

from chart_helpers import (DASHBOARD_FILE, FULLNAME, dashboard_queries, dashboard_variables, kinds, one, render,
                           run_promtool)

DASHBOARD = f"{FULLNAME}-dashboard"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Grafana's own variables, defined by Grafana itself.
BUILTINS = {"__rate_interval", "__interval", "__range", "__interval_ms", "__range_s"}
# What a query becomes for parsing: values the variables could take.
SUBSTITUTES = {"namespace": "web", "service": "shop-backend", "__rate_interval": "5m"}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    docs = render({"metrics": {"dashboard": {"enabled": True}}})
    config_map = one(docs, "ConfigMap", DASHBOARD)
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == "web"
    (name, text), = config_map["data"].items()
    assert name.endswith(".json")
    # the ConfigMap carries the file as it is
    assert json.loads(text) == json.loads(DASHBOARD_FILE.read_text())
    return json.loads(text)


def panels_of(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_off_by_default_and_with_metrics_off(default_docs):
    assert not [d for d in kinds(default_docs, "ConfigMap") if d["metadata"]["name"] == DASHBOARD]
    docs = render({"metrics": {"enabled": False, "dashboard": {"enabled": True}}})
    assert not [d for d in kinds(docs, "ConfigMap") if d["metadata"]["name"] == DASHBOARD]


def test_namespace_labels_and_annotations_for_the_sidecar():
    docs = render({"metrics": {"dashboard": {"enabled": True, "namespace": "grafana", "labels": {"team": "shop"},
                                             "annotations": {"grafana_folder": "Laravel"}}}})
    config_map = one(docs, "ConfigMap", DASHBOARD)
    assert config_map["metadata"]["namespace"] == "grafana"
    assert {"grafana_dashboard": "1", "team": "shop"}.items() <= config_map["metadata"]["labels"].items()
    assert config_map["metadata"]["annotations"]["grafana_folder"] == "Laravel"


def test_structure(dashboard):
    assert dashboard["uid"] and dashboard["title"]
    defined = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert defined["datasource"]["type"] == "datasource" and defined["datasource"]["query"] == "prometheus"
    assert defined["namespace"]["type"] == "query"
    panels = panels_of(dashboard)
    assert len({p["id"] for p in panels}) == len(panels), "panel ids are not unique"
    used = set()
    for panel in panels:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], f"{panel['title']}: no query"
        for target in panel["targets"]:
            assert target["expr"].strip(), f"{panel['title']} {target['refId']}: empty query"
            assert target.get("datasource", DATASOURCE) == DATASOURCE, panel["title"]
            used |= dashboard_variables(target["expr"])
        used |= dashboard_variables(panel["title"])
    for annotation in dashboard["annotations"]["list"]:
        assert annotation["datasource"] == DATASOURCE, annotation["name"]
        used |= dashboard_variables(annotation["expr"])
    for variable in defined.values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, variable["name"]
            used |= dashboard_variables(variable["query"])
    undefined = used - set(defined) - BUILTINS
    assert not undefined, f"variables used but not defined: {sorted(undefined)}"
    assert {"namespace", "service"} <= used


def test_the_seed_s_metrics_have_panels(dashboard):
    queries = " ".join(t["expr"] for p in panels_of(dashboard) for t in p["targets"])
    for metric in ("http_requests_total", "http_request_duration_seconds_bucket", "phpfpm_processes",
                   "phpfpm_listen_queue", "app_db_pool_connections", "app_db_up",
                   "pgbouncer_pools_client_waiting_connections", "kube_horizontalpodautoscaler_spec_max_replicas",
                   "kube_horizontalpodautoscaler_spec_min_replicas", "container_cpu_usage_seconds_total",
                   "container_memory_working_set_bytes", "kube_pod_container_resource_requests",
                   "kube_pod_container_resource_limits"):
        assert metric in queries, metric
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}," in queries


def test_deploys_are_marked(dashboard):
    """The release's revisions (laravel_backend_release_info, from the PrometheusRule) as annotations."""
    deploys, = [a for a in dashboard["annotations"]["list"] if a["name"] == "Deploys"]
    assert deploys["enable"] is True
    assert deploys["expr"].startswith('laravel_backend_release_info{namespace="$namespace", service="$service"}')
    assert "{{revision}}" in deploys["titleFormat"] and "{{app_version}}" in deploys["textFormat"]


def test_every_query_parses(dashboard, tmp_path):
    rules = [{"record": f"dashboard:query_{index}", "expr": expr}
             for index, expr in enumerate(dashboard_queries(dashboard, SUBSTITUTES).values())]
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run_promtool("check", "rules", "queries.yaml", cwd=tmp_path)
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout, result.stdout
    print(f"dashboard: {len(panels_of(dashboard))} panels, {len(rules)} queries parsed by promtool")
