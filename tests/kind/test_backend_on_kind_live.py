"""The backend that deploy.yml puts on the kind cluster with the local inventory, as `make deploy`
does on the single-node cluster: its web pods spread over both workers, and a worker drained
under load through Traefik's Ingress without one failed request, the disruption budgets holding.

Two things of the local inventory stay on the single-node cluster: the Prometheus Operator and
the log pipeline, whose images cluster/ imports into that cluster's containerd only. PgBouncer
runs two pods, so that its disruption budget lets a drain move it. The release is the live
tests' kind of release (its own namespace, small CPU requests). The worker drained is the one
without PostgreSQL, a single pod whose node cannot be drained without an outage by design."""

from __future__ import annotations

import json
import time

import pytest

# kind_helpers first: it puts tests/operator, tests/image and tests/live on the path
from kind_helpers import KUBECONFIG, WORKERS, ingress_get, kube_json, kube_json_or_none, kubectl
from image_helpers import require_registry  # pylint: disable=wrong-import-order
from live_helpers import Load, ingress_host, is_ready, release_inventory  # pylint: disable=wrong-import-order
from operator_helpers import ROOT, Playbook, skip, wait_for  # pylint: disable=wrong-import-order

# A release of its own, made and removed by each run, so that its pods are scheduled afresh (a
# drain leaves a kept cluster's pods on one worker: pods do not move back by themselves).
NAMESPACE = "laravel-ops-kind-test"
RELEASE = "kind"
HOST = ingress_host(NAMESPACE, RELEASE)
WEB = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=web"


def _send(path: str, *, timeout: float = 10) -> tuple[int, dict, bytes]:
    return ingress_get(HOST, path, timeout=timeout)


@pytest.fixture(scope="module")
def backend(cluster, tmp_path_factory):
    user, password = require_registry()
    if kube_json_or_none("namespace", NAMESPACE) is not None:
        skip(f"namespace {NAMESPACE} exists already in the kind cluster (left by an earlier run? delete it first)")
    release = release_inventory(NAMESPACE, RELEASE)
    base = {**release, "prometheus_operator_enabled": False, "log_collector_enabled": False,
            "backend_chart_values": {**release["backend_chart_values"], "pgbouncer": {"replicaCount": 2}}}
    deploy = Playbook(tmp_path_factory.mktemp("kind-backend"), base, user, password, playbook=ROOT / "deploy.yml")
    started = time.monotonic()
    try:
        deploy(env={"K8S_AUTH_KUBECONFIG": str(KUBECONFIG)})
        print(f"deploy.yml onto the kind cluster: {time.monotonic() - started:.0f}s")
        yield deploy
    finally:
        kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", check=False, timeout=300)


def _web_pods() -> list[dict]:
    pods = kube_json("-n", NAMESPACE, "pods", "-l", WEB)["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp") and is_ready(p)]


def _nodes_of(pods: list[dict]) -> dict[str, str]:
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in pods}


def _running_pods_on(node: str) -> list[str]:
    """namespace/name of the running pods on `node` that a drain moves (DaemonSet pods stay)."""
    pods = kube_json("pods", "--all-namespaces", "--field-selector", f"spec.nodeName={node},status.phase=Running")
    return sorted(f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods["items"]
                  if not any(o["kind"] == "DaemonSet" for o in p["metadata"].get("ownerReferences", [])))


def test_the_web_pods_run_on_both_workers_and_answer_through_the_ingress(backend):
    pods = wait_for("ready web pods on both workers",
                    lambda: (ready := _web_pods()) and set(_nodes_of(ready).values()) >= set(WORKERS) and ready,
                    timeout=180, interval=3)
    status, _, body = _send("/")
    print(f"web pods {_nodes_of(pods)}; https://{HOST}:8443/ -> HTTP {status} {body[:80]!r}")
    assert status == 200 and json.loads(body)["name"] == "laravel-ops-example"


def test_a_worker_drained_under_load_loses_no_request(backend):
    database_node = kube_json("-n", NAMESPACE, "pod", "postgresql-0")["spec"]["nodeName"]
    drained = next(w for w in WORKERS if w != database_node)
    moved = _running_pods_on(drained)
    assert any(p["spec"]["nodeName"] == drained for p in _web_pods()), f"no web pod on {drained}: {moved}"
    try:
        with Load(workers=3, max_seconds=600, send=_send) as load:
            time.sleep(3)
            started = time.monotonic()
            kubectl("drain", drained, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=300s", timeout=360)
            drain_seconds = time.monotonic() - started
            time.sleep(5)
    finally:
        kubectl("uncordon", drained, check=False)
    summary = load.summary
    left = _running_pods_on(drained)
    print(f"kubectl drain {drained} (PostgreSQL on {database_node}) took {drain_seconds:.0f}s and moved {moved}; "
          + summary.report("load through the Ingress"))
    assert summary.sent > 0 and summary.failed == 0, summary.failures
    assert not left, f"pods left on the drained node: {left}"
    assert len(_web_pods()) >= 2, _nodes_of(_web_pods())
