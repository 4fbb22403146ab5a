"""The local cluster is chosen by what the machine has (or as asked), the kind provider of
playbooks/cluster.yml says what is missing before it builds or creates anything, and Molecule
deploys what the chosen cluster runs."""

import os
import shutil

import pytest
import yaml

from playbook_helpers import ROOT, offline_env, run, tool


def test_kind_without_its_cli_is_refused_naming_what_to_install(tmp_path):
    env = _without_kind(offline_env(tmp_path))
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


def _without_kind(env):
    """The tools' own directories and the system's, without any directory that holds a kind CLI."""
    env["PATH"] = os.pathsep.join(d for d in env["PATH"].split(os.pathsep) if d and not os.path.exists(os.path.join(d, "kind")))
    assert shutil.which("kind", path=env["PATH"]) is None
    return env


def _with_kind_and_docker(env, tmp_path):
    """A kind CLI and a docker whose `info` answers, first on PATH: what the choice looks for."""
    bin_dir = tmp_path / "laptop-bin"
    bin_dir.mkdir()
    for name in ("kind", "docker"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / name).chmod(0o755)
    env["PATH"] = os.pathsep.join([str(bin_dir), env["PATH"]])
    return env


@pytest.mark.parametrize("place, asked, expected, why", [
    ("without kind", "auto", "local", "the kind CLI and a Docker engine do not both answer"),
    ("with kind and docker", "auto", "kind", "the kind CLI and a Docker engine answer"),
    ("with kind and docker", "local", "local", "asked for"),
    ("without kind", "kind", "kind", "asked for"),
])
def test_the_cluster_is_chosen_by_what_the_machine_has_unless_asked(tmp_path, place, asked, expected, why):
    env = offline_env(tmp_path)
    env = _without_kind(env) if place == "without kind" else _with_kind_and_docker(env, tmp_path)
    env["LARAVEL_OPS_CLUSTER_PROVIDER"] = asked
    result = run([str(ROOT / "scripts" / "cluster-provider.sh")], env=env)
    assert result.stdout.strip() == expected
    assert result.stderr.startswith(f"{why};" if asked == "auto" else f"{why}: LARAVEL_OPS_CLUSTER_PROVIDER"), result.stderr


def test_an_unknown_cluster_provider_is_refused_naming_the_choices(tmp_path):
    env = offline_env(tmp_path)
    env["LARAVEL_OPS_CLUSTER_PROVIDER"] = "minikube"
    result = run([str(ROOT / "scripts" / "cluster-provider.sh")], env=env, check=False)
    assert result.returncode != 0
    assert "LARAVEL_OPS_CLUSTER_PROVIDER is 'minikube'; allowed: auto, kind, local" in result.stderr


@pytest.mark.parametrize("asked, flavour, chart", [
    ("kind", "alpine", "kube-prometheus-stack"),
    ("local", "debian", "oci://127.0.0.1:5000/charts/kube-prometheus-stack"),
])
def test_molecule_deploys_what_the_chosen_cluster_runs(tmp_path, asked, flavour, chart):
    """Molecule's steps begin with molecule/shared/place.yml: on kind's published node image they
    deploy the Alpine flavour and kube-prometheus-stack from its repository, on the project's own
    cluster what the local inventory says."""
    env = offline_env(tmp_path)
    env["LARAVEL_OPS_CLUSTER_PROVIDER"] = asked
    playbook = tmp_path / "place-then-show.yml"
    playbook.write_text(yaml.safe_dump([
        {"name": "Settle", "ansible.builtin.import_playbook": str(ROOT / "molecule" / "shared" / "place.yml")},
        {"name": "Show", "hosts": "backend_cluster", "gather_facts": False, "tasks": [
            {"name": "Show", "ansible.builtin.debug": {
                "msg": "flavour={{ backend_image_flavour }} chart={{ prometheus_operator_chart_ref }}"}}]},
    ]))
    result = run([tool("ansible-playbook"), str(playbook), "-i", str(ROOT / "inventories" / "local")], env=env)
    said = " ".join(result.stdout.split())  # the callback wraps long messages
    assert f"flavour={flavour} chart={chart}" in said, result.stdout
    assert ("published node image" if asked == "kind" else "of the node image built here") in said, result.stdout
    assert f"asked for: LARAVEL_OPS_CLUSTER_PROVIDER (or the role variable local_cluster_provider) is {asked}" in said, result.stdout


def test_the_published_place_installs_the_roles_own_default_chart():
    """vars/published.yml names kube-prometheus-stack's release explicitly (it must override the
    local inventory's test chart, so it cannot fall back to the role's default): it must be the
    role's default."""
    published = yaml.safe_load((ROOT / "molecule/shared/vars/published.yml").read_text())
    defaults = yaml.safe_load((ROOT / "roles" / "prometheus_operator" / "defaults" / "main.yml").read_text())
    for name in ("prometheus_operator_chart_ref", "prometheus_operator_chart_version", "prometheus_operator_chart_plain_http"):
        assert published[name] == defaults[name], name
    assert published["backend_image_flavour"] == "alpine"
