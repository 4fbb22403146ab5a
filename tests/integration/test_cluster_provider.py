"""The kind provider of playbooks/cluster.yml says what is missing before it builds or creates
anything, instead of failing halfway through with a missing command; Molecule's kind scenario installs
what the roles default to."""

import os
import shutil

import yaml

from playbook_helpers import ROOT, offline_env, run, tool


def test_kind_without_its_cli_is_refused_naming_what_to_install(tmp_path):
    env = offline_env(tmp_path)
    # The tools' own directories and the system's, without any directory that holds a kind CLI.
    env["PATH"] = os.pathsep.join(d for d in env["PATH"].split(os.pathsep) if d and not os.path.exists(os.path.join(d, "kind")))
    assert shutil.which("kind", path=env["PATH"]) is None
    state = tmp_path / "cluster-state"
    env["LARAVEL_OPS_CLUSTER_DIR"] = str(state)
    result = run([tool("ansible-playbook"), str(ROOT / "playbooks" / "cluster.yml"), "-e", "local_cluster_provider=kind"],
                 env=env, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "local_cluster_provider is kind, but the kind CLI was not found on PATH" in output, output
    assert "go install sigs.k8s.io/kind@v0.33.0" in output, output
    assert "Create the kind cluster" not in output, output
    assert not state.exists()


def test_the_kind_scenario_installs_the_roles_own_default_chart():
    """The kind scenario's inventory names kube-prometheus-stack's release explicitly (it must
    override the local inventory's test chart, so it cannot fall back to the role's default): it
    must be the role's default."""
    published = yaml.safe_load((ROOT / "molecule/kind/inventory/group_vars/all/published.yml").read_text())
    defaults = yaml.safe_load((ROOT / "roles" / "prometheus_operator" / "defaults" / "main.yml").read_text())
    for name in ("prometheus_operator_chart_ref", "prometheus_operator_chart_version", "prometheus_operator_chart_plain_http"):
        assert published[name] == defaults[name], name
    assert published["backend_image_flavour"] == "alpine"
