"""The backend the live tests share: deploy.yml -i inventories/local puts version A in namespace
laravel-ops-live-test (release `live`, PostgreSQL beside it) once for the session; the tests
change it in their order and the session removes it at the end."""

from __future__ import annotations

import time

import pytest

from live_helpers import NAMESPACE, RELEASE, VERSION_A, release_inventory
from operator_helpers import (KUBECONFIG, ROOT, Playbook, kubectl, require_cluster, require_no_namespace, require_registry,
                              run, tool)


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    require_cluster()
    user, password = require_registry()
    require_no_namespace(NAMESPACE)
    tmp = tmp_path_factory.mktemp("live")
    base = {**release_inventory(NAMESPACE, RELEASE), "backend_replicas_max": 10}
    deploy = Playbook(tmp, base, user, password, playbook=ROOT / "deploy.yml")
    started = time.monotonic()
    deploy({"image_tag": VERSION_A})
    print(f"version A deployed in {time.monotonic() - started:.0f}s")
    try:
        yield deploy
    finally:
        run([tool("helm"), "--kubeconfig", KUBECONFIG, "uninstall", RELEASE, "-n", NAMESPACE, "--wait",
             "--timeout", "3m"], check=False, timeout=240)
        kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", check=False, timeout=300)
