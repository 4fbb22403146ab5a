"""A worker lost under load, as a machine that loses its power: its node container is killed.

The control plane marks the node NotReady once the node monitor's grace period has passed, which
takes the node's pods out of the Services' endpoints, and evicts them when their toleration of an
unreachable node runs out. This release's pods tolerate it for EVICTION_SECONDS instead of the 300 s
Kubernetes adds by default, as a stateless web tier should. Requests sent to the lost node's pods
before the control plane notices fail, and the test prints how many. Then the node is started again
and must rejoin, its own pods (Traefik's among them) Ready again: the node's pod network comes back
before any of its pods is admitted to an endpoint.

Once the pods have moved, and while the node rejoins, the app answers, but a connection to the
NodePort that publishes Traefik on this machine is refused or reset now and then: measured, 0 to 5
in about 700 requests after the pods moved, and 2 to 3 in about 1,600 while the node rejoined,
most of them within the first second after its container starts again. The cause is not found
yet, so these two loads are held to fewer than STRAY_FAILURES of their requests failed, and their
failures are printed with their times."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

# kind_helpers first: it puts tests/operator, tests/image and tests/live on the path
from kind_helpers import (WORKERS, deployed_release, ingress_get, kube_json, kubectl, nodes_of,
                          postgresql_and_other_worker, ready_pods, spread_over_the_workers)
from live_helpers import Load, ingress_host, is_ready  # pylint: disable=wrong-import-order
from operator_helpers import skip, wait_for  # pylint: disable=wrong-import-order

NAMESPACE = "laravel-ops-kind-node-loss"
RELEASE = "lost"
HOST = ingress_host(NAMESPACE, RELEASE)
SELECTORS = {component: f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component={component}"
             for component in ("web", "pgbouncer")}
INGRESS = ("traefik", "app.kubernetes.io/name=traefik")
EVICTION_SECONDS = 20
STRAY_FAILURES = 0.03
TOLERATIONS = [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": EVICTION_SECONDS} for taint in ("unreachable", "not-ready")]


def _send(path: str, *, timeout: float = 10) -> tuple[int, dict, bytes]:
    return ingress_get(HOST, path, timeout=timeout)


@pytest.fixture(scope="module")
def backend(cluster, tmp_path_factory):
    yield from deployed_release(tmp_path_factory.mktemp("kind-node-loss"), NAMESPACE, RELEASE,
                                {"tolerations": TOLERATIONS})


def _docker(*args: str) -> None:
    docker = shutil.which("docker")
    if docker is None:
        skip("no docker CLI on PATH: the kind nodes are its containers (run scripts/docker-engine.sh)")
    subprocess.run([docker, *args], check=True, capture_output=True, text=True, timeout=120)


def _node_ready(name: str) -> bool:
    return is_ready(kube_json("node", name))


def _pods_on(node: str) -> list[dict]:
    """The pods bound to `node` that have not run to completion."""
    return kube_json("pods", "--all-namespaces", "--field-selector",
                     f"spec.nodeName={node},status.phase!=Succeeded,status.phase!=Failed")["items"]


def _moved_off(lost: str, before: dict[str, list[dict]]) -> bool:
    """Each component has as many ready pods as before, none of them on the lost node."""
    for component, selector in SELECTORS.items():
        pods = ready_pods(NAMESPACE, selector)
        if len(pods) < len(before[component]) or lost in nodes_of(pods).values():
            return False
    return True


def _spread_ingress() -> None:
    """A Traefik pod on each worker. A drain (as an earlier test's) leaves both on one worker, and
    pods do not move back by themselves: a restart spreads them again, as an operator (or the
    descheduler) does after maintenance."""
    if set(nodes_of(ready_pods(*INGRESS)).values()) >= set(WORKERS):
        return
    kubectl("-n", INGRESS[0], "rollout", "restart", "deployment/traefik")
    kubectl("-n", INGRESS[0], "rollout", "status", "deployment/traefik", "--timeout=180s", timeout=200)
    spread_over_the_workers(*INGRESS)


def test_a_lost_worker_s_pods_move_and_the_app_keeps_answering(backend):
    _spread_ingress()
    spread_over_the_workers(NAMESPACE, SELECTORS["web"])
    database_node, lost = postgresql_and_other_worker(NAMESPACE)
    before = {component: ready_pods(NAMESPACE, selector) for component, selector in SELECTORS.items()}
    on_lost = sorted(name for pods in before.values() for name, node in nodes_of(pods).items() if node == lost)
    assert on_lost, f"no web or PgBouncer pod on {lost}: {[nodes_of(pods) for pods in before.values()]}"
    try:
        with Load(workers=3, max_seconds=600, send=_send) as outage:
            time.sleep(3)
            started = time.monotonic()
            _docker("kill", lost)
            wait_for(f"{lost} to be NotReady", lambda: not _node_ready(lost), timeout=180, interval=1)
            not_ready = time.monotonic() - started
            wait_for(f"the pods of {lost} to run elsewhere", lambda: _moved_off(lost, before), timeout=240, interval=1)
            moved = time.monotonic() - started
        with Load(workers=3, max_seconds=15, send=_send) as after:
            time.sleep(15)
    finally:
        with Load(workers=3, max_seconds=600, send=_send) as rejoin:
            _docker("start", lost)
            restarted = time.monotonic()
            wait_for(f"{lost} to be Ready again", lambda: _node_ready(lost), timeout=180, interval=1)
            back = time.monotonic() - restarted
            wait_for(f"every pod on {lost} Ready", lambda: all(is_ready(p) for p in _pods_on(lost)), timeout=180, interval=1)
            pods_back = time.monotonic() - restarted
            time.sleep(10)
    print(f"{lost} killed (PostgreSQL on {database_node}; {on_lost} on it): NotReady after {not_ready:.0f}s, "
          f"its pods Ready elsewhere after {moved:.0f}s; " + outage.summary.report("load meanwhile")
          + f", first failures {outage.summary.failures[:3]}; then " + after.summary.report("load")
          + f" {after.summary.failures[:3]}; docker start: node Ready after {back:.0f}s, its {len(_pods_on(lost))} pods Ready after {pods_back:.0f}s; "
          + rejoin.summary.report("load meanwhile") + f" {rejoin.summary.failures[:3]}")
    assert outage.summary.sent > outage.summary.failed, "nothing answered while the node was lost"
    for load in (after, rejoin):
        assert load.summary.sent > 0 and load.summary.failed < STRAY_FAILURES * load.summary.sent, load.summary.failures
