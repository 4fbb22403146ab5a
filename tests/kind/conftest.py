"""Fixtures of tests/kind: the kind cluster, and a restricted namespace of the test's own."""

from __future__ import annotations

import secrets

import pytest

from kind_helpers import KUBECONFIG, kubectl
from operator_helpers import skip


@pytest.fixture(scope="module")
def cluster():
    if not KUBECONFIG.exists():
        skip(f"no kind cluster: {KUBECONFIG} is missing (make deploy, or ansible-playbook playbooks/cluster.yml)")
    if kubectl("get", "--raw", "/readyz", check=False).returncode != 0:
        skip(f"the kind cluster of {KUBECONFIG} does not answer (make deploy, or ansible-playbook playbooks/cluster.yml)")


@pytest.fixture(scope="module")
def namespace(cluster):
    name = f"kind-test-{secrets.token_hex(3)}"
    kubectl("create", "namespace", name)
    kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
    try:
        yield name
    finally:
        kubectl("delete", "namespace", name, "--wait=false", check=False)
