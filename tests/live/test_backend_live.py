"""The backend proven on running pods of the local cluster: deploy.yml -i inventories/local puts
version A in namespace laravel-ops-live-test (release `live`, PostgreSQL beside it), then, in
order, each test drives real requests through nginx, php-fpm, Laravel and PostgreSQL and prints
what it measured:

  hook migrations and the seeder wrote PostgreSQL; the deploy left no credential file in its
  temporary directory; every log line of both containers is JSON and
  one request id links nginx's line to Laravel's; /metrics counters and histogram move with
  traffic (5xx included); PgBouncer keeps PostgreSQL's server connections within its pool under
  load and exports the pool's use; a 20 s request survives the deletion of its pod; a rollout A -> B and a
  pod deletion under load lose no request; the prod flow refuses an unapproved migration and a
  failing migration Job stops the deploy (its logs shown) while B keeps serving; NetworkPolicy
  is enforced (only the ingress controller's namespace gets in; the backend reaches PostgreSQL,
  PgBouncer and DNS, not another namespace's pod); readiness
  follows PostgreSQL (out within 15 s, back within 15 s, no restart); the HPA scales on the
  php-fpm container's CPU, at most 2 pods a minute, up to 10.

The pods get small CPU requests (php-fpm 50m, nginx 20m) so that ten fit beside everything else on this two-core machine.
Skipped, with the reason printed, without a cluster that answers or the local registry. Run
after tests/operator (which needs a cluster without the Prometheus Operator CRDs), never beside
another deploy on the same cluster.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from live_helpers import (
    DEPLOYMENT, INGRESS_LABELS, INGRESS_NAMESPACE, NAMESPACE, OUTSIDER, PGBOUNCER_SELECTOR, PROD, SOURCE, VERSION_A,
    VERSION_B, Load, app_get, can_connect_from_backend, finished_phase, helm_revision, is_ready, pod_get, pod_metrics,
    pods_scaled_away, psql, restart_counts, serving_pods, testbox_pod, web_pods,
)
from operator_helpers import KUBECONFIG, ROOT, kube_json, kubectl, require_no_namespace, skip, wait_for

FAILING_MIGRATION = """<?php

use Illuminate\\Database\\Migrations\\Migration;

return new class extends Migration
{
    public function up(): void
    {
        throw new RuntimeException('live test: this migration fails on purpose');
    }
};
"""


def _all_ready() -> bool:
    """As many pods as the Deployment wants (the HPA may have changed it), all Ready."""
    pods = web_pods()
    wanted = kube_json("deployment", DEPLOYMENT, "-n", NAMESPACE)["spec"]["replicas"]
    return len(pods) == wanted and all(is_ready(p) for p in pods)


def _wait_for_replacement(deleted: str) -> None:
    """Until the deleted pod is gone and the Deployment has all its pods Ready again."""
    wait_for(f"pod {deleted} to be gone and replaced",
             lambda: _all_ready() and deleted not in {p["metadata"]["name"] for p in web_pods(include_terminating=True)},
             timeout=240)


def test_hook_migrations_and_the_seeder_wrote_postgresql(backend):
    migrations = psql("select migration from migrations order by id").splitlines()
    rows = int(psql("select count(*) from deployments"))
    print(f"migrations: {migrations}; rows in deployments: {rows}")
    assert migrations == ["2025_01_01_000000_create_deployments_table"]
    assert rows > 0
    jobs = {j["metadata"]["name"]: j["status"] for j in kube_json("jobs", "-n", NAMESPACE)["items"]}
    assert {name: status.get("succeeded") for name, status in jobs.items()} == {
        f"{DEPLOYMENT}-migrate": 1, f"{DEPLOYMENT}-seed": 1}


def test_the_deploy_left_no_credential_file(backend):
    # The cluster's kubeconfig carries its client key inline, which the Kubernetes client writes to
    # temporary files for each read the deploy makes in Ansible's own (forked) processes.
    assert "client-key-data" in Path(KUBECONFIG).read_text()
    files = [path for path in (backend.tmp / "tmpdir").rglob("*") if path.is_file()]
    holding_pem = [str(path) for path in files if b"-----BEGIN" in path.read_bytes()]
    print(f"files left in the deploy's TMPDIR: {len(files)}, holding a PEM block: {len(holding_pem)}")
    assert not holding_pem


def _logs(pod: dict, container: str) -> list[dict]:
    """Every line the container wrote (stdout and stderr), each parsed as JSON."""
    text = kubectl("logs", "-n", NAMESPACE, pod["metadata"]["name"], "-c", container).stdout
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError as error:
            raise AssertionError(f"{pod['metadata']['name']}/{container} wrote a line that is not JSON: {line!r}") from error
    return records


def test_every_log_line_is_json_and_a_request_id_links_nginx_to_laravel(backend):
    request_id = f"live-{uuid.uuid4().hex}"
    status, headers, _ = app_get("/error", headers={"X-Request-Id": request_id})
    assert status == 500 and headers.get("X-Request-Id") == request_id, headers
    for path in ("/", "/healthz", "/no-such-page"):
        app_get(path)

    def linked():
        counts, nginx, laravel = {}, [], []
        for pod in serving_pods():
            for container in ("php-fpm", "nginx"):
                records = _logs(pod, container)
                counts[f"{pod['metadata']['name']}/{container}"] = len(records)
                nginx += [r for r in records if r.get("source") == "nginx" and r.get("request_id") == request_id]
                laravel += [r for r in records if (r.get("context") or {}).get("request_id") == request_id]
        return (counts, nginx, laravel) if nginx and laravel else None

    counts, nginx, laravel = wait_for("both log lines of the request", linked, timeout=30, interval=2)
    print(f"JSON lines per container: {counts}")
    assert nginx[0]["status"] == 500 and nginx[0]["uri"].startswith("/error"), nginx[0]
    assert laravel[0]["level_name"] == "ERROR", laravel[0]


_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$')


def _samples(texts: list[str], name: str, **labels: str) -> list[float]:
    """The values of `name` whose labels include `labels`, in Prometheus text expositions."""
    values = []
    for line in (line for text in texts for line in text.splitlines()):
        match = _SAMPLE.match(line)
        if match and match["name"] == name:
            have = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
            if all(have.get(k) == v for k, v in labels.items()):
                values.append(float(match["value"]))
    return values


def test_metrics_count_requests_errors_and_latency(backend):
    counted = {"ok": ("http_requests_total", {"route": "/", "status": "2xx"}),
               "errors": ("http_requests_total", {"route": "/error", "status": "5xx"}),
               "observed": ("http_request_duration_seconds_bucket", {"route": "/", "status": "2xx", "le": "+Inf"})}
    before = [pod_metrics(pod) for pod in serving_pods()]
    for _ in range(20):
        assert app_get("/")[0] == 200
    for _ in range(5):
        assert app_get("/error")[0] == 500
    after = [pod_metrics(pod) for pod in serving_pods()]
    moved = {key: sum(_samples(after, name, **labels)) - sum(_samples(before, name, **labels))
             for key, (name, labels) in counted.items()}
    print(f"counters moved: 2xx on / +{moved['ok']:.0f}, 5xx on /error +{moved['errors']:.0f}, "
          f"latency histogram on / +{moved['observed']:.0f}")
    assert (moved["ok"], moved["errors"], moved["observed"]) == (20, 5, 20)
    text = after[0]
    buckets = [line for line in text.splitlines() if line.startswith("http_request_duration_seconds_bucket")]
    assert len({re.search(r'le="([^"]+)"', b)[1] for b in buckets}) > 5, "a histogram has several buckets"
    assert "\napp_db_up 1\n" in text
    # php-fpm's pool status: each scrape itself keeps one worker of its pod active
    assert "\nphpfpm_up 1\n" in text and sum(_samples(after, "phpfpm_processes", state="active")) >= 1, text[-1500:]
    pool = sum(_samples(after, "app_db_pool_connections", state="max"))
    print(f"app_db_pool_connections{{state=max}} summed over pods: {pool:.0f}")
    assert pool > 0


def _server_connections() -> int:
    """Sessions of the application's user in PostgreSQL, this query's own left out."""
    return int(psql("select count(*) from pg_stat_activity where usename = 'laravel' "
                    "and backend_type = 'client backend' and pid <> pg_backend_pid()"))


def _pgbouncer_metric(name: str) -> float:
    pods = kube_json("pods", "-n", NAMESPACE, "-l", PGBOUNCER_SELECTOR)["items"]
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    status, _, body = pod_get(pods[0], 9127, "/metrics")
    assert status == 200, body[:300]
    samples = _samples([body.decode()], name)
    assert samples, f"no {name} in the exporter's metrics"
    return sum(samples)


def test_pgbouncer_bounds_the_server_connections_under_load(backend):
    ini = kube_json("configmap", f"{DEPLOYMENT}-pgbouncer", "-n", NAMESPACE)["data"]["pgbouncer.ini"]
    pool = int(re.search(r"^max_db_connections = (\d+)$", ini, re.M)[1])
    peak, exported = 0, 0.0
    with Load("/db-sleep?seconds=0.3", workers=24, max_seconds=120) as load:
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            peak = max(peak, _server_connections())
            exported = max(exported, _pgbouncer_metric("pgbouncer_pools_server_active_connections"))
            time.sleep(0.5)
    summary = load.summary
    print(f"PgBouncer: 24 concurrent clients through {len(web_pods())} pods; PostgreSQL server connections "
          f"peaked at {peak} (pool {pool}); exporter's busiest server_active_connections {exported:.0f}; "
          + summary.report("load"))
    assert summary.failed == 0, summary.failures
    assert 2 <= peak <= pool, "the server connections are not bounded by the pool (or the load never reached them)"
    assert 1 <= exported <= pool


def _pods_serving(marker: str) -> list[str]:
    """The serving pods one of whose php-fpm workers is running a request whose query holds
    `marker` (php-fpm's full status page, which nginx answers to the pod's own loopback only)."""
    busy = []
    for pod in serving_pods():
        status = kubectl("exec", "-n", NAMESPACE, pod["metadata"]["name"], "-c", "php-fpm", "--", "php", "-r",
                         'echo file_get_contents("http://127.0.0.1:8080/fpm-status?full");', timeout=60).stdout
        workers = [dict(re.findall(r"^([A-Za-z ]+):\s+(.*)$", block, re.MULTILINE)) for block in status.split("****")]
        if any(w.get("state") == "Running" and marker in w.get("request URI", "") for w in workers):
            busy.append(pod["metadata"]["name"])
    return busy


def test_a_20_second_request_completes_while_its_pod_is_deleted(backend):
    """Through the Ingress: the pod must leave the endpoints (so Traefik sends it nothing new)
    and still finish the request it holds."""
    # the HPA brings a fresh release from the Deployment's one pod up to its minimum of two
    wait_for("two serving pods, so that one can go", lambda: len(serving_pods()) >= 2, timeout=120)
    marker = f"id={uuid.uuid4().hex}"
    path = f"/slow?seconds=20&{marker}"
    result = {}

    def slow_request():
        started = time.monotonic()
        status, _, body = app_get(path, timeout=90)
        result.update(status=status, body=body, seconds=time.monotonic() - started)

    caller = threading.Thread(target=slow_request)
    caller.start()
    name = wait_for("the pod serving the slow request", lambda: next(iter(_pods_serving(marker)), None),
                    timeout=15, interval=0.5)
    kubectl("delete", "pod", name, "-n", NAMESPACE, "--wait=false")
    time.sleep(1)
    deleting = kube_json("pod", name, "-n", NAMESPACE)
    with Load(workers=2, max_seconds=15) as load:
        caller.join(timeout=100)
    print(f"GET {path} through the Ingress on {name}, deleted while it ran: HTTP {result.get('status')} after "
          f"{result.get('seconds', 0):.1f}s; " + load.summary.report("meanwhile"))
    assert deleting and deleting["metadata"].get("deletionTimestamp"), "the pod was not terminating during the request"
    assert result.get("status") == 200, result
    assert json.loads(result["body"])["slept_seconds"] >= 20
    assert load.summary.sent > 0 and load.summary.failed == 0, load.summary.failures
    _wait_for_replacement(name)


def test_a_rollout_and_a_pod_deletion_under_load_lose_no_request(backend):
    with Load(workers=3, max_seconds=900) as load:
        time.sleep(3)
        started = time.monotonic()
        backend({"image_tag": VERSION_B})
        print(f"rollout A -> B (deploy.yml) took {time.monotonic() - started:.0f}s under load")
        victim = serving_pods()[0]["metadata"]["name"]
        kubectl("delete", "pod", victim, "-n", NAMESPACE, "--wait=false")
        _wait_for_replacement(victim)
        time.sleep(3)
    summary = load.summary
    print(summary.report("load during the rollout and the pod deletion"))
    assert summary.sent > 100, "too few requests to mean anything"
    assert summary.failed == 0, summary.failures
    assert set(summary.versions) == {VERSION_A, VERSION_B}, summary.versions


def test_the_prod_flow_refuses_unapproved_and_stops_at_a_failing_migration(backend, tmp_path):
    revision = helm_revision()
    app = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "laravel-app", app)
    (app / "database" / "migrations" / "2099_01_01_000000_fail_on_purpose.php").write_text(FAILING_MIGRATION)
    broken = {**PROD, "image_tag": f"live-{SOURCE}-broken", "backend_app_source": str(app)}

    # a new image in prod means a migration Job: refused without approval
    refused = backend({**broken, "backend_migrations_approved": False}, expect_rc=2)
    assert "backend_migrations_approved" in refused.output, refused.output[-3000:]
    assert helm_revision() == revision

    started = time.monotonic()
    failed = backend({**broken, "backend_migrations_approved": True}, expect_rc=2)
    print(f"the failing migration stopped the deploy after {time.monotonic() - started:.0f}s")
    assert "this migration fails on purpose" in failed.output, failed.output[-4000:]
    assert helm_revision() == revision, "the release was upgraded despite the failed migration"
    answers = {json.loads(app_get("/")[2])["version"] for _ in range(10)}
    assert answers == {VERSION_B}, answers


INGRESS_CLIENT = "laravel-ops-live-client"


def test_network_policy_is_enforced(backend):
    engine = kube_json("daemonset", "kube-network-policies", "-n", "kube-system")
    if engine is None or engine["status"].get("numberReady", 0) < 1:
        skip("no NetworkPolicy engine runs in this cluster (cluster/netpol.sh): the policies would only be stored")
    require_no_namespace(OUTSIDER)
    url = f"http://{DEPLOYMENT}.{NAMESPACE}.svc.cluster.local/healthz"
    try:
        kubectl("create", "namespace", OUTSIDER)
        pods = [
            testbox_pod(OUTSIDER, "web", {"app": "outsider"}, ["testbox", "serve", "-addr", ":8080"], "Always"),
            testbox_pod(OUTSIDER, "client", {"app": "outsider"}, ["testbox", "get", "-tries", "3", url], "Never"),
            # beside Traefik, with its name label but not its Service's component label
            testbox_pod(INGRESS_NAMESPACE, INGRESS_CLIENT, INGRESS_LABELS, ["testbox", "get", "-tries", "10", url], "Never"),
        ]
        kubectl("apply", "-f", "-", input_text=json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
        ingress = finished_phase(INGRESS_NAMESPACE, INGRESS_CLIENT)
        outsider = finished_phase(OUTSIDER, "client")
        outsider_web = wait_for("the outsider's server", lambda: (p := kube_json("pod", "web", "-n", OUTSIDER))
                                and is_ready(p) and p["status"]["podIP"], timeout=120)
        egress = {
            "PostgreSQL postgresql:5432": can_connect_from_backend("postgresql", 5432),
            f"PgBouncer {DEPLOYMENT}-pgbouncer:6432": can_connect_from_backend(f"{DEPLOYMENT}-pgbouncer", 6432),
            f"a pod of another namespace {outsider_web}:8080": can_connect_from_backend(outsider_web, 8080),
        }
        resolved = kubectl("exec", "-n", NAMESPACE, serving_pods()[0]["metadata"]["name"], "-c", "php-fpm", "--",
                           "php", "-r", 'echo gethostbyname("kubernetes.default.svc.cluster.local");').stdout
        print(f"NetworkPolicy: {INGRESS_NAMESPACE} pod -> backend {ingress}, pod of {OUTSIDER} -> backend {outsider}; "
              f"backend egress {egress}; DNS from the backend: kubernetes.default -> {resolved}")
        assert ingress == "Succeeded", "the ingress controller's namespace must reach the backend"
        assert outsider == "Failed", "a pod of another namespace reached the backend"
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", resolved), "the backend cannot resolve names (DNS egress)"
        assert egress == {name: not name.startswith("a pod of another") for name in egress}, egress
    finally:
        kubectl("delete", "pod", INGRESS_CLIENT, "-n", INGRESS_NAMESPACE, "--ignore-not-found", check=False, timeout=120)
        kubectl("delete", "namespace", OUTSIDER, "--ignore-not-found", "--wait=true", check=False, timeout=180)


def test_readiness_follows_the_database_without_restarts(backend):
    pods = serving_pods()
    names = {p["metadata"]["name"] for p in pods}
    before = restart_counts(pods)

    def ready_states() -> list[bool]:
        return [is_ready(p) for p in web_pods() if p["metadata"]["name"] in names]

    stopped = time.monotonic()
    stopped_at = datetime.now(timezone.utc)
    kubectl("scale", "statefulset/postgresql", "-n", NAMESPACE, "--replicas=0")
    try:  # the database comes back whatever happens meanwhile: the tests after this one need it
        wait_for("every backend pod to leave the Service", lambda: not any(ready_states()), timeout=60, interval=0.5)
        out_after = time.monotonic() - stopped
        liveness = pod_get(pods[0], 8080, "/healthz")[0]
    finally:
        kubectl("scale", "statefulset/postgresql", "-n", NAMESPACE, "--replicas=1")
    assert liveness == 200, "liveness must not depend on the database"
    wait_for("PostgreSQL to be ready again",
             lambda: (p := kube_json("pod", "postgresql-0", "-n", NAMESPACE)) is not None and is_ready(p),
             timeout=180, interval=0.5)
    returned = time.monotonic()
    wait_for("every backend pod to be ready again", lambda: all(ready_states()), timeout=60, interval=0.5)
    back_after = time.monotonic() - returned
    remaining = [p for p in web_pods() if p["metadata"]["name"] in names]
    after = restart_counts(remaining)
    gone = names - {p["metadata"]["name"] for p in remaining}
    # Idle while the database is away, the pods may meet the HPA's scale-down (its window ends then):
    # a pod it removed did not fail.
    scaled_away = pods_scaled_away(stopped_at)
    print(f"readiness of {len(pods)} pods: out of the Service {out_after:.1f}s after PostgreSQL was stopped, "
          f"back {back_after:.1f}s after it was ready again; container restarts before {sum(before.values())}, "
          f"after {sum(after.values())}; pods gone {sorted(gone)}, removed by scale-downs {scaled_away}")
    assert out_after <= 15
    assert back_after <= 15
    assert len(gone) <= scaled_away, f"pods went away that no scale-down removed: {sorted(gone)}"
    assert after == {k: v for k, v in before.items() if k.split("/")[0] not in gone}, \
        "a container restarted while the database was away"
    assert app_get("/readyz")[0] == 200


_QUANTITY_UNITS = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def _mebibytes(quantity: str) -> float:
    """A Kubernetes memory quantity as the HPA reports it ("34572Ki", "35400000000m", ...) in MiB."""
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity).groups()
    return round(float(number) * _QUANTITY_UNITS[unit] / 2**20, 1)


def test_memory_quantities_read_as_mebibytes():
    assert [_mebibytes(q) for q in ("34572Ki", "36253319168m", "64Mi", "1048576")] == [33.8, 34.6, 64.0, 1.0]


def _seconds_since_last_scale() -> float:
    last = kube_json("hpa", DEPLOYMENT, "-n", NAMESPACE)["status"].get("lastScaleTime")
    if not last:
        return math.inf
    return (datetime.now(timezone.utc) - datetime.fromisoformat(last.replace("Z", "+00:00"))).total_seconds()


def test_the_hpa_scales_on_php_fpm_cpu_two_pods_a_minute_up_to_ten(backend):
    # The HPA allows 2 pods more than the Deployment had when its 60 s period began, scale-downs in
    # the period included: a quiet minute first, so that before the load that count is the first one seen.
    wait_for("a minute without scaling", lambda: _seconds_since_last_scale() > 65, timeout=420, interval=5)
    samples: list[tuple[float, int]] = []
    readings: list[dict] = []
    reached_ten = None
    with Load(workers=6, max_seconds=720) as load:
        started = time.monotonic()
        while time.monotonic() - started < 660:
            hpa = kube_json("hpa", DEPLOYMENT, "-n", NAMESPACE)
            replicas = kube_json("deployment", DEPLOYMENT, "-n", NAMESPACE)["spec"]["replicas"]
            now = time.monotonic() - started
            samples.append((now, replicas))
            readings += hpa["status"].get("currentMetrics") or []
            if replicas >= 10 and reached_ten is None:
                reached_ten = now
            if reached_ten is not None and now - reached_ten > 45:
                break
            time.sleep(2)
    steps = [samples[0]] + [s for prev, s in zip(samples, samples[1:]) if s[1] != prev[1]]
    cpu = [r["containerResource"]["current"]["averageUtilization"] for r in readings
           if r["type"] == "ContainerResource" and r["containerResource"]["name"] == "cpu"]
    memory = [_mebibytes(r["containerResource"]["current"]["averageValue"]) for r in readings
              if r["type"] == "ContainerResource" and r["containerResource"]["name"] == "memory"]
    print(f"HPA replicas over time (s, replicas): {[(round(t), r) for t, r in steps]}; php-fpm CPU "
          f"utilisation seen up to {max(cpu, default=0)}% of its request; memory {memory[-1] if memory else '-'} MiB "
          "a pod; "
          + load.summary.report("load"))
    assert {r["containerResource"]["container"] for r in readings if r["type"] == "ContainerResource"} == {"php-fpm"}
    assert cpu and memory, "the HPA read no CPU or memory of the php-fpm container"
    assert reached_ten is not None, f"the HPA never reached 10 pods: {steps}"
    assert max(r for _, r in samples) == 10
    # The scale-up policy: at most 2 pods more than when the 60 s period began, i.e. than the count
    # seen 55-65 s earlier (our clock is not the controller's), or than the first count while the
    # period reaches back before the load.
    for t_j, r_j in samples:
        period_start = [r for t, r in samples if t_j - 65 <= t <= t_j - 55] + ([samples[0][1]] if t_j < 65 else [])
        assert r_j <= max(period_start) + 2, f"{r_j} pods at {t_j:.0f}s, {max(period_start)} a minute before: {steps}"
