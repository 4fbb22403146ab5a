"""The backend that deploy.yml puts on the kind cluster with the local inventory, as `make deploy`
does: its web pods spread over both workers, a worker drained under
load through Traefik's Ingress without one failed request, the disruption budgets holding, and
PostgreSQL's data kept on its volume when its pod goes.

The worker drained is the one without PostgreSQL, a single pod whose node cannot be drained
without an outage by design (its volume lives on that node)."""

from __future__ import annotations

import json
import time

import pytest

# kind_helpers first: it puts tests/operator, tests/image and tests/live on the path
from kind_helpers import (STORAGE_CLASS, deployed_release, ingress_get, kube_json, kubectl, nodes_of,
                          postgresql_and_other_worker, ready_pods, running_pods_on, spread_over_the_workers)
from live_helpers import Load, ingress_host, is_ready  # pylint: disable=wrong-import-order
from operator_helpers import wait_for  # pylint: disable=wrong-import-order

NAMESPACE = "laravel-ops-kind-test"
RELEASE = "kind"
HOST = ingress_host(NAMESPACE, RELEASE)
WEB = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=web"


def _send(path: str, *, timeout: float = 10) -> tuple[int, dict, bytes]:
    return ingress_get(HOST, path, timeout=timeout)


@pytest.fixture(scope="module")
def backend(cluster, tmp_path_factory):
    yield from deployed_release(tmp_path_factory.mktemp("kind-backend"), NAMESPACE, RELEASE)


def _web_pods() -> list[dict]:
    return ready_pods(NAMESPACE, WEB)


def test_the_web_pods_run_on_both_workers_and_answer_through_the_ingress(backend):
    pods = spread_over_the_workers(NAMESPACE, WEB)
    status, _, body = _send("/")
    print(f"web pods {nodes_of(pods)}; https://{HOST}:8443/ -> HTTP {status} {body[:80]!r}")
    assert status == 200 and json.loads(body)["name"] == "laravel-ops-example"


def test_a_worker_drained_under_load_loses_no_request(backend):
    database_node, drained = postgresql_and_other_worker(NAMESPACE)
    moved = running_pods_on(drained)
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
    left = running_pods_on(drained)
    print(f"kubectl drain {drained} (PostgreSQL on {database_node}) took {drain_seconds:.0f}s and moved {moved}; "
          + summary.report("load through the Ingress"))
    assert summary.sent > 0 and summary.failed == 0, summary.failures
    assert not left, f"pods left on the drained node: {left}"
    assert len(_web_pods()) >= 2, nodes_of(_web_pods())


def test_postgresql_keeps_its_data_on_its_volume_when_its_pod_goes(backend):
    claim = kube_json("-n", NAMESPACE, "pvc", "data-postgresql-0")
    volume = kube_json("pv", claim["spec"]["volumeName"])
    volume_node = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
    status, _, before = _send("/deployments")
    assert status == 200 and json.loads(before)["data"], before[:200]
    pod = kube_json("-n", NAMESPACE, "pod", "postgresql-0")
    kubectl("delete", "-n", NAMESPACE, "pod", "postgresql-0", "--wait=true", timeout=120)
    wait_for("a new postgresql-0, Ready",
             lambda: (new := kube_json("-n", NAMESPACE, "pod", "postgresql-0"))["metadata"]["uid"] != pod["metadata"]["uid"]
             and is_ready(new), timeout=180, interval=2)
    status, _, after = wait_for("/deployments to answer again",
                                lambda: (answer := _send("/deployments"))[0] == 200 and answer, timeout=60, interval=2)
    print(f"claim data-postgresql-0: {claim['spec']['storageClassName']}, volume {volume['metadata']['name']} on "
          f"{volume_node}; postgresql-0 deleted and back on {kube_json('-n', NAMESPACE, 'pod', 'postgresql-0')['spec']['nodeName']}: "
          f"/deployments gives the same {len(json.loads(after)['data'])} rows: {after == before}")
    assert claim["spec"]["storageClassName"] == STORAGE_CLASS and claim["status"]["phase"] == "Bound"
    assert json.loads(after) == json.loads(before)
