"""awx/configuration.yml, the AWX objects as code, read against the awx.awx modules that make
those objects (their documented options, types and choices, as ansible-doc gives them) and against
the collection itself: every playbook, inventory and credential a template names exists, the
survey answers are ones the collection accepts, and each workflow approves before it deploys."""

import json
import re
import subprocess
import sys

import pytest
import yaml

from playbook_helpers import ROOT, tool

# The checkout as a collection (collections/ansible_collections/laravel_ops/k8s links to it).
sys.path.insert(0, str(ROOT / "collections"))
from ansible_collections.laravel_ops.k8s.plugins.module_utils import _checks  # noqa: E402

CONFIGURATION = yaml.safe_load((ROOT / "awx" / "configuration.yml").read_text())
# infra.aap_configuration's variable -> the awx.awx module whose options its items are
MODULES = {
    "controller_execution_environments": "execution_environment",
    "controller_credential_types": "credential_type",
    "controller_projects": "project",
    "controller_credentials": "credential",
    "controller_inventories": "inventory",
    "controller_inventory_sources": "inventory_source",
    "controller_templates": "job_template",
    "controller_workflows": "workflow_job_template",
}
# Credential types every AWX has.
BUILT_IN_CREDENTIAL_TYPES = {"OpenShift or Kubernetes API Bearer Token"}
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
PYTHON_TYPES = {"str": str, "bool": bool, "int": int, "list": list, "dict": dict, "path": str, "float": (int, float)}
TEMPLATED = re.compile(r"^\{\{.*\}\}$", re.S)


@pytest.fixture(scope="module")
def module_options():
    names = [f"awx.awx.{module}" for module in MODULES.values()]
    result = subprocess.run([tool("ansible-doc"), "--json", *names], capture_output=True, text=True, check=True)
    docs = json.loads(result.stdout)
    return {name.split(".")[-1]: docs[name]["doc"]["options"] for name in names}


def option_problems(value, options, where):
    """Keys no option (or alias) names, wrong types, values outside the choices, recursively."""
    names = {alias: name for name, spec in options.items() for alias in [name, *spec.get("aliases", [])]}
    problems = []
    for key, item in value.items():
        if key not in names:
            problems.append(f"{where}.{key}: not an option")
            continue
        spec = options[names[key]]
        if isinstance(item, str) and TEMPLATED.match(item):
            continue
        wanted = PYTHON_TYPES.get(spec.get("type", "str"))
        if wanted and not isinstance(item, wanted):
            problems.append(f"{where}.{key}: {type(item).__name__}, the module wants {spec.get('type', 'str')}")
        if "choices" in spec and item not in spec["choices"]:
            problems.append(f"{where}.{key}: {item!r} not in {spec['choices']}")
        if spec.get("suboptions") and isinstance(item, list):
            for index, element in enumerate(item):
                problems += option_problems(element, spec["suboptions"], f"{where}.{key}[{index}]")
    return problems


@pytest.mark.parametrize("variable", MODULES)
def test_every_item_is_made_of_the_module_s_options(variable, module_options):
    items = CONFIGURATION[variable]
    assert items, variable
    problems = []
    for item in items:
        problems += option_problems(item, module_options[MODULES[variable]], f"{variable}[{item['name']}]")
    assert not problems, "\n".join(problems)


def test_the_check_would_catch_an_unknown_option_and_a_wrong_choice(module_options):
    template = dict(CONFIGURATION["controller_templates"][0], job_typ="run", verbosity=9)
    problems = option_problems(template, module_options["job_template"], "t")
    assert "t.job_typ: not an option" in problems
    assert any(p.startswith("t.verbosity: 9 not in") for p in problems)


def names(variable):
    return {item["name"] for item in CONFIGURATION[variable]}


def test_every_name_a_template_uses_exists():
    credentials, inventories = names("controller_credentials"), names("controller_inventories")
    for credential in CONFIGURATION["controller_credentials"]:
        assert credential["credential_type"] in names("controller_credential_types") | BUILT_IN_CREDENTIAL_TYPES
    for source in CONFIGURATION["controller_inventory_sources"]:
        assert source["inventory"] in inventories
        assert (ROOT / source["source_path"]).is_file(), source["source_path"]
    for template in CONFIGURATION["controller_templates"]:
        assert template["inventory"] in inventories, template["name"]
        assert (ROOT / template["playbook"]).is_file(), template["playbook"]
        assert set(template.get("credentials", [])) <= credentials, template["name"]
    for workflow in CONFIGURATION["controller_workflows"]:
        for node in workflow["workflow_nodes"]:
            job = node["unified_job_template"]
            assert job["type"] == "workflow_approval" or job["name"] in names("controller_templates"), job


def test_the_registry_credential_injects_what_the_image_role_reads():
    defaults = (ROOT / "roles" / "image" / "defaults" / "main.yml").read_text()
    registry = next(t for t in CONFIGURATION["controller_credential_types"] if t["name"] == "laravel_ops registry")
    for variable in registry["injectors"]["env"]:
        assert f"lookup('ansible.builtin.env', '{variable}')" in defaults, variable
    secrets = next(t for t in CONFIGURATION["controller_credential_types"]
                   if t["name"] == "laravel_ops application secrets")
    assert set(secrets["injectors"]["extra_vars"]) == {"backend_app_key", "backend_database_password"}
    assert all(field.get("secret") for field in secrets["inputs"]["fields"])


def surveys():
    for item in CONFIGURATION["controller_templates"] + CONFIGURATION["controller_workflows"]:
        if item.get("survey_enabled"):
            yield item["name"], item["survey_spec"]


@pytest.mark.parametrize("name, survey", list(surveys()), ids=[name for name, _ in surveys()])
def test_surveys_ask_only_what_awx_can_ask_and_the_collection_accepts(name, survey):
    for question in survey["spec"]:
        assert question["type"] in SURVEY_TYPES, (name, question["type"])
        if question["variable"] in _checks.BY_NAME:
            answers = question.get("choices", [question.get("default")])
            for answer in answers:
                assert _checks.value_problems(question["variable"], answer) == [], (name, answer)


def test_prod_asks_for_the_migration_approval_where_it_migrates():
    asking = {name for name, survey in surveys()
              if any(q["variable"] == "backend_migrations_approved" for q in survey["spec"])}
    assert {"laravel_ops prod deploy", "laravel_ops prod migrate",
            "laravel_ops prod check, approve, deploy"} <= asking


@pytest.mark.parametrize("environment", CONFIGURATION["laravel_ops_environments"])
def test_each_workflow_checks_then_waits_for_approval_then_deploys(environment):
    workflow = next(w for w in CONFIGURATION["controller_workflows"] if w["name"].startswith(f"laravel_ops {environment} "))
    nodes = {node["identifier"]: node for node in workflow["workflow_nodes"]}
    order, node = [], nodes["check"]
    while True:
        order.append(node["unified_job_template"])
        following = node.get("related", {}).get("success_nodes", [])
        if not following:
            break
        node = nodes[following[0]["identifier"]]
    assert [(job["type"], job["name"].split()[-1]) for job in order][::2] == [
        ("job_template", "check"), ("job_template", "deploy")]
    assert order[1]["type"] == "workflow_approval"
    check = next(t for t in CONFIGURATION["controller_templates"] if t["name"] == order[0]["name"])
    assert (check["job_type"], check["diff_mode"], check["playbook"]) == ("check", True, "deploy.yml")
