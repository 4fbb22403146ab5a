"""Runs as AWX makes them: ansible-runner with a private data directory laid out as AWX lays it out
(the project checked out, the inventory as AWX's inventory import writes it, env/extravars, and
env/envvars carrying only what AWX's Kubernetes and registry credentials inject), HOME empty and
no kubeconfig anywhere. The cluster credential is the least-privilege deployer an admin made with
playbooks/deployer.yml: deploy, migrate and rollback succeed with it, and it can neither read
Secrets of another namespace nor deploy there."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml

from live_helpers import NAMESPACE, VERSION_A, release_inventory
from operator_helpers import KUBECONFIG, ROOT, Playbook, kube_json, kubectl, require_registry, run, tool

sys.path.insert(0, str(ROOT / "tests" / "integration"))
from playbook_helpers import copy_checkout  # noqa: E402  pylint: disable=wrong-import-position

AWX_NAMESPACE = "laravel-ops-awx-test"
OTHER_NAMESPACE = "laravel-ops-awx-elsewhere"
RELEASE = "awx"
DEPLOYER = "laravel-ops-deployer"


class AwxRuns:
    """A private data directory per run, as AWX's task manager writes it, run by ansible-runner."""

    def __init__(self, tmp: Path, credential: dict, registry: tuple[str, str]):
        self.tmp, self.credential, self.registry = tmp, credential, registry
        self.project = copy_checkout(tmp / "project")
        self.home = tmp / "home"
        self.home.mkdir()
        self.inventory = run([tool("ansible-inventory"), "-i", str(ROOT / "inventories" / "local"), "--list",
                              "--export"], env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}).stdout
        self.runs = 0
        self.secrets = [credential["bearer_token"], registry[1]]

    def __call__(self, playbook: str, extravars: dict, expect_rc: int = 0, cmdline: str = "") -> str:
        self.runs += 1
        data = self.tmp / f"job-{self.runs}"
        (data / "env").mkdir(parents=True)
        (data / "inventory").mkdir()
        (data / "project").symlink_to(self.project)
        # AWX's inventory import stores what ansible-inventory read, and hands it back as a script.
        hosts = data / "inventory" / "hosts"
        hosts.write_text(f"#!{sys.executable}\nprint({self.inventory!r})\n")
        hosts.chmod(hosts.stat().st_mode | stat.S_IXUSR)
        # A credential's file inputs land in the private data directory, named by the variable.
        ca_file = data / "env" / "k8s-ca.crt"
        ca_file.write_text(self.credential["ssl_ca_cert"])
        (data / "env" / "envvars").write_text(yaml.safe_dump({
            "K8S_AUTH_HOST": self.credential["host"],
            "K8S_AUTH_API_KEY": self.credential["bearer_token"],
            "K8S_AUTH_SSL_CA_CERT": str(ca_file),
            "K8S_AUTH_VERIFY_SSL": "True",
            "LARAVEL_OPS_REGISTRY_USERNAME": self.registry[0],
            "LARAVEL_OPS_REGISTRY_PASSWORD": self.registry[1],
        }))
        (data / "env" / "extravars").write_text(yaml.safe_dump({"awx_job_id": self.runs, "awx_user_name": "admin",
                                                                 **extravars}))
        env = {"PATH": f"{ROOT / '.tools' / 'venv' / 'bin'}:{ROOT / '.tools' / 'bin'}:/usr/bin:/bin",
               "HOME": str(self.home), "LANG": "C.UTF-8"}
        # A job template's job type "check" and its "show changes" switch reach ansible-playbook so.
        (data / "env" / "cmdline").write_text(cmdline)
        result = run([tool("ansible-runner"), "run", str(data), "-p", playbook, "--ident", "job"],
                     check=False, timeout=1200, env=env)
        output = result.stdout + result.stderr
        # Every artefact of the job but `command`: ansible-runner records there the environment it
        # was handed, the credential's variables included, as env/envvars holds them.
        artefacts = "".join(path.read_text(errors="replace") for path in (data / "artifacts").rglob("*")
                            if path.is_file() and path.name != "command")
        leaked = [index for index, secret in enumerate(self.secrets) if secret and secret in output + artefacts]
        assert not leaked, f"a credential's secret (#{leaked}) is in the output or the runner's artefacts"
        # (helm and kubectl may keep their discovery cache under ~/.kube/cache)
        assert not (self.home / ".kube" / "config").exists(), "nothing may make or use a kubeconfig"
        status = (data / "artifacts" / "job" / "status").read_text().strip()
        rc = int((data / "artifacts" / "job" / "rc").read_text().strip())
        print(f"ansible-runner {playbook}: {status} (rc {rc})")
        assert rc == expect_rc, output[-6000:]
        return output


@pytest.fixture(scope="module")
def awx(backend, tmp_path_factory):
    """The admin's one run (deployer.yml, with the admin's kubeconfig), then AWX's runs with its token."""
    registry = require_registry()
    tmp = tmp_path_factory.mktemp("awx")
    credential_file = tmp / "deployer.json"
    admin = Playbook(tmp, {"backend_namespace": AWX_NAMESPACE}, *registry, playbook=ROOT / "playbooks" / "deployer.yml")
    made = admin({"deployer_credential_file": str(credential_file)})
    assert stat.S_IMODE(credential_file.stat().st_mode) == 0o600
    credential = json.loads(credential_file.read_text())
    assert credential["bearer_token"] not in made.output, "the admin's run printed the token"
    base = {
        **release_inventory(AWX_NAMESPACE, RELEASE),
        "backend_replicas_min": 1,
        "backend_replicas_max": 1,
        # the operator and the log collector are cluster-wide: an admin's job, not the deployer's
        "prometheus_operator_enabled": False,
        "log_collector_enabled": False,
        # the images the session's deploy pushed
        "image_tag": VERSION_A,
    }
    runs = AwxRuns(tmp, credential, registry)
    try:
        yield runs, base, credential
    finally:
        run([tool("helm"), "--kubeconfig", KUBECONFIG, "uninstall", RELEASE, "-n", AWX_NAMESPACE, "--wait",
             "--timeout", "3m"], check=False, timeout=240)
        for namespace in (AWX_NAMESPACE, OTHER_NAMESPACE):
            kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=true", check=False, timeout=300)
        kubectl("delete", "clusterrole,clusterrolebinding", f"{DEPLOYER}-{AWX_NAMESPACE}", "--ignore-not-found",
                check=False)


def as_deployer(credential: dict, tmp: Path, *args: str):
    """kubectl with the deployer's token only (no kubeconfig)."""
    ca_file = tmp / "deployer-ca.crt"
    ca_file.write_text(credential["ssl_ca_cert"])
    return run([tool("kubectl"), "--kubeconfig", "/dev/null", "--server", credential["host"],
                "--certificate-authority", str(ca_file), "--token", credential["bearer_token"], *args],
               check=False, timeout=60)


def test_deploy_migrate_and_rollback_as_awx_runs_them_with_the_deployer_token(awx):
    runs, base, _credential = awx
    runs("deploy.yml", base)
    history = lambda: [r["revision"] for r in json.loads(run(  # noqa: E731
        [tool("helm"), "--kubeconfig", KUBECONFIG, "history", RELEASE, "-n", AWX_NAMESPACE, "-o", "json"]).stdout)]
    assert history() == [1]
    runs("playbooks/migrate.yml", base)
    changed = {**base, "backend_chart_values": {**base["backend_chart_values"],
                                                "podAnnotations": {"laravel-ops.io/awx-run": "2"}}}
    # The workflow's check job: object by object what the deploy would change, nothing applied.
    checked = runs("deploy.yml", changed, cmdline="--check --diff")
    diff = [line for line in checked.splitlines() if line.startswith(("+++ after:", "+  ", "-  "))]
    print("check --diff as the deployer:\n  " + "\n  ".join(diff[:8]))
    assert f"+++ after: Deployment {AWX_NAMESPACE}/{RELEASE}-backend" in checked
    assert any("laravel-ops.io/awx-run" in line for line in diff)
    assert history() == [1], "check mode changed the release"
    # a second revision to go back from
    runs("deploy.yml", changed)
    runs("playbooks/rollback.yml", base)
    revisions = history()
    deployment = kube_json("deployment", f"{RELEASE}-backend", "-n", AWX_NAMESPACE)
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    print(f"release {RELEASE} revisions after deploy, deploy, rollback: {revisions}")
    assert revisions == [1, 2, 3]
    assert "laravel-ops.io/awx-run" not in annotations, "the rollback restored revision 1's pod template"


def test_the_deployer_token_reaches_nothing_outside_its_namespace(awx, tmp_path):
    runs, base, credential = awx
    secrets_elsewhere = as_deployer(credential, tmp_path, "get", "secrets", "-n", NAMESPACE)
    print(f"deployer token, secrets of {NAMESPACE}: {secrets_elsewhere.stderr.strip()[:200]}")
    assert secrets_elsewhere.returncode != 0 and "forbidden" in secrets_elsewhere.stderr.lower()
    crds = as_deployer(credential, tmp_path, "auth", "can-i", "create", "customresourcedefinitions")
    assert crds.stdout.strip() == "no"

    # the local inventory's database host follows the namespace
    output = runs("deploy.yml", {**base, "backend_namespace": OTHER_NAMESPACE}, expect_rc=2)
    message = next(line for line in output.splitlines() if "The credential" in line and "lacks" in line)
    print(f"deploy to {OTHER_NAMESPACE} with the deployer token: {message.strip()[:300]}")
    assert f"system:serviceaccount:{AWX_NAMESPACE}:{DEPLOYER}" in message
    assert "leases.coordination.k8s.io" in message and "secrets (" in message
    assert kube_json("namespace", OTHER_NAMESPACE) is None, "nothing was made in the other namespace"
