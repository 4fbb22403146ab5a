"""Fixtures of the integration tests; the helpers live in playbook_helpers.py."""

import pytest
import yaml

from playbook_helpers import ENVIRONMENTS, MONITORING_APIS, PINNED, ROOT, ansible_playbook, run, tool


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """Values files and manifests of every environment, rendered through playbooks/render.yml."""
    out = tmp_path_factory.mktemp("rendered")
    result = {}
    for environment in ENVIRONMENTS:
        ansible_playbook(ROOT / "playbooks" / "render.yml", environment, out,
                         extra_vars={"render_output_dir": str(out), **PINNED.get(environment, {})})
        values_file = out / f"values-{environment}.yaml"
        manifests = run([tool("helm"), "template", "backend", str(ROOT / "charts" / "backend"),
                         "--namespace", f"backend-{environment}", "-f", str(values_file), *MONITORING_APIS]).stdout
        result[environment] = {
            "values_file": values_file,
            "values": yaml.safe_load(values_file.read_text()),
            "manifests_text": manifests,
            "manifests": [doc for doc in yaml.safe_load_all(manifests) if doc],
        }
    return result
