"""The scripts the local_cluster role runs report what they changed as one JSON line on stdout
(scripts/lib/status.sh), which the role reads instead of matching their log text."""

import json
import subprocess
import textwrap

import yaml

from playbook_helpers import ROOT

STATUS = ROOT / "scripts" / "lib" / "status.sh"


def script(path, body):
    path.write_text("#!/usr/bin/env bash\nset -euo pipefail\n"
                    "log() { printf '[test] %s\\n' \"$*\" >&2; }\n"
                    f"source {STATUS}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def run(path):
    return subprocess.run([str(path)], capture_output=True, text=True, timeout=30)


def test_changes_are_reported_and_everything_else_goes_to_stderr(tmp_path):
    child = script(tmp_path / "child.sh", 'changed "imported the base image"\n')
    parent = script(tmp_path / "parent.sh", f"""
        echo "a tool's own output"
        changed "starting dockerd"
        {child}
        log "nothing to do for the registry"
    """)
    result = run(parent)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"changed": True,
                                         "changes": ["starting dockerd", "imported the base image"]}
    assert "a tool's own output" in result.stderr
    assert "[test] starting dockerd" in result.stderr


def test_no_change_is_reported_as_such(tmp_path):
    result = run(script(tmp_path / "idle.sh", 'log "engine already answers"\n'))
    assert json.loads(result.stdout) == {"changed": False, "changes": []}


def test_a_failed_script_reports_nothing_and_keeps_its_status(tmp_path):
    result = run(script(tmp_path / "fails.sh", 'changed "installing x"\nexit 3\n'))
    assert result.returncode == 3
    assert result.stdout == ""


def test_a_script_s_own_exit_trap_keeps_the_report(tmp_path):
    result = run(script(tmp_path / "trap.sh", """
        WORK="$(mktemp -d)"
        trap 'status_end $?; rm -rf "$WORK"' EXIT
        changed "chart: packaged"
    """))
    assert json.loads(result.stdout)["changes"] == ["chart: packaged"]


def test_every_script_the_role_runs_reports():
    role = ROOT / "roles" / "local_cluster"
    scripts = yaml.safe_load((role / "vars" / "main.yml").read_text())["__local_cluster_scripts"]
    names = {step["argv"][0] for steps in scripts.values() for step in steps}
    assert {"scripts/docker-engine.sh", "cluster/kind/node-image.sh", "cluster/kind/up.sh"} <= names
    for name in sorted(names):
        text = (ROOT / name).read_text()
        # cluster/ scripts source it through cluster/lib/common.sh
        assert "lib/status.sh" in text or "lib/common.sh" in text, name
    assert "lib/status.sh" in (ROOT / "cluster" / "lib" / "common.sh").read_text()
    task = (role / "tasks" / "script.yml").read_text()
    assert "stderr" not in task
    assert task.count("| from_json).changed") == 1
