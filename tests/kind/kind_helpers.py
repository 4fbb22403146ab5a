"""Helpers of tests/kind: the kind cluster cluster/kind/up.sh brings up, and its Ingress entry
point, Traefik's HTTPS NodePort that the control plane's container publishes on this machine's
loopback."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "live"))
import operator_helpers  # noqa: E402  pylint: disable=wrong-import-position
from operator_helpers import IngressConnection, http_request, ingress_ca_context  # noqa: E402  pylint: disable=wrong-import-position

KIND_DIR = Path(os.environ.get("LARAVEL_OPS_KIND_DIR") or "/var/lib/laravel-ops-kind")
KUBECONFIG = KIND_DIR / "admin.kubeconfig"
CLUSTER = "laravel-ops"
WORKERS = (f"{CLUSTER}-worker", f"{CLUSTER}-worker2")
INGRESS_PORT = 8443  # cluster/kind/up.sh publishes Traefik's HTTPS NodePort there, on loopback


def kubectl(*args: str, **options):
    return operator_helpers.kubectl(*args, kubeconfig=str(KUBECONFIG), **options)


def kube_json_or_none(*args: str) -> dict | None:
    return operator_helpers.kube_json(*args, kubeconfig=str(KUBECONFIG))


def kube_json(*args: str) -> dict:
    found = kube_json_or_none(*args)
    assert found is not None, f"kubectl get {' '.join(args)}: not found in the kind cluster"
    return found


@cache
def _ingress_context():
    return ingress_ca_context(str(KUBECONFIG))


def ingress_get(host: str, path: str, *, timeout: float = 10) -> tuple[int, dict, bytes]:
    """One HTTPS request for `host` to Traefik's published entry point, on a new connection,
    the certificate checked against the kind cluster's ingress CA."""
    return http_request(IngressConnection("127.0.0.1", INGRESS_PORT, host, _ingress_context(), timeout), path)
