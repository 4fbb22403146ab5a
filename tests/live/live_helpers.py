"""Helpers of tests/live: the backend that deploy.yml puts on the local cluster, read back from
the API server, and a bounded load generator that runs on this machine. It reaches the pods
through the Service's cluster IP (kube-proxy's rules carry the node's own connections) or a
pod's IP on the node's pod bridge: no traffic leaves the machine."""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from image_helpers import tree_hash  # noqa: E402  pylint: disable=wrong-import-position
from operator_helpers import (  # noqa: E402  pylint: disable=wrong-import-position
    KUBECONFIG, ROOT, kube_json, kubectl, run, tool, wait_for,
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
# the cluster's own Debian test image (cluster/versions.env), with testbox in it
TEST_IMAGE = "laravel-ops.local/debian:bookworm-minbase"
OUTSIDER = "laravel-ops-live-outsider"
# the chart's default ingress controller peer: namespace ingress-nginx, pods app.kubernetes.io/name=ingress-nginx
INGRESS_NAMESPACE = "ingress-nginx"
PGBOUNCER_SELECTOR = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=pgbouncer"
PROD = {
    "backend_environment": "prod",
    "backend_app_debug": False,
    "backend_log_level": "warning",
    "backend_seed": False,
    "backend_migrations_mode": "job",
}


def web_pods(*, include_terminating: bool = False) -> list[dict]:
    items = kube_json("pods", "-n", NAMESPACE, "-l", WEB_SELECTOR)["items"]
    return [p for p in items if include_terminating or not p["metadata"].get("deletionTimestamp")]


def is_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def serving_pods() -> list[dict]:
    """The web pods in the Service now (the HPA may be adding some that are not up yet)."""
    return [p for p in web_pods() if is_ready(p)]


def restart_counts(pods: list[dict]) -> dict[str, int]:
    return {f"{p['metadata']['name']}/{c['name']}": c["restartCount"]
            for p in pods for c in p["status"].get("containerStatuses", [])}


def service_address() -> tuple[str, int]:
    services = kube_json("services", "-n", NAMESPACE, "-l", WEB_SELECTOR)["items"]
    assert len(services) == 1, [s["metadata"]["name"] for s in services]
    spec = services[0]["spec"]
    return spec["clusterIP"], next(p["port"] for p in spec["ports"] if p["name"] == "http")


def get(host: str, port: int, path: str, *, timeout: float = 10,
        headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One request on a new connection, so that kube-proxy picks a pod for each."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def pod_metrics(pod: dict) -> str:
    """GET /metrics of one pod (each pod counts its own requests)."""
    status, _, body = get(pod["status"]["podIP"], 8080, "/metrics")
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
    failures: list[str] = field(default_factory=list)
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
    """Bounded load on GET `path` of the Service: `workers` threads, each request on a new
    connection, until stop(), `max_seconds` or `max_requests`, whichever comes first. A failure
    is a connection error, a timeout or a status other than 200; each 200 must name its version."""

    def __init__(self, path: str = "/", *, workers: int = 4, max_seconds: float = 600,
                 max_requests: int = 200_000, timeout: float = 10):
        self.host, self.port = service_address()
        self.path, self.workers, self.timeout = path, workers, timeout
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
                status, _, body = get(self.host, self.port, self.path, timeout=self.timeout)
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
                        self.summary.failures.append(failure)
                else:
                    self.summary.latencies_ms.append(elapsed_ms)
                    self.summary.versions[version] += 1


def helm_revision() -> int:
    listed = run([tool("helm"), "--kubeconfig", KUBECONFIG, "list", "-n", NAMESPACE, "-o", "json"]).stdout
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
