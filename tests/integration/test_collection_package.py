"""The built collection carries the chart, the Dockerfile and the roles, leaves the checkout's caches and
test harness behind, and works installed."""

import os
import tarfile

import pytest
import yaml

from playbook_helpers import PINNED, copy_checkout, offline_env, run, tool

MUST_TRAVEL = [
    "charts/backend/Chart.yaml",
    "charts/backend/values.yaml",
    "charts/backend/values.schema.json",
    "docker/Dockerfile",
    "docker/Dockerfile.dockerignore",
    "docker/Dockerfile.debian.dockerignore",
    "examples/laravel-app/artisan",
    "meta/runtime.yml",
    "plugins/filter/backend_chart_values.py",
    "plugins/modules/k8s_job_run.py",
    "plugins/modules/migration_plan.py",
    "plugins/action/migration_plan.py",
    "plugins/lookup/backend_inventory.py",
    "plugins/module_utils/_settings.py",
    "plugins/doc_fragments/cluster_auth.py",
    "playbooks/deploy.yml",
    "inventories/prod/group_vars/all/backend.yml",
    "README.md",
    "CHANGELOG.rst",
    "changelogs/changelog.yaml",
    "docs/inventory-variables.md",
    # The local_cluster role runs these, and serves the fixture's operator chart.
    "scripts/operator-chart.sh",
    "scripts/lib/status.sh",
    "cluster/kind/up.sh",
    "scripts/lib/go.sh",
    "tests/fixtures/prometheus-operator/chart/Chart.yaml",
    "tests/fixtures/otelcol/go.sum",
    "tests/fixtures/victorialogs/victorialogs.yaml",
] + [f"roles/{role}/meta/argument_specs.yml"
     for role in ("prometheus_operator", "log_collector", "image", "release", "migrations", "rollback", "postgresql", "local_cluster")]

# What tools leave in a checkout (ansible-lint's copy of the collection in .ansible/, Molecule's and
# pytest's caches, rendered values, test output, an earlier build): planted in the copy that is
# built, none of it may travel.
STRAYS = [
    ".ansible/collections/ansible_collections/laravel_ops/k8s/galaxy.yml",
    ".ansible/roles/stray/tasks/main.yml",
    "roles/release/.ansible/tmp/stray.yml",
    ".cache/stray.json",
    "molecule/default/.cache/state.yml",
    "roles/image/.cache/stray.json",
    ".pytest_cache/v/cache/lastfailed",
    "plugins/filter/__pycache__/backend_chart_values.cpython-311.pyc",
    "rendered/values-prod.yaml",
    "tests/output/junit.xml",
    "laravel_ops-k8s-0.9.0.tar.gz",
    "examples/laravel-app/vendor/autoload.php",
    "changelogs/.plugin-cache.yaml",
]
# This repository's own harness: the tests (but their fixtures), Molecule, CI, benchmarks, and the
# project-mode link.
STAYS_BEHIND = (".ci/", ".config/", ".tools/", ".git/", "bench/", "molecule/", "collections/",
                "tests/unit/", "tests/integration/", "tests/chart/", "tests/docker/", "tests/image/",
                "tests/operator/", "tests/live/")
# Measured at 1.0.0: about 320 KB and 290 files; while ansible-lint's .ansible/ cache travelled, 730 to 940 KB.
MAX_TARBALL_BYTES = 450 * 1024


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("collection")
    checkout = copy_checkout(work / "checkout")
    for stray in STRAYS:
        (checkout / stray).parent.mkdir(parents=True, exist_ok=True)
        (checkout / stray).write_text("stray\n")
    run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(work), str(checkout)])
    tarballs = list(work.glob("laravel_ops-k8s-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    collections = work / "collections"
    # kubernetes.core and community.crypto come from the pinned `ansible` package already.
    run([tool("ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p", str(collections), str(tarballs[0])])
    return tarballs[0], collections / "ansible_collections" / "laravel_ops" / "k8s", collections


def test_tarball_carries_chart_dockerfile_and_roles(installed):
    tarball, _, _ = installed
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    missing = [path for path in MUST_TRAVEL if path not in names]
    assert not missing, missing


def test_tarball_leaves_caches_and_the_test_harness_behind(installed):
    tarball, _, _ = installed
    with tarfile.open(tarball) as archive:
        files = [member.name for member in archive.getmembers() if not member.isdir()]
    size = os.path.getsize(tarball)
    print(f"{tarball.name}: {size} bytes, {len(files)} files")
    strays = [name for name in files if name in STRAYS or name.startswith(STAYS_BEHIND)
              or ".ansible" in name.split("/") or ".cache" in name.split("/")]
    assert not strays, strays
    # A test directory added without a build_ignore entry shows up here.
    tests = [name for name in files if name.startswith("tests/") and name.rsplit("/", 1)[-1].startswith(("test_", "conftest"))]
    assert not tests, tests
    assert size < MAX_TARBALL_BYTES, f"{tarball.name} is {size} bytes, more than {MAX_TARBALL_BYTES}: what grew?"


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
