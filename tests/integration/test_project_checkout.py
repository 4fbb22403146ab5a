"""A fresh checkout resolves laravel_ops.k8s by itself: as an AWX project, and as a plain clone.

AWX runs a job template's playbook from the project's checkout, with no setup script run there.
Ansible and the collections this one depends on come from the execution environment (here: the
`ansible` package of the test virtualenv); laravel_ops.k8s must come from the checkout.
"""

import configparser
import json
import os
import shutil

import pytest
import yaml

from playbook_helpers import ROOT, VENV_BIN, copy_checkout, run, tool

LINK = "collections/ansible_collections/laravel_ops/k8s"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return copy_checkout(tmp_path_factory.mktemp("project") / "checkout")


def fresh_env(home):
    """No ANSIBLE_* variable of this machine, an empty home, the execution environment's tools."""
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith("ANSIBLE_"))
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), PATH=os.pathsep.join([str(VENV_BIN), "/usr/bin", "/bin"]),
               ANSIBLE_NOCOLOR="1")
    return env


def awx_env(checkout, tmp_path):
    """As AWX's job runner sets it: the collections and roles it installed from the project's
    requirements first, then the paths of the project's ansible.cfg, then Ansible's defaults."""
    env = fresh_env(tmp_path / "home")
    config = configparser.ConfigParser()
    config.read(checkout / "ansible.cfg")
    for variable, setting, installed, defaults in (
            ("ANSIBLE_COLLECTIONS_PATH", "collections_path", "requirements_collections",
             "~/.ansible/collections:/usr/share/ansible/collections"),
            ("ANSIBLE_ROLES_PATH", "roles_path", "requirements_roles",
             "~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles")):
        (tmp_path / installed).mkdir()
        paths = [str(tmp_path / installed)]
        if config.has_option("defaults", setting):
            paths.append(config.get("defaults", setting))
        env[variable] = ":".join(paths + [defaults])
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "False"
    return env


def resolved_from(checkout, env):
    """Where ansible-doc, run in the checkout, finds laravel_ops.k8s's deploy_lock module."""
    result = run([tool("ansible-doc"), "--json", "laravel_ops.k8s.deploy_lock"], env=env, cwd=checkout)
    return os.path.realpath(json.loads(result.stdout)["laravel_ops.k8s.deploy_lock"]["doc"]["filename"])


@pytest.mark.parametrize("how", ["awx", "clone"])
def test_fresh_checkout_resolves_the_collection(checkout, tmp_path, how):
    env = awx_env(checkout, tmp_path) if how == "awx" else fresh_env(tmp_path / "home")
    for playbook in ("deploy.yml", "playbooks/check.yml"):
        run([tool("ansible-playbook"), playbook, "-i", "inventories/local", "--syntax-check"], env=env, cwd=checkout)
    assert resolved_from(checkout, env) == str((checkout / "plugins" / "modules" / "deploy_lock.py").resolve())


def test_the_link_is_what_resolves_it(checkout, tmp_path):
    """Without the committed link nothing else in the environment provides laravel_ops.k8s, so the
    test above proves the link works, not something left on this machine."""
    link = checkout / LINK
    assert link.is_symlink() and not os.path.isabs(os.readlink(link)), "a relative link, valid wherever the clone is"
    assert link.resolve() == checkout.resolve()
    bare = tmp_path / "bare"
    shutil.copytree(checkout, bare, symlinks=True)
    (bare / LINK).unlink()
    result = run([tool("ansible-playbook"), "deploy.yml", "-i", "inventories/local", "--syntax-check"],
                 env=fresh_env(tmp_path / "home"), cwd=bare, check=False)
    assert result.returncode != 0 and "laravel_ops.k8s" in result.stderr, result.stderr[-2000:]


def test_awx_installs_the_dependencies_galaxy_yml_names(checkout):
    """AWX installs collections/requirements.yml into the job's collections path at project sync."""
    requirements = yaml.safe_load((checkout / "collections" / "requirements.yml").read_text())
    listed = dict((item["name"], item.get("version", "*")) for item in requirements["collections"])
    dependencies = yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]
    assert listed == dependencies
