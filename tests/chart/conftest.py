"""Fixtures of the charts/backend tests (helpers live in chart_helpers.py)."""

from __future__ import annotations

import subprocess

import pytest

from chart_helpers import FULLNAME, HELM, PROMTOOL_MISSING, SKIP_REASON, find_promtool, one, render


def pytest_report_header(config):
    promtool = find_promtool()
    promtool_line = (f"chart tests: promtool {promtool}" if promtool else
                     f"chart tests: {PROMTOOL_MISSING}: alert and dashboard query tests skipped")
    if HELM is None:
        return [f"chart tests: {SKIP_REASON}", promtool_line]
    version = subprocess.run([HELM, "version", "--short"], capture_output=True, text=True).stdout.strip()
    return [f"chart tests: helm {HELM} ({version})", promtool_line]


@pytest.fixture(scope="session")
def default_docs() -> list[dict]:
    """The chart's defaults (plus the dummy secret), rendered once."""
    return render()


@pytest.fixture(scope="session")
def deployment(default_docs) -> dict:
    return one(default_docs, "Deployment", FULLNAME)


@pytest.fixture(scope="session")
def pod(deployment) -> dict:
    return deployment["spec"]["template"]["spec"]
