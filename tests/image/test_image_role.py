"""The image role for real (backend_image_flavour: debian) against the local registry of
scripts/registry.sh: check mode pushes nothing, the first run builds both targets with buildx
and pushes them, image_result carries the registry's digests, and a second run (and a
check-mode run) with the same source reports changed=0 and pushes nothing.

Skipped, with the reason printed, without a Docker engine with buildx, the base image, or the
registry and its credentials. Pushes go to the test-only repositories laravel-ops-test/*, with
a fresh tag per run; their manifests are deleted afterwards (the registry has deletion on).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from image_helpers import REGISTRY, REPO, require_base_image, require_engine, require_registry, run

REPOSITORIES = {"php": "laravel-ops-test/backend-php", "nginx": "laravel-ops-test/backend-nginx"}
MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json"])


def _auth(credentials: tuple[str, str]) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(":".join(credentials).encode()).decode()}


def _manifest(credentials, repository: str, reference: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://{REGISTRY}/v2/{repository}/manifests/{reference}", method="HEAD",
                                     headers={**_auth(credentials), "Accept": MANIFEST_TYPES})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Docker-Content-Digest", "")
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.fixture(scope="module")
def registry():
    docker = require_engine()
    require_base_image(docker)
    return require_registry()


@pytest.fixture(scope="module")
def playbook(registry, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("role")
    tag = f"pytest-{secrets.token_hex(4)}"
    extra = tmp / "extra.yml"
    extra.write_text(yaml.safe_dump({
        "backend_image_flavour": "debian",
        "image_registry_scheme": "http",
        "image_tag": tag,
        "image_work_dir": str(tmp / "contexts"),
        # The role returns what it pushed in image_result and never changes these inputs.
        "backend_php_image": {"registry": REGISTRY, "repository": REPOSITORIES["php"]},
        "backend_nginx_image": {"registry": REGISTRY, "repository": REPOSITORIES["nginx"]},
        # Only the application images here; the support images have tests of their own.
        "backend_pgbouncer_enabled": False,
        "backend_database_in_cluster": False,
    }))
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
        "LARAVEL_OPS_REGISTRY_USERNAME": registry[0],
        "LARAVEL_OPS_REGISTRY_PASSWORD": registry[1],
        "PATH": os.pathsep.join([str(REPO / ".tools" / "bin"), str(bin_dir), env.get("PATH", "")]),
    })

    def play(*options: str) -> dict:
        result = run([str(bin_dir / "ansible-playbook"), str(REPO / "playbooks" / "build.yml"),
                      "-i", str(REPO / "inventories" / "local"), "-e", f"@{extra}", *options],
                     env=env, timeout=1200, check=False)
        assert result.returncode == 0, f"ansible-playbook {' '.join(options)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-3000:]}"
        return json.loads(result.stdout)

    play.tag = tag
    yield play
    # Remove what the test pushed (the tags share the test-only repositories).
    for repository in REPOSITORIES.values():
        for reference in (tag, "buildcache"):
            status, digest = _manifest(registry, repository, reference)
            if status == 200 and digest:
                request = urllib.request.Request(f"http://{REGISTRY}/v2/{repository}/manifests/{digest}",
                                                 method="DELETE", headers=_auth(registry))
                try:
                    urllib.request.urlopen(request, timeout=10).close()
                except urllib.error.HTTPError:
                    pass
        # And the engine's local tags of those images.
        run(["docker", "image", "rm", f"{REGISTRY}/{repository}:{tag}", f"{REGISTRY}/{repository}:buildcache"],
            check=False)


def _changed(report: dict) -> int:
    return sum(host["changed"] for host in report["stats"].values())


def _task_results(report: dict, name_part: str) -> list[dict]:
    return [host for play in report["plays"] for task in play["tasks"] if name_part in task["task"]["name"]
            for host in task["hosts"].values()]


def _facts(report: dict) -> tuple[dict, dict]:
    shown = _task_results(report, "Show the pushed images")
    assert shown, "playbooks/build.yml shows image_result"
    images = shown[0]["msg"]["images"]
    assert sorted(images) == ["backend_nginx_image", "backend_php_image"], images
    return images["backend_php_image"], images["backend_nginx_image"]


def test_check_mode_on_a_new_tag_reports_the_build_and_pushes_nothing(playbook, registry):
    report = playbook("--check")
    assert _changed(report) >= 1
    assert _task_results(report, "Report the images a real run would build and push")
    for repository in REPOSITORIES.values():
        assert _manifest(registry, repository, playbook.tag)[0] == 404


def test_first_run_builds_pushes_and_returns_the_digests(playbook, registry):
    report = playbook()
    assert _changed(report) >= 2, report["stats"]  # the build context, the build and push
    builds = _task_results(report, "Build and push the images the registry lacks")
    assert builds and all(result.get("changed") for result in builds)
    php, nginx = _facts(report)
    for fact, target in ((php, "php"), (nginx, "nginx")):
        status, digest = _manifest(registry, REPOSITORIES[target], playbook.tag)
        assert status == 200
        assert fact == {"registry": REGISTRY, "repository": REPOSITORIES[target], "tag": playbook.tag,
                        "digest": digest}
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
        # The cache tag is pushed too (inline BuildKit cache for the next build).
        assert _manifest(registry, REPOSITORIES[target], "buildcache")[0] == 200


def test_second_run_and_check_mode_change_nothing(playbook, registry):
    before = {target: _manifest(registry, repo, playbook.tag)[1] for target, repo in REPOSITORIES.items()}
    for options in ((), ("--check", "--diff")):
        report = playbook(*options)
        assert _changed(report) == 0, f"{options}: {report['stats']}"
        assert not _task_results(report, "Build and push the images the registry lacks"), "nothing is built or pushed"
        php, nginx = _facts(report)
        assert (php["digest"], nginx["digest"]) == (before["php"], before["nginx"])
