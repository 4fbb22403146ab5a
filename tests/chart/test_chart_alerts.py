"""The PrometheusRule's alerts under `promtool test rules`: each fires at its threshold, after its
`for`, and not below it.

The rules are those `helm template` renders with the chart's defaults (PgBouncer on, so its rule
is there too); the input series carry the labels the Prometheus Operator's scrape adds
(`namespace`, `service`, `pod`). Annotations are left out of the unit tests (promtool compares
them verbatim); `promtool check rules` checks them, templates included, on the rendered file.
Skipped, with the reason printed, when promtool is not built (scripts/build-tools.sh --test).
"""

from __future__ import annotations

import copy

import pytest
import yaml

from chart_helpers import CHART, one, render, require_promtool, run_promtool

PR_API = "monitoring.coreos.com/v1/PrometheusRule"
WEB = {"namespace": "web", "service": "shop-backend"}
PGBOUNCER = {"namespace": "web", "service": "shop-backend-pgbouncer"}
HPA = {"namespace": "web", "horizontalpodautoscaler": "shop-backend"}


def series(name: str, labels: dict, values: str) -> dict:
    inner = ", ".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def alert(name: str, at: str, *fired: dict) -> dict:
    """At `at`, exactly the `fired` alerts (their labels, and the release's namespace, by which an
    AlertmanagerConfig of that namespace routes them) fire; none when `fired` is empty."""
    return {"eval_time": at, "alertname": name,
            "exp_alerts": [{"exp_labels": dict(labels, namespace=WEB["namespace"])} for labels in fired]}


def case(name: str, input_series: list[dict], *checks: dict) -> dict:
    return {"name": name, "interval": "1m", "input_series": input_series, "alert_rule_test": list(checks)}


def requests(pod: str, status: str, per_minute: int) -> dict:
    return series("http_requests_total", dict(WEB, pod=pod, status=status), f"0+{per_minute}x40")


def latency_buckets(pod: str, slow_le: str) -> list[dict]:
    """Ten requests a minute, all in the bucket whose upper bound is `slow_le`."""
    out = []
    for le in ("0.25", "0.5", "1", "+Inf"):
        filled = float(le) >= float(slow_le)
        out.append(series("http_request_duration_seconds_bucket", dict(WEB, pod=pod, le=le),
                          "0+10x40" if filled else "0x40"))
    return out


CASES = [
    # threshold 0.05 over 5m, for 5m
    case("5xx ratio 6% fires after 5m",
         [requests("a", "5xx", 6), requests("a", "2xx", 94)],
         alert("LaravelBackendHighErrorRate", "4m"),
         alert("LaravelBackendHighErrorRate", "10m", {"severity": "critical"})),
    case("5xx ratio 4% does not fire",
         [requests("a", "5xx", 4), requests("a", "2xx", 96)],
         alert("LaravelBackendHighErrorRate", "20m")),
    # p95 threshold 0.5s, for 10m
    case("p95 in (0.5s, 1s] fires after 10m",
         latency_buckets("a", "1"),
         alert("LaravelBackendHighLatencyP95", "9m"),
         alert("LaravelBackendHighLatencyP95", "15m", {"severity": "warning"})),
    case("p95 in (0.25s, 0.5s] does not fire",
         latency_buckets("a", "0.5"),
         alert("LaravelBackendHighLatencyP95", "20m")),
    # listen queue above 0, or pm.max_children reached within 5m; for 5m
    case("php-fpm: a queue or a growing max_children_reached fires; neither does not",
         [series("phpfpm_listen_queue", dict(WEB, pod="queued"), "1x40"),
          series("phpfpm_max_children_reached", dict(WEB, pod="queued"), "0x40"),
          series("phpfpm_listen_queue", dict(WEB, pod="maxed"), "0x40"),
          series("phpfpm_max_children_reached", dict(WEB, pod="maxed"), "0+1x40"),
          series("phpfpm_listen_queue", dict(WEB, pod="calm"), "0x40"),
          series("phpfpm_max_children_reached", dict(WEB, pod="calm"), "7x40")],
         alert("LaravelBackendPhpFpmSaturated", "4m"),
         alert("LaravelBackendPhpFpmSaturated", "10m",
               {"severity": "warning", "pod": "maxed"}, {"severity": "warning", "pod": "queued"})),
    # app_db_up == 0, for 2m
    case("database down on one pod fires after 2m",
         [series("app_db_up", dict(WEB, pod="up"), "1x20"), series("app_db_up", dict(WEB, pod="down"), "0x20")],
         alert("LaravelBackendDatabaseDown", "1m"),
         alert("LaravelBackendDatabaseDown", "5m", {"severity": "critical", "pod": "down"})),
    # waiting clients above 0, for 5m
    case("PgBouncer clients waiting fire after 5m; none waiting does not",
         [series("pgbouncer_pools_client_waiting_connections", dict(PGBOUNCER, pod="busy", database="laravel",
                                                                     user="laravel"), "2x20"),
          series("pgbouncer_pools_client_waiting_connections", dict(PGBOUNCER, pod="idle", database="laravel",
                                                                     user="laravel"), "0x20"),
          # the same metric of another service is not ours
          series("pgbouncer_pools_client_waiting_connections", {"namespace": "web", "service": "other",
                                                                 "pod": "x", "database": "d", "user": "u"}, "9x20")],
         alert("LaravelBackendPgBouncerPoolSaturated", "4m"),
         alert("LaravelBackendPgBouncerPoolSaturated", "10m",
               {"severity": "warning", "pod": "busy", "database": "laravel"})),
    # more than 2 restarts in 15m, for 5m; web and PgBouncer pods only
    case("restarting pods fire after 5m; one restart, or another app's pod, does not",
         [series("kube_pod_container_status_restarts_total",
                 {"namespace": "web", "pod": "shop-backend-7d9f8-abcde", "container": "php"}, "0+1x40"),
          series("kube_pod_container_status_restarts_total",
                 {"namespace": "web", "pod": "shop-backend-pgbouncer-5c6b7-fghij", "container": "pgbouncer"},
                 "0+1x40"),
          series("kube_pod_container_status_restarts_total",
                 {"namespace": "web", "pod": "shop-backend-7d9f8-klmno", "container": "php"}, "0 0 0 1x37"),
          series("kube_pod_container_status_restarts_total",
                 {"namespace": "web", "pod": "shop-backend-migrate-3-pqrst", "container": "migrate"}, "0+1x40"),
          series("kube_pod_container_status_restarts_total",
                 {"namespace": "web", "pod": "other-7d9f8-abcde", "container": "app"}, "0+1x40")],
         alert("LaravelBackendPodsRestarting", "6m"),
         alert("LaravelBackendPodsRestarting", "20m",
               {"severity": "warning", "pod": "shop-backend-7d9f8-abcde"},
               {"severity": "warning", "pod": "shop-backend-pgbouncer-5c6b7-fghij"})),
    # current replicas at the maximum, for 15m
    case("HPA at its maximum fires after 15m",
         [series("kube_horizontalpodautoscaler_status_current_replicas", HPA, "10x40"),
          series("kube_horizontalpodautoscaler_spec_max_replicas", HPA, "10x40")],
         alert("LaravelBackendAutoscalerAtMaximum", "14m"),
         alert("LaravelBackendAutoscalerAtMaximum", "20m", dict(HPA, severity="warning"))),
    case("HPA one below its maximum does not fire",
         [series("kube_horizontalpodautoscaler_status_current_replicas", HPA, "9x40"),
          series("kube_horizontalpodautoscaler_spec_max_replicas", HPA, "10x40")],
         alert("LaravelBackendAutoscalerAtMaximum", "30m")),
]


@pytest.fixture(scope="module")
def groups() -> list[dict]:
    require_promtool()
    docs = render({"pgbouncer": {"enabled": True}}, api_versions=[PR_API])
    return one(docs, "PrometheusRule")["spec"]["groups"]


def test_rendered_rules_pass_promtool_check(groups, tmp_path):
    """Every expression parses and every annotation template compiles."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    result = run_promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    print(result.stdout.strip())


def test_every_alert_has_a_case():
    names = {check["alertname"] for test in CASES for check in test["alert_rule_test"]}
    rendered = {r["alert"] for r in one(render({"pgbouncer": {"enabled": True}}, api_versions=[PR_API]),
                                         "PrometheusRule")["spec"]["groups"][0]["rules"]}
    assert names == rendered


def test_alerts_fire_at_their_thresholds(groups, tmp_path):
    bare = copy.deepcopy(groups)
    for group in bare:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": bare}))
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": CASES}, sort_keys=False))
    result = run_promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    print(f"promtool test rules: {len(CASES)} cases, "
          f"{sum(len(c['alert_rule_test']) for c in CASES)} checks\n{result.stdout.strip()}")


def test_each_revision_is_one_release_info_series(tmp_path):
    """The deploy marker: the revision, chart and app version of the release as one series."""
    docs = render({"php": {"image": {"tag": "v1.4.2"}}}, api_versions=[PR_API])
    deploys = [g for g in one(docs, "PrometheusRule")["spec"]["groups"] if g["name"].endswith(".deploys")]
    assert len(deploys) == 1
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": deploys}))
    labels = dict(WEB, revision="1", app_version="v1.4.2",
                  chart_version=yaml.safe_load((CHART / "Chart.yaml").read_text())["version"])
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({
        "rule_files": ["rules.yaml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [], "promql_expr_test": [
            {"expr": "laravel_backend_release_info", "eval_time": "2m",
             "exp_samples": [{"labels": "laravel_backend_release_info{%s}" % ", ".join(
                 f'{key}="{value}"' for key, value in sorted(labels.items())), "value": 1}]}]}]}))
    result = run_promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    print(f"release info: {labels}\n{result.stdout.strip()}")
