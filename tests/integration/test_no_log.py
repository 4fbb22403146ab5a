"""Every task that handles a secret runs with no_log.

A secret is an inventory variable the settings table marks secret, a role option its argument
specs mark no_log, or anything a role's vars/defaults derive from one of those. A task handles
one when its module arguments, its loop or its task-level vars name one; such a task must say
`no_log: true`. The one exception is a secret given as a whole to an option that the plugin's
own argument spec declares no_log (Ansible keeps those out of every result). Removing no_log
from any other such task fails this test.
"""

import re
from pathlib import Path

import pytest
import yaml

from playbook_helpers import ROOT

TASK_FOLDERS = [ROOT / "roles", ROOT / "playbooks", ROOT / "molecule"]
# Keys of a task that are not what the task sends to its module.
NOT_ARGUMENTS = {"name", "when", "tags", "register", "no_log", "changed_when", "failed_when", "check_mode",
                 "loop_control", "delegate_to", "run_once", "become", "environment", "until", "retries",
                 "delay", "ignore_errors", "notify", "listen", "diff", "module_defaults", "block",
                 "rescue", "always"}
NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def settings_secrets():
    text = (ROOT / "plugins" / "module_utils" / "_settings.py").read_text()
    return set(re.findall(r"name='(backend_\w+)'[^)]*?secret=True", text, re.DOTALL))


def role_option_secrets():
    found = set()
    for specs in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        for entry in yaml.safe_load(specs.read_text())["argument_specs"].values():
            found.update(name for name, option in entry.get("options", {}).items() if option.get("no_log"))
    return found


def derived(secrets):
    """Names that role vars/defaults define from a secret, to a fixed point."""
    definitions = {}
    for folder in ("vars", "defaults"):
        for path in (ROOT / "roles").glob(f"*/{folder}/main.yml"):
            definitions.update(yaml.safe_load(path.read_text()) or {})
    secrets = set(secrets)
    while True:
        more = {name for name, value in definitions.items()
                if name not in secrets and NAME.findall(yaml.safe_dump(value)) and
                set(NAME.findall(yaml.safe_dump(value))) & secrets}
        if not more:
            return secrets
        secrets |= more


SECRETS = derived(settings_secrets() | role_option_secrets())


def own_plugin_no_log_options():
    """{fully qualified action name: options its argument spec declares no_log}."""
    found = {}
    for path in (ROOT / "plugins" / "action").glob("*.py"):
        text = path.read_text()
        block = text.split("ARGUMENT_SPEC = dict(", 1)[1].split("\n)\n", 1)[0] if "ARGUMENT_SPEC" in text else ""
        found["laravel_ops.k8s." + path.stem] = set(re.findall(r"^    (\w+)=dict\([^)]*no_log=True", block, re.MULTILINE))
    return found


NO_LOG_OPTIONS = own_plugin_no_log_options()


def tasks_of(node, path):
    """(task, file) for every task in a tasks or playbook file, blocks and plays included."""
    if isinstance(node, list):
        for item in node:
            yield from tasks_of(item, path)
    elif isinstance(node, dict):
        if "hosts" in node or "import_playbook" in node or "ansible.builtin.import_playbook" in node:
            for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from tasks_of(node.get(section, []), path)
            return
        if any(key in node for key in ("block", "rescue", "always")):
            for section in ("block", "rescue", "always"):
                yield from tasks_of(node.get(section, []), path)
            return
        yield node, path


def task_files():
    for folder in TASK_FOLDERS:
        for path in sorted(folder.rglob("*.yml")):
            if any(part in ("meta", "defaults", "vars") for part in path.relative_to(folder).parts):
                continue
            data = yaml.safe_load(path.read_text())
            if isinstance(data, list):
                yield path, data


EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def evaluated(node):
    """The text Ansible evaluates in a task's arguments: the Jinja of each string, or the whole string
    where it has none (a conditional such as an assert's `that`); prose around the Jinja (a message
    naming a variable) handles nothing."""
    if isinstance(node, dict):
        return " ".join(f"{evaluated(k)} {evaluated(v)}" for k, v in node.items())
    if isinstance(node, list):
        return " ".join(evaluated(item) for item in node)
    if isinstance(node, str):
        return " ".join(EXPRESSION.findall(node)) or node
    return ""


def handled_secrets(task):
    arguments = {k: v for k, v in task.items() if k not in NOT_ARGUMENTS}
    for action, options in NO_LOG_OPTIONS.items():
        if isinstance(arguments.get(action), dict):
            arguments[action] = {k: v for k, v in arguments[action].items()
                                 if k not in options or not re.fullmatch(r"\{\{ *\w+ *\}\}", str(v))}
    return sorted(set(NAME.findall(evaluated(arguments))) & SECRETS)


def test_the_plugins_no_log_options_are_found():
    assert NO_LOG_OPTIONS["laravel_ops.k8s.registry_image_info"] == {"password"}


def test_the_secret_names_are_found():
    assert {"backend_app_key", "backend_database_password", "image_registry_password",
            "prometheus_operator_chart_registry_password"} <= SECRETS
    assert "__release_app_secret_data" in SECRETS, "derived from the table's secrets through vars/main.yml"


@pytest.mark.parametrize("path, data", list(task_files()), ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else "")
def test_tasks_handling_a_secret_have_no_log(path, data):
    missing = []
    for task, _where in tasks_of(data, path):
        names = handled_secrets(task)
        if names and task.get("no_log") is not True:
            missing.append(f"{task.get('name', '(unnamed)')}: {', '.join(names)}")
    assert not missing, f"{path.relative_to(ROOT)}: tasks handling secrets without no_log: true: {missing}"


def test_the_check_would_catch_a_removed_no_log():
    store = ROOT / "roles" / "release" / "tasks" / "prepare.yml"
    tasks = yaml.safe_load(store.read_text())
    secret_task = next(t for t in tasks if t.get("name") == "Store the application secrets")
    assert secret_task["no_log"] is True
    assert handled_secrets({k: v for k, v in secret_task.items() if k != "no_log"}), \
        "without no_log the Secret task would still be seen handling a secret"
