"""Helpers of tests/kind: the local kind cluster (playbooks/cluster.yml runs cluster/kind/up.sh),
and its Ingress entry point, Traefik's HTTPS NodePort that the control plane's container publishes
on this machine's loopback."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "live"))
import operator_helpers  # noqa: E402  pylint: disable=wrong-import-position
# live_helpers before image_helpers: it puts tests/image on the path
from live_helpers import is_ready, release_inventory  # noqa: E402  pylint: disable=wrong-import-position,wrong-import-order
from image_helpers import require_registry  # noqa: E402  pylint: disable=wrong-import-position,wrong-import-order
from operator_helpers import (  # noqa: E402  pylint: disable=wrong-import-position
    ROOT, IngressConnection, Playbook, http_request, ingress_ca_context, kubectl, run, wait_for)

CLUSTER = "laravel-ops"
WORKERS = (f"{CLUSTER}-worker", f"{CLUSTER}-worker2")
INGRESS_PORT = 8443  # cluster/kind/up.sh publishes Traefik's HTTPS NodePort there, on loopback
# The kind cluster's default StorageClass (cluster/kind/manifests/default-storage.yaml).
STORAGE_CLASS = "standard"


def kube_json(*args: str) -> dict:
    found = operator_helpers.kube_json(*args)
    assert found is not None, f"kubectl get {' '.join(args)}: not found in the kind cluster"
    return found


@cache
def _ingress_context():
    return ingress_ca_context()


def ingress_get(host: str, path: str, *, timeout: float = 10) -> tuple[int, dict, bytes]:
    """One HTTPS request for `host` to Traefik's published entry point, on a new connection,
    the certificate checked against the kind cluster's ingress CA."""
    return http_request(IngressConnection("127.0.0.1", INGRESS_PORT, host, _ingress_context(), timeout), path)


def ready_pods(namespace: str, selector: str) -> list[dict]:
    """The pods the selector picks in `namespace` that are Ready and not stopping."""
    pods = kube_json("-n", namespace, "pods", "-l", selector)["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp") and is_ready(p)]


def nodes_of(pods: list[dict]) -> dict[str, str]:
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in pods}


def spread_over_the_workers(namespace: str, selector: str) -> list[dict]:
    """The selector's ready pods, once they run on both workers (fails after 180 s)."""
    return wait_for(f"ready pods ({selector}) on both workers",
                    lambda: (ready := ready_pods(namespace, selector)) and set(nodes_of(ready).values()) >= set(WORKERS)
                    and ready, timeout=180, interval=3)


def postgresql_and_other_worker(namespace: str) -> tuple[str, str]:
    """The node of the release's PostgreSQL, whose volume lives there, and the other worker: the
    one a test may drain or lose without taking the database with it."""
    database_node = kube_json("-n", namespace, "pod", "postgresql-0")["spec"]["nodeName"]
    return database_node, next(w for w in WORKERS if w != database_node)


def running_pods_on(node: str) -> list[str]:
    """namespace/name of the running pods on `node` that a drain moves (DaemonSet pods stay)."""
    pods = kube_json("pods", "--all-namespaces", "--field-selector", f"spec.nodeName={node},status.phase=Running")
    return sorted(f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods["items"]
                  if not any(o["kind"] == "DaemonSet" for o in p["metadata"].get("ownerReferences", [])))


@cache
def _monitoring_and_log_store() -> None:
    """Once per run: the Prometheus Operator's chart and images in the local registry, and
    VictoriaLogs in the cluster."""
    run(["bash", str(ROOT / "scripts" / "operator-chart.sh"), "all"], timeout=3600)
    kubectl("apply", "-f", str(ROOT / "tests" / "fixtures" / "victorialogs" / "victorialogs.yaml"))
    kubectl("-n", "victorialogs", "rollout", "status", "deployment/victorialogs", "--timeout=180s", timeout=200)


def deployed_release(tmp: Path, namespace: str, release: str, chart_values: dict | None = None) -> Iterator[Playbook]:
    """deploy.yml with the local inventory onto the kind cluster, as a release of its own in
    `namespace` (made and removed by each run, so that its pods are scheduled afresh); yields the
    playbook. As `make deploy` has it: the Prometheus Operator's test chart and images
    (scripts/operator-chart.sh, pushed to the local registry, which the nodes pull from) and
    VictoriaLogs, the store of the log pipeline. PgBouncer runs two pods, so that its disruption
    budget lets a drain move one; PostgreSQL keeps its data on a volume of the default
    StorageClass. `chart_values` are added to the release's chart values."""
    user, password = require_registry()
    operator_helpers.require_no_namespace(namespace)
    _monitoring_and_log_store()
    release_vars = release_inventory(namespace, release)
    base = {**release_vars, "postgresql_storage_class": STORAGE_CLASS,
            "backend_chart_values": {**release_vars["backend_chart_values"], "pgbouncer": {"replicaCount": 2},
                                     **(chart_values or {})}}
    deploy = Playbook(tmp, base, user, password, playbook=ROOT / "deploy.yml")
    started = time.monotonic()
    try:
        deploy()
        print(f"deploy.yml onto the kind cluster ({namespace}): {time.monotonic() - started:.0f}s")
        yield deploy
    finally:
        # Not waited for (about a minute): every module deploys into a namespace of its own.
        kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)
