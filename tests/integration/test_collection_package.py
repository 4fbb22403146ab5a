"""The built collection carries the chart, the Dockerfile and the roles, and works installed."""

import os
import tarfile

import pytest
import yaml

from conftest import PINNED
from playbook_helpers import ROOT, offline_env, run, tool

MUST_TRAVEL = [
    "charts/backend/Chart.yaml",
    "charts/backend/values.yaml",
    "charts/backend/values.schema.json",
    "docker/Dockerfile",
    "docker/.dockerignore",
    "examples/laravel-app/artisan",
    "meta/runtime.yml",
    "plugins/filter/backend_chart_values.py",
    "plugins/modules/k8s_job_run.py",
    "plugins/modules/migration_plan.py",
    "plugins/action/migration_plan.py",
    "plugins/lookup/backend_inventory.py",
    "plugins/module_utils/_settings.py",
    "playbooks/deploy.yml",
    "inventories/prod/group_vars/all/backend.yml",
] + [f"roles/{role}/meta/argument_specs.yml"
     for role in ("prometheus_operator", "image", "release", "migrations", "rollback")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("collection")
    run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(work), str(ROOT)])
    tarballs = list(work.glob("laravel_ops-k8s-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    collections = work / "collections"
    # kubernetes.core and community.docker come from the pinned `ansible` package already.
    run([tool("ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p", str(collections), str(tarballs[0])])
    return tarballs[0], collections / "ansible_collections" / "laravel_ops" / "k8s", collections


def test_tarball_carries_chart_dockerfile_and_roles(installed):
    tarball, _, _ = installed
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    missing = [path for path in MUST_TRAVEL if path not in names]
    assert not missing, missing
    assert not [name for name in names if name.startswith((".tools", ".git/", "rendered/"))]


def installed_env(tmp_path, collections):
    env = offline_env(tmp_path)
    # Away from the checkout: no ansible.cfg, only the installed collection.
    env.pop("ANSIBLE_CONFIG")
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join([str(collections)])
    return env


@pytest.mark.parametrize("playbook", ["deploy", "check", "build", "migrate", "rollback", "render"])
def test_installed_playbooks_pass_syntax_check(installed, tmp_path, playbook):
    _, path, collections = installed
    run([tool("ansible-playbook"), "--syntax-check", "-i", str(path / "inventories" / "local"),
         f"laravel_ops.k8s.{playbook}"], env=installed_env(tmp_path, collections), cwd=tmp_path)


def test_installed_collection_renders_prod(installed, tmp_path):
    """render.yml from the installed copy finds the chart inside the collection."""
    _, path, collections = installed
    pinned = tmp_path / "pinned.yml"
    pinned.write_text(yaml.safe_dump({"render_output_dir": str(tmp_path), **PINNED["prod"]}))
    run([tool("ansible-playbook"), "-i", str(path / "inventories" / "prod"), "laravel_ops.k8s.render",
         "-e", f"@{pinned}"], env=installed_env(tmp_path, collections), cwd=tmp_path)
    assert (tmp_path / "values-prod.yaml").is_file()
