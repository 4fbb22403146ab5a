"""Helpers of tests/live: the backend that deploy.yml puts on the local cluster, read back from
the API server, and a bounded load generator that runs on this machine. Requests to the app go
as users' requests do: HTTPS to the cluster's Traefik (its Service's cluster IP, which this
machine routes to the kind nodes, cluster/kind/up.sh), checked against the cluster's ingress CA,
and on through the release's Ingress to a ready pod behind its Service. Single-pod reads go
through kubectl port-forward. No traffic leaves the machine."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chart"))
from image_helpers import tree_hash  # noqa: E402  pylint: disable=wrong-import-position
from operator_helpers import (  # noqa: E402  pylint: disable=wrong-import-position
    KUBECONFIG, ROOT, IngressConnection, http_request, ingress_ca_context, kube_json, kubectl, local_inventory, run,
    tool, wait_for,
)

NAMESPACE = "laravel-ops-live-test"
RELEASE = "live"
WEB_SELECTOR = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=web"
# Tags named after the sources, so that a registry kept between runs never hands back an image
# of older code; A and B differ only by name (APP_VERSION tells their answers apart).
SOURCE = tree_hash(ROOT / "examples" / "laravel-app", ROOT / "docker")
VERSION_A = f"live-{SOURCE}-a"
VERSION_B = f"live-{SOURCE}-b"
DEPLOYMENT = f"{RELEASE}-backend"


def release_inventory(namespace: str, release: str) -> dict:
    """The extra vars of a test release beside the local inventory's: its own namespace and
    release name (its database host and Ingress host follow from them), and CPU requests small
    enough for several releases on the test node, added to the local inventory's chart values
    (extra vars replace a variable whole)."""
    chart_values = {**local_inventory()["backend_chart_values"],
                    "php": {"resources": {"requests": {"cpu": "50m"}}},
                    "nginx": {"resources": {"requests": {"cpu": "20m"}}}}
    return {"backend_namespace": namespace, "backend_release_name": release, "backend_chart_values": chart_values}


# the cluster's own Debian test image (cluster/versions.env), with testbox in it
TEST_IMAGE = "laravel-ops.local/debian:bookworm-minbase"
OUTSIDER = "laravel-ops-live-outsider"
# The local cluster's ingress controller (cluster/manifests/traefik.yaml), the peer the local
# inventory's NetworkPolicy admits.
INGRESS_NAMESPACE = "traefik"
INGRESS_LABELS = {"app.kubernetes.io/name": "traefik"}
PGBOUNCER_SELECTOR = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=pgbouncer"
PROD = {
    "backend_environment": "prod",
    "backend_app_debug": False,
    "backend_log_level": "warning",
    "backend_seed": False,
    "backend_migrations_mode": "job",
}


def pod_ips(selector: str, *, ready_only: bool = False) -> set[str]:
    """The addresses of the release's pods the selector picks (with ready_only, of those ready and
    not stopping)."""
    pods = kube_json("pods", "-n", NAMESPACE, "-l", selector)["items"]
    return {p["status"]["podIP"] for p in pods if p["status"].get("podIP")
            and (not ready_only or (is_ready(p) and not p["metadata"].get("deletionTimestamp")))}


def web_pods(*, include_terminating: bool = False) -> list[dict]:
    items = kube_json("pods", "-n", NAMESPACE, "-l", WEB_SELECTOR)["items"]
    return [p for p in items if include_terminating or not p["metadata"].get("deletionTimestamp")]


def is_ready(obj: dict) -> bool:
    """Its Ready condition is True: a pod's, or a node's."""
    return any(c["type"] == "Ready" and c["status"] == "True" for c in obj["status"].get("conditions", []))


def serving_pods() -> list[dict]:
    """The web pods in the Service now (the HPA may be adding some that are not up yet)."""
    return [p for p in web_pods() if is_ready(p)]


def pods_scaled_away(since: datetime) -> int:
    """Pods the Deployment's scale-downs removed since `since` (its ScalingReplicaSet events: an HPA
    scale-down deletes pods that nothing else failed)."""
    events = kube_json("events", "-n", NAMESPACE, "--field-selector",
                       f"involvedObject.kind=Deployment,involvedObject.name={DEPLOYMENT},reason=ScalingReplicaSet")
    removed = 0
    for event in events["items"]:
        when = event.get("lastTimestamp") or event.get("eventTime") or ""
        step = re.search(r"Scaled down replica set \S+ from (\d+) to (\d+)", event.get("message", ""))
        # Event times have whole seconds.
        if step and when and datetime.fromisoformat(when.replace("Z", "+00:00")) >= since.replace(microsecond=0):
            removed += int(step[1]) - int(step[2])
    return removed


def restart_counts(pods: list[dict]) -> dict[str, int]:
    return {f"{p['metadata']['name']}/{c['name']}": c["restartCount"]
            for p in pods for c in p["status"].get("containerStatuses", [])}


def ingress_host(namespace: str = NAMESPACE, release: str = RELEASE) -> str:
    """The release's Ingress host, as the local inventory names it."""
    return f"{release}-{namespace}.localtest.me"


@cache
def _ingress() -> tuple[str, ssl.SSLContext]:
    """Traefik's cluster IP and a client context that trusts only the cluster's ingress CA."""
    return (kube_json("service", "traefik", "-n", INGRESS_NAMESPACE)["spec"]["clusterIP"], ingress_ca_context())


def app_get(path: str, *, timeout: float = 10, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One request to the app through the Ingress, on a new connection."""
    address, context = _ingress()
    return http_request(IngressConnection(address, 443, ingress_host(), context, timeout), path, headers)


def get(host: str, port: int, path: str, *, timeout: float = 10,
        headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One plain HTTP request straight to host:port (a pod), on a new connection."""
    return http_request(http.client.HTTPConnection(host, port, timeout=timeout), path, headers)


@contextmanager
def port_forward(pod: dict, port: int) -> Iterator[int]:
    """A port of this machine's loopback forwarded to PORT of POD (kubectl port-forward), the way
    an operator reads one pod: the kubelet connects inside the pod's network namespace, so the
    release's NetworkPolicy, which admits only its named peers, is not in the way."""
    process = subprocess.Popen(
        [tool("kubectl"), "--kubeconfig", KUBECONFIG, "port-forward", "--address=127.0.0.1", "--pod-running-timeout=20s",
         "-n", pod["metadata"]["namespace"], f"pod/{pod['metadata']['name']}", f":{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()  # Forwarding from 127.0.0.1:<local port> -> <port>
        forwarded = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) ->", line)
        if forwarded is None:
            process.kill()
            raise AssertionError(f"kubectl port-forward to {pod['metadata']['name']}:{port}: {line}{process.stdout.read()}")
        # kubectl writes a line for each connection: read on, or a full pipe would stop it
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield int(forwarded[1])
    finally:
        process.terminate()
        process.wait(timeout=10)


def pod_get(pod: dict, port: int, path: str, *, timeout: float = 10) -> tuple[int, dict, bytes]:
    """One plain HTTP request to PORT of one pod, through port_forward."""
    with port_forward(pod, port) as local_port:
        return get("127.0.0.1", local_port, path, timeout=timeout)


# nginx serves /metrics on a port of its own (docker/nginx/default.conf); the web port answers 404 there.
METRICS_PORT = 9113


def pod_metrics(pod: dict) -> str:
    """GET /metrics of one pod on nginx's metrics port (each pod counts its own requests)."""
    status, _, body = pod_get(pod, METRICS_PORT, "/metrics")
    assert status == 200, body[:500]
    return body.decode()


def psql(sql: str) -> str:
    """Runs SQL in the PostgreSQL pod over its local socket (trust there; no password needed)."""
    result = kubectl("exec", "-n", NAMESPACE, "postgresql-0", "--", "sh", "-c",
                     'exec "$(ls -d /usr/lib/postgresql/*/bin | tail -1)/psql" -h /tmp -U laravel -d laravel '
                     '-v ON_ERROR_STOP=1 -At -c "$0"', sql, timeout=60)
    return result.stdout.strip()


@dataclass
class LoadSummary:
    sent: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)  # the first ten, each after its start time in the load
    versions: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(p) - 1]

    def report(self, what: str) -> str:
        return (f"{what}: {self.sent} requests in {self.seconds:.0f}s, {self.failed} failed, "
                f"p50 {self.percentile(50):.0f} ms, p95 {self.percentile(95):.0f} ms, "
                f"p99 {self.percentile(99):.0f} ms, versions {dict(self.versions)}")


class Load:
    """Bounded load on GET `path` through the Ingress: `workers` threads, each request on a new
    connection, until stop(), `max_seconds` or `max_requests`, whichever comes first. A failure
    is a connection error, a timeout or a status other than 200; each 200 must name its version.
    `pause` seconds between a worker's requests keep the rate down (the php-fpm containers ask
    for 50m CPU here, so an unpaced load makes the HPA add pods until the node is full).
    `send(path, timeout=...)` makes one request (by default app_get, this release's Ingress)."""

    def __init__(self, path: str = "/", *, workers: int = 4, max_seconds: float = 600,
                 max_requests: int = 200_000, timeout: float = 10, pause: float = 0.0,
                 send: Callable[..., tuple[int, dict, bytes]] | None = None):
        self.path, self.workers, self.timeout, self.pause = path, workers, timeout, pause
        self.send = send or app_get
        self.max_seconds, self.max_requests = max_seconds, max_requests
        self.summary = LoadSummary()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    def __enter__(self) -> "Load":
        self._started = time.monotonic()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(self.workers)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> LoadSummary:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        self.summary.seconds = time.monotonic() - self._started
        return self.summary

    def _work(self) -> None:
        deadline = self._started + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            with self._lock:
                if self.summary.sent >= self.max_requests:
                    return
                self.summary.sent += 1
            started = time.monotonic()
            failure, version = None, None
            try:
                status, _, body = self.send(self.path, timeout=self.timeout)
                if status == 200:
                    version = json.loads(body).get("version")
                else:
                    failure = f"HTTP {status}: {body[:200]!r}"
            except (OSError, http.client.HTTPException, ValueError) as error:
                failure = f"{type(error).__name__}: {error}"
            elapsed_ms = (time.monotonic() - started) * 1000
            with self._lock:
                if failure:
                    self.summary.failed += 1
                    if len(self.summary.failures) < 10:
                        self.summary.failures.append(f"{started - self._started:.1f}s: {failure}")
                else:
                    self.summary.latencies_ms.append(elapsed_ms)
                    self.summary.versions[version] += 1
            if self.pause:
                self._stop.wait(self.pause)


def helm_revision() -> int:
    # --all: without it `helm list` leaves out a release whose newest revision is pending-*
    listed = run([tool("helm"), "--kubeconfig", KUBECONFIG, "list", "--all", "-n", NAMESPACE, "-o", "json"]).stdout
    return next(int(r["revision"]) for r in json.loads(listed) if r["name"] == RELEASE)


def testbox_pod(namespace: str, name: str, labels: dict, command: list[str], restart: str) -> dict:
    """A pod of the cluster's own Debian test image (cluster/images.sh), restricted-profile clean."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "restartPolicy": restart, "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": name, "image": TEST_IMAGE, "imagePullPolicy": "Never", "command": command,
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }


# Not a test, though its name starts with "test": the test modules import it.
testbox_pod.__test__ = False


def finished_phase(namespace: str, name: str) -> str:
    def phase():
        pod = kube_json("pod", name, "-n", namespace)
        finished = pod and pod["status"].get("phase") in ("Succeeded", "Failed")
        return pod["status"]["phase"] if finished else None

    return wait_for(f"pod {namespace}/{name} to finish", phase, timeout=120, interval=2)


def can_connect_from_backend(host: str, port: int) -> bool:
    pod = serving_pods()[0]["metadata"]["name"]
    result = kubectl("exec", "-n", NAMESPACE, pod, "-c", "php-fpm", "--", "php", "-r",
                     '$s = @fsockopen($argv[1], (int) $argv[2], $code, $message, 3); echo $s ? "open" : "closed";',
                     host, str(port), timeout=60)
    return result.stdout.strip() == "open"


# ---- faults: the release's Helm state, its lock, its endpoints, deploys run by hand ----------------

# The deploy lock of the release (roles/release/tasks/lock.yml): a Lease in its namespace.
LEASE = f"{RELEASE}-deploy"


def helm_status() -> dict | None:
    """`helm status -o json` of the release (its newest revision, pending ones included)."""
    result = run([tool("helm"), "--kubeconfig", KUBECONFIG, "status", RELEASE, "-n", NAMESPACE, "-o", "json"],
                 check=False, timeout=60)
    if result.returncode != 0:
        return None
    release = json.loads(result.stdout)
    return {"revision": release["version"], "status": release["info"]["status"]}


def deployed_app_tag() -> str:
    """The php-fpm image tag of the release's values, as `helm get values` gives them."""
    result = run([tool("helm"), "--kubeconfig", KUBECONFIG, "get", "values", RELEASE, "-n", NAMESPACE, "-o", "json"],
                 timeout=60)
    return json.loads(result.stdout)["php"]["image"]["tag"]


def helm_history() -> list[dict]:
    result = run([tool("helm"), "--kubeconfig", KUBECONFIG, "history", RELEASE, "-n", NAMESPACE, "-o", "json"],
                 timeout=60)
    return sorted(json.loads(result.stdout), key=lambda entry: int(entry["revision"]))


def deployed_images() -> dict[str, str]:
    """The images (by digest) of the web Deployment's containers, as the cluster runs them now."""
    spec = kube_json("deployment", DEPLOYMENT, "-n", NAMESPACE)["spec"]["template"]["spec"]
    return {c["name"]: c["image"] for c in spec["containers"]}


def served_versions(requests: int = 10) -> set[str]:
    """The versions the Service answers / with (one new connection a request)."""
    return {json.loads(app_get("/")[2])["version"] for _ in range(requests)}


def other_version() -> str:
    """Whichever of A and B is not serving now, so that deploying it really rolls out."""
    serving = served_versions()
    assert len(serving) == 1 and serving <= {VERSION_A, VERSION_B}, f"serving {serving}, expected A or B alone"
    return VERSION_A if serving == {VERSION_B} else VERSION_B


def lease() -> dict | None:
    return kube_json("lease", LEASE, "-n", NAMESPACE)


def endpoint_ready(address: str) -> bool | None:
    """Whether `address` is a ready endpoint of the web Service (None: not listed at all)."""
    slices = kube_json("endpointslices", "-n", NAMESPACE, "-l", f"kubernetes.io/service-name={DEPLOYMENT}")["items"]
    for endpoint in (e for s in slices for e in s.get("endpoints") or []):
        if address in endpoint.get("addresses", []):
            return bool((endpoint.get("conditions") or {}).get("ready"))
    return None


def inventory_secrets(registry_user: str, registry_password: str) -> dict[str, str]:
    """Every secret a deploy handles, as it could leak: the local inventory's backend_app_key and
    backend_database_password (read from the inventory, and base64 of each, as the Secret holds
    them), the registry password and the Basic authorization it makes."""
    inventory = local_inventory()
    secrets = {name: str(inventory[name]) for name in ("backend_app_key", "backend_database_password")}
    secrets["registry password"] = registry_password
    for name in ("backend_app_key", "backend_database_password"):
        secrets[f"{name} (base64)"] = base64.b64encode(secrets[name].encode()).decode()
    secrets["registry Basic authorization"] = base64.b64encode(f"{registry_user}:{registry_password}".encode()).decode()
    assert all(len(value) >= 8 for value in secrets.values()), "a secret too short to look for"
    return secrets


def run_playbook(deploy, extra: dict, *options: str, env: dict | None = None,
                 timeout: float = 900) -> tuple[int, str, float]:
    """Runs the fixture's playbook in the foreground: (exit code, stdout + stderr, seconds)."""
    started = time.monotonic()
    result = run(deploy.command(extra, *options), check=False, timeout=timeout, env=deploy.env(**(env or {})))
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


class BackgroundPlaybook:
    """The fixture's playbook in a session of its own, its output in a file."""

    def __init__(self, deploy, extra: dict, *options: str, env: dict | None = None):
        self.log = deploy.tmp / f"background-{deploy.runs + 1}.log"
        self._log = self.log.open("w")
        self.started = time.monotonic()
        self.process = subprocess.Popen(deploy.command(extra, *options), stdout=self._log,
                                        stderr=subprocess.STDOUT, env=deploy.env(**(env or {})),
                                        start_new_session=True)

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float = 900) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def output(self) -> str:
        self._log.flush()
        return self.log.read_text()

    def kill_everything(self) -> list[str]:
        """SIGKILL to the playbook and everything it started. Ansible's workers call setsid(),
        so the playbook's own process group does not hold the module and the helm it runs:
        the whole tree is stopped first (SIGSTOP, until no new process appears), then killed.
        Returns the command lines killed."""
        seen: dict[int, str] = {}
        while True:
            tree = [self.process.pid] + descendants(self.process.pid)
            new = [pid for pid in tree if pid not in seen]
            if not new:
                break
            for pid in new:
                seen[pid] = command_line(pid)
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    pass
        for pid in seen:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.wait(timeout=30)
        return [seen[pid] for pid in seen]


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def processes_matching(*words: str) -> list[str]:
    """Command lines of the processes on this machine whose arguments hold every word."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            line = command_line(int(entry.name))
            if line != "?" and all(word in line for word in words):
                found.append(f"{entry.name}: {line[:160]}")
    return found


def run_testbox(namespace: str, name: str, labels: dict, command: list[str]) -> tuple[str, str]:
    """Runs a testbox pod to its end: (phase, its log); the pod is deleted afterwards."""
    kubectl("apply", "-f", "-", input_text=json.dumps(testbox_pod(namespace, name, labels, command, "Never")))
    try:
        phase = finished_phase(namespace, name)
        return phase, kubectl("logs", "-n", namespace, name).stdout
    finally:
        kubectl("delete", "pod", name, "-n", namespace, "--ignore-not-found", "--wait=false", check=False)
