"""The backend as the Prometheus of the prometheus_operator role sees it: that Prometheus selects
the release's ServiceMonitors and PrometheusRule by their `release` label (as kube-prometheus-stack
does by default), scrapes every web pod and PgBouncer through the NetworkPolicy that admits only
the monitoring namespace, has loaded the backend's alert rules, and answers the seed's figures
(request rate, 5xx ratio, latency percentiles, php-fpm busy workers, database pool use) from the
data it scraped; and each deploy leaves its marks: a Kubernetes Event about the new Helm revision and
the release-info series the dashboard annotates. Every panel of the chart's Grafana dashboard answers
from that Prometheus while traffic runs (containers' CPU and memory from the kubelets' cAdvisor), but
for kube-state-metrics series, which cannot be built here. Injected 5xx make the error-rate alert
(shortened through the inventory) go pending, then firing, reach the Alertmanager the role runs and,
through an AlertmanagerConfig of the release's namespace, a webhook the test serves."""

from __future__ import annotations

import http.server
import json
import math
import re
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime

from live_helpers import (DEPLOYMENT, NAMESPACE, PGBOUNCER_SELECTOR, RELEASE, ROOT, WEB_SELECTOR, Load,
                          deployed_app_tag, app_get, deployed_images, get, helm_revision, is_ready, pod_ips)
from operator_helpers import kube_json, kubectl, wait_for

from chart_helpers import DASHBOARD_FILE, dashboard_queries

# The checkout as a collection (collections/ansible_collections/laravel_ops/k8s links to it).
sys.path.insert(0, str(ROOT / "collections"))
from ansible_collections.laravel_ops.k8s.plugins.module_utils._helm_history import parse_duration  # noqa: E402

MONITORING = "monitoring"
# The longest wait for Prometheus to see a change (each wait ends as soon as it does): a new
# ServiceMonitor reaches it through the operator, a Secret and the config reloader, then a scrape.
PROMETHEUS_WAIT = 120
RATE_WINDOW = "2m"
# The dashboard's template variables, as Grafana would set them for the release under test.
DASHBOARD_VALUES = {"namespace": NAMESPACE, "service": DEPLOYMENT, "__rate_interval": RATE_WINDOW}


def monitoring_api(name: str, port: int, path: str, **params: str):
    """GET `path` of a ready pod of `name` (app.kubernetes.io/name) in the monitoring namespace, as JSON."""
    pods = [p for p in kube_json("pods", "-n", MONITORING, "-l", f"app.kubernetes.io/name={name}")["items"]
            if is_ready(p)]
    assert pods, f"no ready {name} pod in {MONITORING}"
    status, _, body = get(pods[0]["status"]["podIP"], port, f"{path}?{urllib.parse.urlencode(params)}", timeout=15)
    assert status == 200, body[:300]
    return json.loads(body)


def prometheus_api(path: str, **params: str) -> dict:
    return monitoring_api("prometheus", 9090, path, **params)["data"]


def query(promql: str) -> float | None:
    result = prometheus_api("/api/v1/query", query=promql)["result"]
    return float(result[0]["value"][1]) if result else None


def scrape_seconds() -> int:
    """How often Prometheus scrapes the web pods: the interval of the release's ServiceMonitor."""
    return parse_duration(kube_json("servicemonitor", DEPLOYMENT, "-n", NAMESPACE)["spec"]["endpoints"][0]["interval"])


def test_prometheus_scrapes_every_backend_pod_and_loads_its_rules(backend):
    def scraped():
        wanted = pod_ips(WEB_SELECTOR, ready_only=True) | pod_ips(PGBOUNCER_SELECTOR, ready_only=True)
        targets = [t for t in prometheus_api("/api/v1/targets", state="active")["activeTargets"]
                   if t["labels"].get("namespace") == NAMESPACE]
        up = {t["labels"]["instance"].rsplit(":", 1)[0] for t in targets if t["health"] == "up"}
        return (targets, wanted) if wanted <= up else None

    started = time.monotonic()
    targets, wanted = wait_for("Prometheus to scrape every ready backend pod", scraped,
                               timeout=PROMETHEUS_WAIT, interval=5)
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
    sent = {"/": 0, "/error": 0}
    # Long enough for two scrapes of every pod, which a rate needs.
    seconds = 2 * scrape_seconds() + 10
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path, expected in (("/", 200), ("/", 200), ("/", 200), ("/error", 500)):
            assert app_get(path)[0] == expected
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
    print(f"sent {sent} over {seconds}s; from Prometheus: "
          + ", ".join(f"{name} {value:.3f}" if value is not None else f"{name} none" for name, value in answers.items()))
    missing = [name for name, value in answers.items() if value is None]
    assert not missing, f"no answer from Prometheus for {missing}"
    assert answers["request rate (req/s)"] > 0
    assert 0 < answers["5xx ratio"] < 1
    assert 0 < answers["p50 latency (s)"] <= answers["p95 latency (s)"] <= answers["p99 latency (s)"]
    assert answers["php-fpm busy workers"] >= 1, "each scrape keeps a worker of its pod busy"
    assert 0 <= answers["database pool use (active / max)"] <= 1


def test_the_deploy_is_marked_in_the_cluster_and_in_prometheus(backend):
    # A deploy of its own (the HPA's maximum changed, the pods not rolled): the newest revision
    # left by the tests before may be a rollback, which no deploy marked.
    running_tag = deployed_app_tag()
    backend({"image_tag": running_tag, "backend_replicas_max": 9})
    revision = helm_revision()
    events = [e for e in kube_json("events.events.k8s.io", "-n", NAMESPACE)["items"] if e.get("reason") == "Deployed"]
    for event in sorted(events, key=lambda e: e["eventTime"]):
        print(f"event {event['metadata']['name']} at {event['eventTime']}: {event['note']}")
    current = [e for e in events if e["metadata"]["name"] == f"{RELEASE}.deployed.v{revision}"]
    assert current, f"no Deployed event for revision {revision} of {NAMESPACE}/{RELEASE}"
    assert current[0]["regarding"] == {"apiVersion": "v1", "kind": "Secret", "namespace": NAMESPACE,
                                       "name": f"sh.helm.release.v1.{RELEASE}.v{revision}"}
    running_digest = deployed_images()["php-fpm"].split("@")[1]
    assert f":{running_tag}@{running_digest}" in current[0]["note"], current[0]["note"]

    def marked():
        result = prometheus_api("/api/v1/query", query=f'laravel_backend_release_info{{namespace="{NAMESPACE}"}}')["result"]
        return [r["metric"] for r in result if r["metric"].get("revision") == str(revision)]

    started = time.monotonic()
    series, = wait_for(f"Prometheus to record revision {revision}", marked, timeout=PROMETHEUS_WAIT, interval=5)
    print(f"laravel_backend_release_info for revision {revision} within {time.monotonic() - started:.0f}s: {series}")
    assert series["service"] == DEPLOYMENT and series["app_version"] == running_tag
    # The dashboard's annotation query: the new revision, in the minutes after it went out.
    annotation = dashboard_queries(json.loads(DASHBOARD_FILE.read_text()), DASHBOARD_VALUES)
    marks = prometheus_api("/api/v1/query", query=annotation["annotation: Deploys"])["result"]
    print(f"dashboard deploy annotations now: {[m['metric'] for m in marks]}")
    assert [m for m in marks if m["metric"]["revision"] == str(revision)], marks


def test_every_dashboard_panel_answers_from_live_prometheus(backend):
    def cadvisor_up():
        targets = prometheus_api("/api/v1/targets", state="active")["activeTargets"]
        kubelets = [t for t in targets if t["labels"].get("metrics_path") == "/metrics/cadvisor"]
        return kubelets if kubelets and all(t["health"] == "up" for t in kubelets) else None

    for target in wait_for("Prometheus to scrape the kubelets' cAdvisor", cadvisor_up, timeout=PROMETHEUS_WAIT,
                           interval=5):
        print(f"target {target['labels']['job']} {target['scrapeUrl']}: {target['health']}")
    dashboard = json.loads(DASHBOARD_FILE.read_text())
    queries = {name: expr for name, expr in dashboard_queries(dashboard, DASHBOARD_VALUES).items()
               if name.startswith("panel ")}
    # kube-state-metrics, which kube-prometheus-stack installs, cannot be built here (the Go proxy
    # does not serve it): its kube_* series are the only ones allowed to be missing.
    without_source = {name for name, expr in queries.items() if "kube_" in expr}

    def answered():
        results = {name: prometheus_api("/api/v1/query", query=expr)["result"] for name, expr in queries.items()}
        missing = [name for name, result in results.items() if not result and name not in without_source]
        return None if missing else results

    # Requests, some of them 5xx, while Prometheus scrapes: the rates need two scrapes in their window.
    with Load("/", workers=2, pause=0.2), Load("/error", workers=1, pause=0.5):
        started = time.monotonic()
        results = wait_for("every dashboard panel to answer", answered, timeout=PROMETHEUS_WAIT + 60,
                           interval=5)
    for name, result in results.items():
        shown = ", ".join(f"{dict(r['metric']) or '{}'} {float(r['value'][1]):.4g}" for r in result[:3])
        reason = " (kube-state-metrics not built here)" if not result else ""
        print(f"{name}: {len(result)} series{reason} {shown}")
    answered_count = sum(1 for result in results.values() if result)
    print(f"dashboard: {len(queries)} panel queries run, {answered_count} answered within "
          f"{time.monotonic() - started:.0f}s; empty: {sorted(set(results) - {n for n, r in results.items() if r})}")
    assert answered_count >= len(queries) - len(without_source)


class AlertReceiver(http.server.ThreadingHTTPServer):
    """The webhook receiver an AlertmanagerConfig sends to: every notification, with the time it
    came, on this machine's address towards the nodes (which the pods reach)."""

    def __init__(self, address: str):
        self.notifications: list[tuple[float, dict]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.notifications.append((time.time(), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__((address, 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def alertmanager_alerts(alertname: str) -> list[dict]:
    """The alerts of the release's namespace in the Alertmanager of the role's alertmanager component."""
    alerts = monitoring_api("alertmanager", 9093, "/api/v2/alerts", filter=f'alertname="{alertname}"')
    return [a for a in alerts if a["labels"].get("namespace") == NAMESPACE]


def test_injected_errors_fire_the_error_rate_alert_into_alertmanager_and_a_webhook(backend):
    alertname = "LaravelBackendHighErrorRate"
    node = kube_json("nodes")["items"][0]
    node_address = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((node_address, 9))  # no packet is sent: the kernel only picks the route's source
        address = probe.getsockname()[0]
    receiver = AlertReceiver(address)
    url = f"http://{address}:{receiver.server_address[1]}/alerts"
    # As a team routes its own namespace's alerts: an AlertmanagerConfig there (the operator
    # confines it to alerts labelled with that namespace, which the chart's alerts carry). A name of
    # its own per run: Alertmanager does not notify a receiver again of an alert it was sent within
    # the repeat interval, and an earlier run's receiver of the same name was.
    config = f"live-test-webhook-{uuid.uuid4().hex[:8]}"
    kubectl("apply", "-f", "-", input_text=json.dumps({
        "apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "AlertmanagerConfig",
        "metadata": {"name": config, "namespace": NAMESPACE},
        "spec": {"route": {"receiver": "webhook", "groupBy": ["alertname"], "groupWait": "5s",
                           "groupInterval": "10s", "repeatInterval": "1h",
                           "matchers": [{"name": "alertname", "value": alertname, "matchType": "="}]},
                 "receivers": [{"name": "webhook", "webhookConfigs": [{"url": url, "sendResolved": False}]}]}}))
    running_tag = deployed_app_tag()
    share = (f'sum(rate(http_requests_total{{namespace="{NAMESPACE}", status=~"5.."}}[5m])) '
             f'/ sum(rate(http_requests_total{{namespace="{NAMESPACE}"}}[5m]))')

    def settled_share():
        # Below 0.6 (no answer and NaN, when nothing was asked for 5 minutes, count as none): a run
        # just before in this namespace may have left more.
        value = query(share)
        value = 0.0 if value is None or math.isnan(value) else value
        return (value,) if value < 0.6 else None

    before, = wait_for("the 5xx share of earlier requests to settle under 0.6", settled_share, timeout=330, interval=10)
    # The inventory shortens the alert (30s instead of 5m), and puts its threshold above the share of
    # 5xx the tests before sent, so that only the errors injected below make it fire.
    threshold = round(min(0.8, max(0.4, before + 0.2)), 2)
    backend({"image_tag": running_tag, "backend_alerts": {"errorRate": {"threshold": threshold, "for": "30s"}}})

    def shortened_rule():
        return next((rule for group in prometheus_api("/api/v1/rules")["groups"] if f"/{NAMESPACE}-" in group["file"]
                     for rule in group["rules"] if rule["name"] == alertname and rule.get("duration") == 30
                     and f"> {threshold}" in rule["query"] and rule["state"] != "unknown"), None)

    rule = wait_for("Prometheus to load and evaluate the shortened alert", shortened_rule, timeout=240, interval=5)
    print(f"{alertname} loaded with for 30s, threshold {threshold} (5xx share before: {before:.3f}): {rule['state']}")
    assert rule["state"] == "inactive", "the alert fires before any error is injected"
    seen: dict[str, float] = {}

    def alert_state():
        for alert in prometheus_api("/api/v1/alerts")["alerts"]:
            if alert["labels"].get("alertname") == alertname and alert["labels"].get("namespace") == NAMESPACE:
                seen.setdefault(alert["state"], time.time())
                seen.setdefault("active", datetime.fromisoformat(
                    re.sub(r"(\.\d{6})\d*", r"\1", alert["activeAt"].replace("Z", "+00:00"))).timestamp())
        if "firing" in seen and "alertmanager" not in seen and alertmanager_alerts(alertname):
            seen["alertmanager"] = time.time()
        return receiver.notifications or None

    try:
        # Only errors: the share of 5xx over the rule's 5 minutes climbs past the threshold.
        with Load("/error", workers=2, pause=0.2):
            started = time.time()
            notifications = wait_for("the error-rate alert to reach the webhook", alert_state, timeout=360, interval=3)
    except AssertionError as error:
        raise AssertionError(f"{error}; seen {seen}, 5xx share now {query(share)}") from None
    finally:
        receiver.shutdown()
        kubectl("delete", "alertmanagerconfig", config, "-n", NAMESPACE, "--ignore-not-found", check=False)
    received, payload = notifications[0]
    stamp = lambda t: time.strftime("%H:%M:%S", time.gmtime(t))  # noqa: E731
    print(f"5xx injected from {stamp(started)}; {alertname}: pending from {stamp(seen['active'])} (Prometheus' "
          f"activeAt; seen {stamp(seen['pending'])}), firing seen {stamp(seen['firing'])}, "
          f"in Alertmanager {stamp(seen['alertmanager'])}, received by the webhook {stamp(received)}")
    # Pending only after the injection began (whole seconds: Prometheus and this host share a clock).
    assert int(started) <= seen["active"] and seen["pending"] <= seen["firing"] <= seen["alertmanager"] <= received
    alert = payload["alerts"][0]
    print(f"webhook payload: status {payload['status']}, receiver {payload['receiver']}, labels {alert['labels']}")
    assert alert["labels"]["alertname"] == alertname and alert["labels"]["namespace"] == NAMESPACE
    assert alert["status"] == "firing"
