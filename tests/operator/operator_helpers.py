"""Helpers of tests/operator: the cluster, the registry, the fixture chart, the role's playbook."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import yaml

# The registry and its login are the image tests' helpers (tests/live and tests/operator use them).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from image_helpers import require_registry, skip  # noqa: E402,F401  pylint: disable=wrong-import-position

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("LARAVEL_OPS_CACHE") or Path.home() / ".cache" / "laravel-ops")
KUBECONFIG = (os.environ.get("K8S_AUTH_KUBECONFIG") or os.environ.get("KUBECONFIG")
              or "/var/lib/laravel-ops-cluster/admin.kubeconfig")
SCRIPT = ROOT / "scripts" / "operator-chart.sh"
PLAYBOOK = HERE / "operator.yml"
CRD_GROUP = "monitoring.coreos.com"
PROMETHEUS_CRD = f"prometheuses.{CRD_GROUP}"
FIELD_MANAGER = "laravel-ops"
LOCAL_INVENTORY = ROOT / "inventories" / "local"


@cache
def local_inventory() -> dict:
    """The local inventory's group variables, as written (templates unrendered)."""
    inventory = {}
    for path in sorted((LOCAL_INVENTORY / "group_vars").rglob("*.yml")):
        inventory.update(yaml.safe_load(path.read_text()) or {})
    return inventory


def tool(name: str) -> str:
    for candidate in (ROOT / ".tools" / "bin" / name, ROOT / ".tools" / "venv" / "bin" / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        skip(f"{name} is not installed (run scripts/setup.sh)")
    return found


def run(args: list[str], *, check: bool = True, timeout: float = 300, env: dict | None = None,
        input_text: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, input=input_text)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout[-6000:]}"
                             f"\nstderr:\n{result.stderr[-4000:]}")
    return result


def kubectl(*args: str, check: bool = True, timeout: float = 120, input_text: str | None = None,
            kubeconfig: str = KUBECONFIG):
    return run([tool("kubectl"), "--kubeconfig", kubeconfig, *args], check=check, timeout=timeout,
               input_text=input_text)


def http_request(connection: http.client.HTTPConnection, path: str,
                 headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET `path` on `connection`, then closes it: status, headers and body."""
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class IngressConnection(http.client.HTTPSConnection):
    """HTTPS to an ingress controller's `address`, with the app's `host` as SNI and Host header,
    and its certificate checked for that name."""

    def __init__(self, address: str, port: int, host: str, context: ssl.SSLContext, timeout: float):
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def ingress_ca_context(kubeconfig: str = KUBECONFIG) -> ssl.SSLContext:
    """A client context that trusts only the cluster's ingress CA (the ConfigMap the cluster's
    scripts publish beside Traefik)."""
    ca = kube_json("configmap", "ingress-ca", "-n", "traefik", kubeconfig=kubeconfig)
    assert ca is not None, "the cluster has no ConfigMap traefik/ingress-ca (cluster/kind/up.sh makes it)"
    return ssl.create_default_context(cadata=ca["data"]["ca.crt"])


def kube_json(*args: str, kubeconfig: str = KUBECONFIG) -> dict | None:
    """`kubectl get ... -o json`, None when the object does not exist."""
    result = kubectl("get", *args, "-o", "json", check=False, kubeconfig=kubeconfig)
    if result.returncode != 0:
        if "NotFound" in result.stderr or "not found" in result.stderr:
            return None
        raise AssertionError(f"kubectl get {' '.join(args)}: {result.stderr}")
    return json.loads(result.stdout)


def wait_for(what: str, predicate, timeout: float = 180, interval: float = 3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def require_cluster() -> None:
    if not Path(KUBECONFIG).is_file():
        skip(f"no cluster: kubeconfig {KUBECONFIG} does not exist (make deploy, or set K8S_AUTH_KUBECONFIG)")
    kubectl_bin = tool("kubectl")
    try:
        ready = run([kubectl_bin, "--kubeconfig", KUBECONFIG, "--request-timeout=10s", "get", "--raw", "/readyz"],
                    check=False, timeout=30)
    except subprocess.TimeoutExpired:
        skip(f"no cluster: the API server of {KUBECONFIG} does not answer")
    if ready.returncode != 0:
        skip(f"no cluster: the API server of {KUBECONFIG} does not answer: {ready.stderr.strip()[:200]}")


def require_no_namespace(name: str) -> None:
    """Skips when namespace `name`, which the test makes and deletes itself, exists already. One
    an earlier run is still deleting is waited for: teardowns that nothing after them needs to
    wait for do not wait for the deletion."""
    found = kube_json("namespace", name)
    if found is not None and found["status"].get("phase") == "Terminating":
        kubectl("wait", "--for=delete", f"namespace/{name}", "--timeout=300s", check=False, timeout=320)
        found = kube_json("namespace", name)
    if found is not None:
        skip(f"namespace {name} exists already: the test makes and deletes its own (left by an earlier run? "
             "delete it first)")


def require_go_or_cache() -> None:
    built = (CACHE / "prometheus-operator-v0.93.1" / "bin" / ".complete").is_file()
    if not built and shutil.which("go") is None and not Path("/usr/local/go/bin/go").exists():
        skip("no Go toolchain to build the Prometheus Operator (and no cached build)")


def fixture_vars() -> dict:
    """The role variables scripts/operator-chart.sh prints for its chart."""
    out = run(["bash", str(SCRIPT), "print-vars"], timeout=30).stdout
    return yaml.safe_load(out)


class Playbook:
    """Runs a playbook (by default tests/operator/operator.yml, the role) with the local inventory."""

    def __init__(self, tmp: Path, base_vars: dict, user: str, password: str, playbook: Path = PLAYBOOK):
        self.tmp = tmp
        self.base_vars = base_vars
        self.user = user
        self.password = password
        self.playbook = playbook
        self.runs = 0

    def env(self, **overrides) -> dict:
        env = dict(os.environ)
        env.update({
            "PATH": f"{ROOT / '.tools' / 'bin'}:{ROOT / '.tools' / 'venv' / 'bin'}:{env.get('PATH', '')}",
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "K8S_AUTH_KUBECONFIG": KUBECONFIG,
            "LARAVEL_OPS_REGISTRY_USERNAME": self.user,
            "LARAVEL_OPS_REGISTRY_PASSWORD": self.password,
            # the role's private registry-login directory is made here; the tests check it is gone
            "TMPDIR": str(self.tmp / "tmpdir"),
        })
        (self.tmp / "tmpdir").mkdir(exist_ok=True)
        env.update(overrides)
        return env

    def command(self, extra: dict, *options: str) -> list[str]:
        """The ansible-playbook command line of the next run: `extra` over the base variables (in
        a file of their own), `options` (e.g. --check, -vvv) added."""
        self.runs += 1
        extra_file = self.tmp / f"extra-{self.runs}.yml"
        extra_file.write_text(yaml.safe_dump({**self.base_vars, **extra}))
        return [tool("ansible-playbook"), "-i", str(LOCAL_INVENTORY), str(self.playbook), "-e", f"@{extra_file}",
                *options]

    def __call__(self, extra: dict | None = None, *, check_mode: bool = False, expect_rc: int = 0,
                 env: dict | None = None, verbose: bool = False) -> "Result":
        options = ["--check"] * check_mode + ["-v"] * verbose
        result = run(self.command(extra or {}, *options), check=False, timeout=900, env=self.env(**(env or {})))
        output = result.stdout + result.stderr
        if result.returncode != expect_rc:
            raise AssertionError(f"ansible-playbook exited {result.returncode}, expected {expect_rc}\n{output[-8000:]}")
        return Result(output)


class Result:
    def __init__(self, output: str):
        self.output = output
        match = re.search(r"local-cluster\s*:\s*ok=(\d+)\s+changed=(\d+)", output)
        assert match, f"no PLAY RECAP for local-cluster in:\n{output[-4000:]}"
        self.changed = int(match.group(2))

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported a change."""
        names, current = [], None
        for line in self.output.splitlines():
            header = re.match(r"TASK \[(.*?)\]", line)
            if header:
                current = header.group(1)
            elif line.startswith("changed:") and current and (not names or names[-1] != current):
                names.append(current)
        return names
