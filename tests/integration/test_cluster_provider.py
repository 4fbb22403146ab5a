"""playbooks/cluster.yml with the kind provider says what is missing before it builds or creates
anything, instead of failing halfway through with a missing command."""

import os
import shutil

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
