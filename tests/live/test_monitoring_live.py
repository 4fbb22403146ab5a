"""The backend as the Prometheus of the prometheus_operator role sees it: that Prometheus selects
the release's ServiceMonitors and PrometheusRule by their `release` label (as kube-prometheus-stack
does by default), scrapes every web pod and PgBouncer through the NetworkPolicy that admits only
the monitoring namespace, has loaded the backend's alert rules, and answers the seed's figures
(request rate, 5xx ratio, latency percentiles, php-fpm busy workers, database pool use) from the
data it scraped."""

from __future__ import annotations

import json
import time
import urllib.parse

from live_helpers import DEPLOYMENT, NAMESPACE, PGBOUNCER_SELECTOR, WEB_SELECTOR, get, is_ready, pod_ips, service_address
from operator_helpers import kube_json, wait_for

MONITORING = "monitoring"
SCRAPE_SECONDS = 30
RATE_WINDOW = "2m"


def prometheus_api(path: str, **params: str) -> dict:
    pods = [p for p in kube_json("pods", "-n", MONITORING, "-l", "app.kubernetes.io/name=prometheus")["items"]
            if is_ready(p)]
    assert pods, f"no ready Prometheus pod in {MONITORING}"
    status, _, body = get(pods[0]["status"]["podIP"], 9090, f"{path}?{urllib.parse.urlencode(params)}", timeout=15)
    assert status == 200, body[:300]
    return json.loads(body)["data"]


def query(promql: str) -> float | None:
    result = prometheus_api("/api/v1/query", query=promql)["result"]
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_every_backend_pod_and_loads_its_rules(backend):
    def scraped():
        wanted = pod_ips(WEB_SELECTOR, ready_only=True) | pod_ips(PGBOUNCER_SELECTOR, ready_only=True)
        targets = [t for t in prometheus_api("/api/v1/targets", state="active")["activeTargets"]
                   if t["labels"].get("namespace") == NAMESPACE]
        up = {t["labels"]["instance"].rsplit(":", 1)[0] for t in targets if t["health"] == "up"}
        return (targets, wanted) if wanted <= up else None

    started = time.monotonic()
    targets, wanted = wait_for("Prometheus to scrape every ready backend pod", scraped,
                               timeout=4 * SCRAPE_SECONDS, interval=5)
    for target in sorted(targets, key=lambda t: (t["labels"]["job"], t["labels"]["instance"])):
        print(f"target {target['labels']['job']} {target['labels'].get('pod')} "
              f"{target['labels']['instance']}: {target['health']}")
    print(f"{len(wanted)} ready pods, all scraped within {time.monotonic() - started:.0f}s")
    services = {t["labels"].get("service") for t in targets}
    assert {DEPLOYMENT, f"{DEPLOYMENT}-pgbouncer"} <= services, f"both ServiceMonitors selected: {services}"

    groups = [g for g in prometheus_api("/api/v1/rules")["groups"] if f"/{NAMESPACE}-" in g["file"]]
    alerts = sorted(r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting")
    print(f"alert rules of {NAMESPACE} loaded by Prometheus: {alerts}")
    assert alerts, "Prometheus loaded none of the backend's alert rules (its ruleSelector misses the release label)"


def test_the_seed_figures_come_from_live_prometheus_data(backend):
    host, port = service_address()
    sent = {"/": 0, "/error": 0}
    deadline = time.monotonic() + 2 * SCRAPE_SECONDS + 10
    while time.monotonic() < deadline:
        for path, expected in (("/", 200), ("/", 200), ("/", 200), ("/error", 500)):
            assert get(host, port, path)[0] == expected
            sent[path] += 1
        time.sleep(0.2)
    selector = f'namespace="{NAMESPACE}"'
    requests = f"rate(http_requests_total{{{selector}}}[{RATE_WINDOW}])"
    buckets = f"sum by (le) (rate(http_request_duration_seconds_bucket{{{selector}}}[{RATE_WINDOW}]))"
    figures = {
        "request rate (req/s)": f"sum({requests})",
        "5xx ratio": f'sum(rate(http_requests_total{{{selector},status="5xx"}}[{RATE_WINDOW}])) / sum({requests})',
        "p50 latency (s)": f"histogram_quantile(0.50, {buckets})",
        "p95 latency (s)": f"histogram_quantile(0.95, {buckets})",
        "p99 latency (s)": f"histogram_quantile(0.99, {buckets})",
        "php-fpm busy workers": f'sum(phpfpm_processes{{{selector},state="active"}})',
        "database pool use (active / max)": (f'max(app_db_pool_connections{{{selector},state="active"}}) '
                                             f'/ max(app_db_pool_connections{{{selector},state="max"}})'),
    }
    answers = {name: query(promql) for name, promql in figures.items()}
    print(f"sent {sent} over {2 * SCRAPE_SECONDS + 10}s; from Prometheus: "
          + ", ".join(f"{name} {value:.3f}" if value is not None else f"{name} none" for name, value in answers.items()))
    missing = [name for name, value in answers.items() if value is None]
    assert not missing, f"no answer from Prometheus for {missing}"
    assert answers["request rate (req/s)"] > 0
    assert 0 < answers["5xx ratio"] < 1
    assert 0 < answers["p50 latency (s)"] <= answers["p95 latency (s)"] <= answers["p99 latency (s)"]
    assert answers["php-fpm busy workers"] >= 1, "each scrape keeps a worker of its pod busy"
    assert 0 <= answers["database pool use (active / max)"] <= 1
