"""Faults the backend and its deploy must survive, proven on the local cluster after
test_backend_live (same session fixture: release `live` in namespace laravel-ops-live-test).
Each test prints what it measured and puts back what it changed:

  1. /metrics is 404 on the web port; on nginx's metrics port only the Prometheus peer
     (namespace monitoring AND pods app.kubernetes.io/name=prometheus) gets in.
  2. php-fpm listens on loopback only: with every NetworkPolicy of the namespace taken away, the
     pod IP refuses FastCGI (9000, 9001) while nginx's 8080 answers; the policies come back as
     they were.
  3. A pod whose php-fpm workers are all busy for twice the liveness failure window is not
     restarted: it leaves the Service (readiness) and comes back when the load stops.
  4. A second deploy while one runs stops at the lock at once, naming the first, and changes
     nothing; the first finishes; no request fails.
  5. A deploy killed (the whole process tree, helm too) while the release is pending-upgrade is
     recovered by the next deploy: it rolls back from pending and deploys; no request fails.
  6. A version that never becomes Ready fails the deploy, is rolled back (atomic), and the
     failure carries pod states, events and the failing container's logs, and no secret.
  7. Bad conditions stop the deploy before the cluster changes, naming what failed: registry
     credentials refused, cluster API unreachable, database unreachable during a prod migration.
  8. A deploy run with -vvv prints none of the secrets it handles.

The deploys here run ansible-playbook as the fixture does (operator_helpers.Playbook.command), in
the background where a test needs to act while one runs.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
import shutil
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import yaml

from live_helpers import (
    DEPLOYMENT, METRICS_PORT, NAMESPACE, PROD, RELEASE, SOURCE, BackgroundPlaybook, Load, app_get, deployed_images,
    endpoint_ready, finished_phase, get, helm_history, helm_revision, helm_status, inventory_secrets, is_ready,
    kube_json, lease, local_inventory, other_version, pod_get, port_forward, processes_matching, restart_counts,
    run_playbook, run_testbox, served_versions, serving_pods, testbox_pod, web_pods,
)
from operator_helpers import KUBECONFIG, ROOT, kubectl, require_no_namespace, skip, wait_for

MONITORING = "monitoring"
METRICS_OUTSIDER = "laravel-ops-live-metrics-outsider"
PROMETHEUS_LABELS = {"app.kubernetes.io/name": "prometheus"}
WWW_CONF = ROOT / "docker" / "php-fpm" / "www.conf"


def _require_network_policy_engine() -> None:
    engine = kube_json("daemonset", "kube-network-policies", "-n", "kube-system")
    if engine is None or engine["status"].get("numberReady", 0) < 1:
        skip("no NetworkPolicy engine runs in this cluster (cluster/netpol.sh): the policies would only be stored")


def _timed_out(log: str) -> bool:
    return "Client.Timeout" in log or "i/o timeout" in log or "deadline exceeded" in log


def _flat(text: str) -> str:
    """Output with every run of whitespace made one space (the YAML callback folds long lines)."""
    return " ".join(text.split())


def _failure(output: str) -> tuple[str, dict]:
    """The task that stopped the run and its result, read back from the YAML the callback printed
    after `fatal: [host]: FAILED! =>` (ansible.cfg: callback_result_format = yaml)."""
    lines = output.splitlines()
    # the last one: a failure a rescue handled is printed too
    fatal = [i for i, line in enumerate(lines) if re.match(r"fatal: \[[^]]+\]: FAILED! =>", line)]
    if not fatal:
        return "", {}
    start = fatal[-1]
    task = next((m[1] for line in reversed(lines[:start]) if (m := re.match(r"TASK \[(.*?)\]", line))), "?")
    body = []
    for line in lines[start + 1:]:
        if line and not line.startswith(" "):
            break
        body.append(line)
    return task, yaml.safe_load(textwrap.dedent("\n".join(body))) or {}


def _leaks(output: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in output]


def _replicas() -> int:
    return kube_json("deployment", DEPLOYMENT, "-n", NAMESPACE)["spec"]["replicas"]


# A load the HPA hardly answers with more pods (~10 requests/s; the php-fpm containers ask for
# 50m CPU here, and their probes use a third of it already): on this two-core machine ten web pods
# leave no room for a rollout's extra pod or a migration Job.
GENTLE = {"workers": 2, "pause": 0.2}


# At most this many web pods (70m CPU each here) before a test that rolls out or runs a Job: on
# this two-core machine, with what else runs there, more leave no room for a rollout's extra pod and
# a migration Job (100m).
ROOM_FOR_A_ROLLOUT = 5


def _settled(most: int = ROOM_FOR_A_ROLLOUT) -> str:
    """Brings the web pods to `most` at most (an earlier test's load may have scaled them up to
    ten), all Ready. The HPA's maximum is lowered that far until then, which the HPA follows at
    once; its scale-down window and pace would take minutes."""
    # Pods of a release an earlier test left failed may never be Ready: say so now, not after the wait.
    status = helm_status()
    assert status and status["status"] == "deployed", f"the release is not deployed to begin with: {status}"
    started = time.monotonic()

    def settled():
        wanted = _replicas()
        pods = web_pods()
        return wanted <= most and len(pods) == wanted and all(is_ready(p) for p in pods) and wanted
    hpa = kube_json("hpa", DEPLOYMENT, "-n", NAMESPACE)
    capped = hpa is not None and hpa["spec"]["maxReplicas"] > most and _replicas() > most
    with _hpa_spec(hpa, maxReplicas=most) if capped else contextlib.nullcontext():
        pods = wait_for(f"the web pods to be {most} at most, all Ready", settled, timeout=900, interval=5)
    how = f"the HPA's maximum lowered from {hpa['spec']['maxReplicas']}" if capped else "the HPA"
    return f"{pods} pods (waited {time.monotonic() - started:.0f}s for {how})"


@contextlib.contextmanager
def _hpa_spec(hpa: dict, **spec: int) -> Iterator[None]:
    """The HPA's spec fields set to these values while the block runs, then back to what the HPA
    had (an absent minReplicas is Kubernetes' default, 1)."""
    def patch(values: dict) -> None:
        kubectl("patch", "hpa", DEPLOYMENT, "-n", NAMESPACE, "--type=merge", "-p", json.dumps({"spec": values}))
    before = {name: hpa["spec"].get(name, 1) for name in spec}
    patch(spec)
    try:
        yield
    finally:
        patch(before)


# ---- 1 ----------------------------------------------------------------------------------------

def test_metrics_are_served_to_prometheus_only_on_their_own_port(backend):
    _require_network_policy_engine()
    if kube_json("namespace", MONITORING) is None:
        skip(f"no namespace {MONITORING} (the Prometheus Operator runs there): the policy's peer is absent")
    require_no_namespace(METRICS_OUTSIDER)
    pod = serving_pods()[0]
    address = pod["status"]["podIP"]
    through_ingress = app_get("/metrics")[0]
    on_pod_web_port = pod_get(pod, 8080, "/metrics")[0]
    url = f"http://{address}:{METRICS_PORT}/metrics"
    clients = {
        "monitoring, app.kubernetes.io/name=prometheus": (MONITORING, "laravel-ops-live-prometheus",
                                                           PROMETHEUS_LABELS, "10"),
        "monitoring, app.kubernetes.io/name=grafana": (MONITORING, "laravel-ops-live-not-prometheus",
                                                        {"app.kubernetes.io/name": "grafana"}, "3"),
        f"{METRICS_OUTSIDER}, app.kubernetes.io/name=prometheus": (METRICS_OUTSIDER, "prometheus",
                                                                    PROMETHEUS_LABELS, "3"),
    }
    results = {}
    try:
        kubectl("create", "namespace", METRICS_OUTSIDER)
        pods = [testbox_pod(ns, name, labels, ["testbox", "get", "-tries", tries, url], "Never")
                for ns, name, labels, tries in clients.values()]
        kubectl("apply", "-f", "-", input_text=json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}))
        for what, (ns, name, _, _) in clients.items():
            results[what] = (finished_phase(ns, name), kubectl("logs", "-n", ns, name).stdout)
    finally:
        for ns, name, _, _ in clients.values():
            if ns == MONITORING:
                kubectl("delete", "pod", name, "-n", ns, "--ignore-not-found", "--wait=true", check=False)
        kubectl("delete", "namespace", METRICS_OUTSIDER, "--ignore-not-found", "--wait=true", check=False, timeout=180)
    print(f"GET /metrics through the Ingress: HTTP {through_ingress}; on {pod['metadata']['name']}:8080: "
          f"HTTP {on_pod_web_port}; {url} from a pod in "
          + "; ".join(f"{what}: {phase} ({len(log)} bytes{', timed out' if _timed_out(log) else ''})"
                      for what, (phase, log) in results.items()))
    assert through_ingress == 404 and on_pod_web_port == 404, "the web port must not serve /metrics"
    prometheus_phase, prometheus_log = results["monitoring, app.kubernetes.io/name=prometheus"]
    assert prometheus_phase == "Succeeded", prometheus_log[-500:]
    assert "http_requests_total" in prometheus_log, "the metrics port answered, but not with the metrics"
    for what, (phase, log) in results.items():
        if what != "monitoring, app.kubernetes.io/name=prometheus":
            assert phase == "Failed", f"a pod of {what} reached the metrics port"
            assert url in log and _timed_out(log), f"{what}: failed for another reason than the policy: {log[-300:]}"
    assert kube_json("namespace", METRICS_OUTSIDER) is None, f"namespace {METRICS_OUTSIDER} was left behind"


# ---- 2 ----------------------------------------------------------------------------------------

_SERVER_SET = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _restorable(policy: dict) -> dict:
    """A saved NetworkPolicy as it can be applied again: without what the API server sets."""
    metadata = {k: v for k, v in policy["metadata"].items() if k not in _SERVER_SET}
    return {"apiVersion": policy.get("apiVersion", "networking.k8s.io/v1"), "kind": "NetworkPolicy",
            "metadata": metadata, "spec": policy["spec"]}


def _policy_view(policy: dict) -> dict:
    metadata = policy["metadata"]
    return {"spec": policy["spec"], "labels": metadata.get("labels") or {},
            "annotations": {k: v for k, v in (metadata.get("annotations") or {}).items() if k != _LAST_APPLIED}}


def test_fastcgi_is_refused_on_the_pod_ip_even_without_network_policy(backend):
    saved = kube_json("networkpolicy", "-n", NAMESPACE)["items"]
    assert saved, "the release has no NetworkPolicy to take away"
    names = sorted(p["metadata"]["name"] for p in saved)
    pod = serving_pods()[0]
    address = pod["status"]["podIP"]
    results = {}
    try:
        kubectl("delete", "networkpolicy", "-n", NAMESPACE, *names, "--wait=true")
        wait_for("the NetworkPolicies to be gone", lambda: not kube_json("networkpolicy", "-n", NAMESPACE)["items"],
                 timeout=60, interval=1)
        # nginx's port first, with retries: once it answers, the engine dropped the policies
        results[8080] = run_testbox(NAMESPACE, "laravel-ops-live-web", {"app": "laravel-ops-live-probe"},
                                    ["testbox", "get", "-tries", "15", f"http://{address}:8080/"])
        for port in (9000, 9001):
            results[port] = run_testbox(NAMESPACE, f"laravel-ops-live-fastcgi-{port}",
                                        {"app": "laravel-ops-live-probe"},
                                        ["testbox", "get", "-tries", "1", f"http://{address}:{port}/"])
    finally:
        restored = {"apiVersion": "v1", "kind": "List", "items": [_restorable(p) for p in saved]}
        kubectl("apply", "-f", "-", input_text=json.dumps(restored))
    back = {p["metadata"]["name"]: _policy_view(p) for p in kube_json("networkpolicy", "-n", NAMESPACE)["items"]}
    print(f"NetworkPolicies {names} deleted; from a pod of {NAMESPACE}: "
          + "; ".join(f"{address}:{port} -> {phase}: {log.strip()[-160:]}" for port, (phase, log) in results.items())
          + f"; restored: {sorted(back)}")
    assert results[8080][0] == "Succeeded", "nginx's port did not answer: the policies were not off, or nginx is down"
    assert json.loads(results[8080][1]).get("version"), results[8080][1][:300]
    for port in (9000, 9001):
        phase, log = results[port]
        assert phase == "Failed", f"{address}:{port} answered from another pod: php-fpm listens beyond loopback"
        assert "connection refused" in log, f"{address}:{port} must refuse, not time out: {log[-300:]}"
    assert back == {p["metadata"]["name"]: _policy_view(p) for p in saved}, \
        "the NetworkPolicies did not come back as they were"


# ---- 3 ----------------------------------------------------------------------------------------

def _max_children() -> int:
    return int(re.search(r"^pm\.max_children\s*=\s*(\d+)", WWW_CONF.read_text(), re.M)[1])


def _fpm_status(pod: str, command: list[str]) -> dict:
    """php-fpm's pool status, asked of its status listener (answered however busy the workers are)."""
    result = kubectl("exec", "-n", NAMESPACE, pod, "-c", "php-fpm", "--", command[0], "--liveness", "--status",
                     timeout=30)
    return json.loads(result.stdout)


@pytest.fixture
def hpa_held():
    """The HPA's minimum raised to the pods running now until the test ends: a scale-down removes
    unready pods first, so the pod a test saturates would go and never come back."""
    hpa = kube_json("hpa", DEPLOYMENT, "-n", NAMESPACE)
    if hpa is None:
        yield
        return
    minimum = hpa["spec"].get("minReplicas", 1)
    with _hpa_spec(hpa, minReplicas=max(minimum, hpa["status"].get("currentReplicas", minimum))):
        yield


def test_a_saturated_pod_leaves_the_service_and_is_not_restarted(backend, hpa_held):
    deployment = kube_json("deployment", DEPLOYMENT, "-n", NAMESPACE)
    php = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "php-fpm")
    liveness = php["livenessProbe"]
    window = liveness["periodSeconds"] * liveness["failureThreshold"]
    env = {e["name"]: e.get("value") for e in php.get("env", [])}
    terminate = int(env.get("PHP_FPM_REQUEST_TERMINATE_TIMEOUT") or re.search(
        r"PHP_FPM_REQUEST_TERMINATE_TIMEOUT.*default: (\d+)", WWW_CONF.read_text())[1])
    hold = min(20, terminate - 10)  # each request ends well before php-fpm would kill it
    workers = _max_children()
    in_flight = 2 * workers
    assert in_flight >= 12 and hold > 0
    pod = serving_pods()[0]
    name, address = pod["metadata"]["name"], pod["status"]["podIP"]
    assert endpoint_ready(address) is True, "the pod is not a ready endpoint to begin with"
    before = restart_counts([pod])
    stop = threading.Event()
    statuses: Counter = Counter()
    counting = threading.Lock()

    def keep_busy():
        while not stop.is_set():
            try:
                status = get("127.0.0.1", local_port, f"/slow?seconds={hold}", timeout=120)[0]
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
            with counting:
                statuses[status] += 1

    # the requests go to this one pod, not through the Service, which takes it out when it saturates
    with port_forward(pod, 8080) as local_port:
        threads = [threading.Thread(target=keep_busy, daemon=True) for _ in range(in_flight)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        out_at, transitions, fpm = None, [], None
        last = True
        try:
            while time.monotonic() - started < 2 * window:
                ready = bool(endpoint_ready(address))
                now = time.monotonic() - started
                if ready != last:
                    transitions.append((round(now, 1), "in" if ready else "out"))
                    last = ready
                if not ready and out_at is None:
                    out_at = now
                if fpm is None and now > 15:
                    fpm = _fpm_status(name, liveness["exec"]["command"])
                time.sleep(1)
        finally:
            stop.set()
        stopped = time.monotonic()
        saturated_for = stopped - started
        wait_for(f"{name} to be a ready endpoint again", lambda: endpoint_ready(address), timeout=240, interval=1)
        back_after = time.monotonic() - stopped
        for thread in threads:
            thread.join(timeout=120)
    current = [p for p in web_pods() if p["metadata"]["name"] == name]
    after = restart_counts(current)
    events = kube_json("events", "-n", NAMESPACE, "--field-selector", f"involvedObject.name={name},reason=Unhealthy")
    probes = Counter(re.match(r"(\w+) probe", e["message"])[1] for e in events["items"]
                     for _ in range(e.get("count") or 1) if re.match(r"\w+ probe", e["message"]))
    print(f"php-fpm liveness window {liveness['periodSeconds']}s x {liveness['failureThreshold']} = {window}s; "
          f"{in_flight} requests of {hold}s kept in flight on {name} for {saturated_for:.0f}s "
          f"(pm.max_children {workers}); php-fpm status mid-way: active {fpm and fpm['active processes']}, "
          f"listen queue {fpm and fpm['listen queue']}, max children reached {fpm and fpm['max children reached']}; "
          f"out of the endpoints {out_at if out_at is None else round(out_at, 1)}s after the load began, "
          f"transitions {transitions}; back {back_after:.1f}s after the load stopped; answers {dict(statuses)}; "
          f"Unhealthy events of the pod by probe {dict(probes)}; restarts before {before}, after {after}")
    assert fpm and fpm["active processes"] >= workers, f"php-fpm was not saturated: {fpm}"
    assert out_at is not None, "the saturated pod never left the Service's endpoints (readiness)"
    assert current and after == before, "a container of the saturated pod restarted (liveness) or the pod went away"
    assert endpoint_ready(address) is True


# ---- 4 ----------------------------------------------------------------------------------------

def test_a_second_deploy_stops_at_the_lock_naming_the_first(backend):
    assert lease() is None, "a deploy lock is held already"
    settled = _settled()
    current = served_versions()
    target = other_version()
    revision = helm_revision()
    images = deployed_images()
    with Load(max_seconds=1200, **GENTLE) as load:
        first = BackgroundPlaybook(backend, {"image_tag": target})
        try:
            held = wait_for("the first deploy to hold the lock",
                            lambda: lease() or ("exited" if not first.running() else None), timeout=600, interval=0.3)
            assert held != "exited", first.output()[-6000:]
            taken_after = time.monotonic() - first.started
            rc, output, seconds = run_playbook(backend, {"image_tag": next(iter(current))})
            during = lease()
            first_still_running = first.running()
            revision_then = helm_revision()
        finally:
            first_rc = first.wait(timeout=1200)
        first_seconds = time.monotonic() - first.started
        time.sleep(3)
    summary = load.summary
    holder = held["spec"]["holderIdentity"]
    refusal = re.search(r"is being deployed: .*?Nothing was changed\.", _flat(output))
    history = helm_history()
    print(f"{settled}; first deploy ({target}) took the lock {taken_after:.0f}s after it started, holder {holder!r}; the "
          f"second deploy ran {seconds:.1f}s, exit {rc}: {refusal and refusal[0]!r}; Lease while the first still "
          f"ran (first running: {first_still_running}): holder {during and during['spec']['holderIdentity']!r}, "
          f"resourceVersion {held['metadata']['resourceVersion']} -> {during and during['metadata']['resourceVersion']}; "
          f"helm revision {revision} -> {revision_then} after the refusal -> {helm_revision()} after the first "
          f"(exit {first_rc}, {first_seconds:.0f}s); Lease afterwards {lease()}; " + summary.report("load"))
    assert rc == 2 and refusal, f"the second deploy was not refused by the lock:\n{output[-5000:]}"
    assert holder in refusal[0], "the refusal does not name the first deploy's holder"
    # It stops where the first took the lock, which the first reached in taken_after; twice that
    # leaves room for the first's rollout and the load beside it, not for a wait on the lock.
    assert seconds < 2 * taken_after, "the second deploy did not stop at once"
    assert first_still_running and during is not None, "the first deploy was over before the second was refused"
    assert during["metadata"]["resourceVersion"] == held["metadata"]["resourceVersion"], "the second deploy wrote the Lease"
    assert revision_then in (revision, revision + 1)
    assert first_rc == 0, first.output()[-6000:]
    assert lease() is None, "the first deploy did not give the lock back"
    assert history[-1]["revision"] == revision + 1 and history[-1]["status"] == "deployed", history[-3:]
    assert deployed_images() != images and served_versions() == {target}
    assert summary.failed == 0, summary.failures
    assert summary.sent > 50


# ---- 5 ----------------------------------------------------------------------------------------

@pytest.fixture
def fewest_pods():
    """The web pods brought down to the HPA's minimum and held there until the test ends: the
    rollout is then short, and so is a release_timeout sized to it, which the test waits out."""
    hpa = kube_json("hpa", DEPLOYMENT, "-n", NAMESPACE)
    if hpa is None:
        yield _settled()
        return
    fewest = hpa["spec"].get("minReplicas", 1)
    with _hpa_spec(hpa, maxReplicas=fewest):
        yield _settled(most=fewest)


def test_an_interrupted_deploy_is_rolled_back_from_pending_by_the_next(backend, fewest_pods):
    assert lease() is None, "a deploy lock is held already"
    settled = fewest_pods
    target = other_version()
    replicas = _replicas()
    # Room for each pod to be replaced in turn (maxSurge 1, maxUnavailable 0) at half a minute a
    # pod, which a loaded two-core machine with shared cores needs (15 s a pod was cut off there).
    timeout = 30 + 30 * replicas
    lock_seconds = 30
    extra = {"image_tag": target, "release_timeout": f"{timeout}s", "release_lock_seconds": lock_seconds}
    revision = helm_revision()
    seen: list[tuple[float, str]] = []
    started = time.monotonic()

    def note(status: dict | None) -> str | None:
        state = f"{status['status']} (revision {status['revision']})" if status else "none"
        if not seen or seen[-1][1] != state:
            seen.append((round(time.monotonic() - started, 1), state))
        return status and status["status"]

    with Load(max_seconds=1800, **GENTLE) as load:
        interrupted = BackgroundPlaybook(backend, extra)
        try:
            reached = wait_for("the release to be pending-upgrade",
                               lambda: "exited" if not interrupted.running()
                               else note(helm_status()) == "pending-upgrade", timeout=600, interval=0.3)
        finally:
            killed = interrupted.kill_everything()
        assert reached is True, interrupted.output()[-6000:]
        pending_seen = time.monotonic()
        helm_left = processes_matching("helm", RELEASE, NAMESPACE)
        for _ in range(10):
            note(helm_status())
            time.sleep(1)
        still_pending = helm_status()
        left_lease = lease()
        pending = helm_history()[-1]
        # the lock the killed run left must expire and the pending operation be older than the timeout
        time.sleep(max(0.0, pending_seen + max(timeout, lock_seconds) + 5 - time.monotonic()))
        note(helm_status())
        rc, output, seconds = run_playbook(backend, extra)
        note(helm_status())
        time.sleep(3)
    summary = load.summary
    recovered = re.search(r"was pending-upgrade since [^,]+, left by a deploy that did not finish: "
                          r"rolled back to revision (\d+)\.", _flat(output))
    final = helm_status()
    print(f"{settled}; release_timeout {timeout}s ({replicas} pods), lock {lock_seconds}s; killed {len(killed)} processes "
          f"(helm among them: {any(' upgrade ' in c and 'helm' in c for c in killed)}), helm of the release "
          f"left running: {helm_left}; after the kill: {still_pending}, revision {pending['revision']} "
          f"{pending['status']} since {pending['updated']}; Lease left by the killed run: holder "
          f"{left_lease and left_lease['spec']['holderIdentity']!r}; the next deploy (exit {rc}, {seconds:.0f}s) "
          f"said: {recovered and recovered[0]!r}; release states seen (s, state): {seen}; "
          + summary.report("load"))
    assert any(" upgrade " in c for c in killed), f"no helm upgrade was killed: {killed}"
    assert not helm_left, "helm outlived the kill"
    assert still_pending and still_pending["status"] == "pending-upgrade", still_pending
    assert pending["status"] == "pending-upgrade" and int(pending["revision"]) == revision + 1
    assert left_lease is not None, "the killed run left no lock (was it taken?)"
    assert rc == 0, output[-8000:]
    assert recovered, f"the deploy did not say it rolled back from pending:\n{output[-6000:]}"
    assert int(recovered[1]) == revision
    # revision + 1 the killed upgrade, + 2 the rollback, + 3 the upgrade
    assert final["status"] == "deployed" and final["revision"] == revision + 3, final
    assert served_versions() == {target}
    assert lease() is None
    assert summary.failed == 0, summary.failures


# ---- 6 ----------------------------------------------------------------------------------------

NEVER_READY_ROUTE = ("Route::get('/readyz', fn () => response()->json("
                     "['status' => 'unavailable', 'checks' => ['live-test' => 'never ready on purpose']], 503));")


def test_a_version_that_never_becomes_ready_is_rolled_back_with_its_diagnosis(backend, tmp_path):
    secrets = inventory_secrets(backend.user, backend.password)
    settled = _settled()
    current = served_versions()
    revision = helm_revision()
    images = deployed_images()
    app = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "laravel-app", app, ignore=shutil.ignore_patterns("vendor", "node_modules"))
    routes = app / "routes" / "api.php"
    text = routes.read_text()
    broken = re.sub(r"^Route::get\('/readyz', .*$", lambda _: NEVER_READY_ROUTE, text, flags=re.M)
    assert broken != text, "the example app's /readyz route was not found"
    routes.write_text(broken)
    extra = {"image_tag": f"live-{SOURCE}-unready", "backend_app_source": str(app), "release_timeout": "60s"}
    with Load(max_seconds=1200, **GENTLE) as load:
        rc, output, seconds = run_playbook(backend, extra)
        time.sleep(3)
    summary = load.summary
    task, result = _failure(output)
    message = result.get("msg") if isinstance(result.get("msg"), dict) else {}
    failing_logs = {name: lines for name, lines in (message.get("logs") or {}).items()
                    if any('"uri":"/readyz"' in line and '"status":503' in line for line in lines)}
    history = helm_history()
    print(f"{settled}; deploy of a never-ready version: exit {rc} after {seconds:.0f}s, stopped at {task!r}; release "
          f"{helm_status()} (was revision {revision}), last revisions "
          f"{[(h['revision'], h['status'], h['description'][:40]) for h in history[-3:]]}; images back: "
          f"{deployed_images() == images}; secrets found in the output: {_leaks(output, secrets)}; the message: "
          f"error {str(message.get('error'))[-160:]!r}, rolled back {message.get('rolled_back')!r}, pods "
          f"{[p for p in message.get('pods') or [] if 'not ready' in p]} (of {len(message.get('pods') or [])}), "
          f"{len(message.get('events') or [])} events, e.g. "
          f"{[e for e in message.get('events') or [] if 'Readiness probe failed' in e][:1]}, logs of "
          f"{sorted(message.get('logs') or {})}, /readyz 503 lines in {sorted(failing_logs)}; " + summary.report("load"))
    assert rc == 2, output[-6000:]
    assert "Stop with the rollout's failure" in task and message, f"the failure was not diagnosed:\n{output[-6000:]}"
    assert any(re.search(r"/nginx: running, not ready", p) for p in message["pods"]), "no failing pod state"
    assert any("Readiness probe failed" in e for e in message["events"]), "no readiness events"
    assert failing_logs, "no log lines of the failing container"
    assert str(message.get("rolled_back", "")).startswith(f"to revision {revision} "), message.get("rolled_back")
    assert not _leaks(output, secrets), "a secret is in the deploy's output"
    status = helm_status()
    assert status["status"] == "deployed" and status["revision"] == revision + 2, status
    assert history[-2]["status"] == "failed" and "Rollback" in history[-1]["description"], history[-2:]
    assert deployed_images() == images, "the release was not rolled back to the previous revision's images"
    assert served_versions() == current
    assert summary.failed == 0, summary.failures
    assert summary.sent > 50


# ---- 7 ----------------------------------------------------------------------------------------

def _registry_tags(backend, repository: str) -> list[str]:
    """The tags of a repository of the local registry, asked with the right credentials."""
    auth = base64.b64encode(f"{backend.user}:{backend.password}".encode()).decode()
    status, _, body = get("127.0.0.1", 5000, f"/v2/{repository}/tags/list", headers={"Authorization": f"Basic {auth}"})
    return (json.loads(body).get("tags") or []) if status == 200 else []


def _bad_registry_credentials(backend, tmp_path) -> dict:
    tag = f"live-{SOURCE}-never-pushed"
    return {"extra": {"image_tag": tag}, "env": {"LARAVEL_OPS_REGISTRY_PASSWORD": backend.password + "-wrong"},
            "expect": [rf"127\.0\.0\.1:5000/laravel-ops/backend-\w+:{re.escape(tag)}", r"HTTP 401"],
            # nothing was pushed under that tag
            "after": lambda: not any(tag in _registry_tags(backend, f"laravel-ops/backend-{kind}")
                                     for kind in ("php", "nginx"))}


def _unreachable_api(backend, tmp_path) -> dict:
    config = yaml.safe_load(open(KUBECONFIG).read())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = "https://127.0.0.1:9"
    unreachable = tmp_path / "unreachable.kubeconfig"
    unreachable.write_text(yaml.safe_dump(config))
    unreachable.chmod(0o600)
    # images the registry holds: nothing to build, the first cluster call comes at once
    return {"extra": {"image_tag": next(iter(served_versions()))}, "env": {"K8S_AUTH_KUBECONFIG": str(unreachable)},
            "expect": [r"https://127\.0\.0\.1:9\b", r"Kubernetes API"]}


def _unreachable_database(backend, tmp_path) -> dict:
    host = f"no-such-database.{NAMESPACE}.svc.cluster.local"
    database = {**local_inventory()["backend_database"], "host": host}
    return {"extra": {**PROD, "image_tag": other_version(), "backend_migrations_approved": True,
                      # the in-cluster PostgreSQL role would make a server of that name
                      "backend_database_in_cluster": False, "backend_database": database},
            "env": {}, "expect": [r"live-backend-migrate", re.escape(host), r"could not translate host name"]}


BAD_CONDITIONS = {"registry-credentials-refused": _bad_registry_credentials,
                  "cluster-api-unreachable": _unreachable_api,
                  "database-unreachable-in-prod-migration": _unreachable_database}


@pytest.mark.parametrize("condition", list(BAD_CONDITIONS))
def test_bad_conditions_stop_the_deploy_before_the_cluster_changes(backend, tmp_path, condition):
    assert lease() is None, "a deploy lock is held already"
    settled = _settled()
    case = BAD_CONDITIONS[condition](backend, tmp_path)
    revision, images, current = helm_revision(), deployed_images(), served_versions()
    namespace_version = kube_json("namespace", NAMESPACE)["metadata"]["resourceVersion"]
    jobs = {j["metadata"]["name"] for j in kube_json("jobs", "-n", NAMESPACE)["items"]}
    rc, output, seconds = run_playbook(backend, case["extra"], env=case["env"])
    new_jobs = sorted({j["metadata"]["name"] for j in kube_json("jobs", "-n", NAMESPACE)["items"]} - jobs)
    task, result = _failure(output)
    # the message, and the Job's log lines where the failing task returns them
    message = _flat(str(result.get("msg", "")) + " " + " ".join(result.get("logs") or []))
    found = {pattern: bool(re.search(pattern, message)) for pattern in case["expect"]}
    print(f"{settled}; {condition}: exit {rc} after {seconds:.0f}s at task {task!r}: {message[:1200]}; "
          f"expected in the message {found}; helm revision {revision} -> {helm_revision()}; images unchanged "
          f"{deployed_images() == images}; serving {served_versions()}; Lease {lease()}; namespace resourceVersion "
          f"{namespace_version} -> {kube_json('namespace', NAMESPACE)['metadata']['resourceVersion']}; new Jobs {new_jobs}")
    try:
        assert rc == 2 and result, output[-6000:]
        assert all(found.values()), f"the message does not name what failed: {found}"
        assert helm_revision() == revision and deployed_images() == images
        assert served_versions() == current
        assert lease() is None, "the deploy left its lock"
        assert case.get("after", lambda: True)(), f"{condition}: something was pushed or changed after all"
        if condition != "database-unreachable-in-prod-migration":
            assert kube_json("namespace", NAMESPACE)["metadata"]["resourceVersion"] == namespace_version
            assert not new_jobs
        else:
            assert new_jobs, "no migration Job ran"
            job = kube_json("job", new_jobs[0], "-n", NAMESPACE)
            assert job["status"].get("failed"), job["status"]
            assert "Run the Job" in task and result.get("logs"), "the deploy did not stop at the migration Job"
    finally:
        for name in new_jobs:
            kubectl("delete", "job", name, "-n", NAMESPACE, "--ignore-not-found", "--cascade=foreground", check=False)


# ---- 8 ----------------------------------------------------------------------------------------

def test_a_verbose_deploy_prints_no_secret(backend):
    secrets = inventory_secrets(backend.user, backend.password)
    settled = _settled()
    target = other_version()
    secret_name = next(v["secret"]["secretName"] for v in kube_json("deployment", DEPLOYMENT, "-n", NAMESPACE)
                       ["spec"]["template"]["spec"]["volumes"] if v["name"] == "app-secrets")
    # Without the Secret the deploy writes it again: the task that handles the secrets runs too.
    kubectl("delete", "secret", secret_name, "-n", NAMESPACE)
    rc, output, seconds = run_playbook(backend, {"image_tag": target}, "-vvv")
    leaks = _leaks(output, secrets)
    ran = re.findall(r"^TASK \[(.*?)\]", output, re.M)
    secret_task = "laravel_ops.k8s.release : Store the application secrets"
    wrote_secret = bool(re.search(re.escape(f"TASK [{secret_task}]") + r".*?^changed: ", output, re.M | re.S))
    print(f"{settled}; deploy with -vvv: exit {rc} after {seconds:.0f}s, {len(output.splitlines())} lines, {len(ran)} tasks, "
          f"module invocations shown: {output.count('module_args')}; the Secret written again: {wrote_secret}; "
          f"secrets looked for: {sorted(secrets)}; found: {leaks}; serving {served_versions()}")
    assert rc == 0, output[-6000:]
    assert "module_args" in output, "the run was not verbose enough to show module arguments"
    assert wrote_secret, "the task that writes the secrets did not run"
    assert kube_json("secret", secret_name, "-n", NAMESPACE) is not None
    assert not leaks, f"secrets in the -vvv output: {leaks}"
    assert served_versions() == {target}
