"""Helpers for tests that run the collection's playbooks and tools without a cluster."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"
VENV_BIN = Path(sys.executable).parent
ENVIRONMENTS = ("local", "dev", "staging", "prod")
# Lets the chart render its ServiceMonitor and PrometheusRule as on a cluster with the operator.
MONITORING_APIS = (
    "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor",
    "--api-versions", "monitoring.coreos.com/v1/PrometheusRule",
)

# prod pins images by digest, which render.yml takes from the registry; there is no registry
# here, so the digests a build would have produced are given, as an inventory may give them.
PINNED = {
    "prod": {
        name: {"registry": "registry.example.com", "repository": f"laravel-ops/backend-{target}",
               "digest": "sha256:" + digit * 64}
        for name, target, digit in (("backend_php_image", "php", "a"), ("backend_nginx_image", "nginx", "b"))
    },
}


def tool(name):
    """Absolute path of a tool the setup script installed, or skip the test saying which."""
    for candidate in (TOOLS_BIN / name, VENV_BIN / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed; run scripts/setup.sh")
    return found


def offline_env(tmp_path):
    """Environment for ansible runs that must never reach a cluster.

    K8S_AUTH_KUBECONFIG points at a cluster on a port nothing listens on, so any task that did
    touch the API would fail loudly with a connection error rather than reach a real cluster.
    """
    kubeconfig = tmp_path / "unreachable-kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "unreachable", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "nobody", "user": {"token": "unused"}}],
        "contexts": [{"name": "unreachable", "context": {"cluster": "unreachable", "user": "nobody"}}],
        "current-context": "unreachable",
    }))
    env = dict(os.environ)
    env.update({
        "K8S_AUTH_KUBECONFIG": str(kubeconfig),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": os.pathsep.join([str(TOOLS_BIN), str(VENV_BIN), env.get("PATH", "")]),
    })
    return env


def copy_checkout(dest):
    """Copy what a clone of this repository would hold into dest: the tracked files and the new ones
    git would commit, as the working tree has them, symlinks as symlinks (no .git, no caches)."""
    if not shutil.which("git"):
        pytest.skip("git is not installed; run scripts/setup.sh")
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source, target = ROOT / name, dest / name
        if not os.path.lexists(source):  # deleted in the working tree, not yet in the index
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return dest


def run(argv, env=None, cwd=ROOT, check=True, stdin=None):
    result = subprocess.run(argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, argv))} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}")
    return result


def ansible_playbook(playbook, inventory, tmp_path, extra_vars=None, check=True):
    argv = [tool("ansible-playbook"), str(playbook), "-i", str(ROOT / "inventories" / inventory)]
    if extra_vars:
        extra = tmp_path / "extra-vars.yml"
        extra.write_text(yaml.safe_dump(extra_vars))
        argv += ["-e", f"@{extra}"]
    return run(argv, env=offline_env(tmp_path), check=check)
