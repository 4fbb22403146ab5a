"""Fixtures of tests/kind: the kind cluster, and a restricted namespace of the test's own."""

from __future__ import annotations

import secrets

import pytest

from kind_helpers import kubectl
from operator_helpers import require_cluster


@pytest.fixture(scope="module")
def cluster():
    require_cluster()


@pytest.fixture(scope="module")
def namespace(cluster):
    name = f"kind-test-{secrets.token_hex(3)}"
    kubectl("create", "namespace", name)
    kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
    try:
        yield name
    finally:
        kubectl("delete", "namespace", name, "--wait=false", check=False)
