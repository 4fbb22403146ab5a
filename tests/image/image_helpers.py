"""Helpers of the Debian image tests (tests/image/): the Docker engine, the build context the
image role lays out, image builds, HTTP from the host to a container."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docker"))
from docker_helpers import APP_DIR, DOCKER_DIR, REPO, skip as skip_with_reason  # noqa: E402  pylint: disable=wrong-import-position

DOCKERFILE = DOCKER_DIR / "Dockerfile.debian"
SCRIPTS = REPO / "scripts"
HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("LARAVEL_OPS_CACHE") or Path.home() / ".cache" / "laravel-ops")
REGISTRY = "127.0.0.1:5000"


# Set by the project's test command (scripts/test.sh) on the cluster, registry and engine it brought
# up itself: every condition a live test would skip for is then one the project controls, and
# pytest exits 0 when everything skips.
SKIPS_FAIL = os.environ.get("LARAVEL_OPS_LIVE_SKIPS_FAIL") == "1"


def skip(reason: str) -> None:
    """Skips with the reason printed (plain `pytest` output shows it, not only -rs), or fails with
    it on the project's own environment."""
    if SKIPS_FAIL:
        pytest.fail(f"would skip on the project's own cluster, whose set-up should have made this hold: {reason}")
    skip_with_reason(reason)


def run(args: list[str], *, check: bool = True, timeout: float = 120, env: dict | None = None,
        input_text: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, input=input_text)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout[-4000:]}"
                             f"\nstderr:\n{result.stderr[-4000:]}")
    return result


def base_image() -> str:
    """The BASE_IMAGE default of Dockerfile.debian (what scripts/base-images.sh imports)."""
    match = re.search(r"^ARG BASE_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match, "Dockerfile.debian declares ARG BASE_IMAGE=<image> before its first stage"
    return match.group(1)


def require_engine() -> str:
    """Skips (with the reason) unless a Docker engine answers and has buildx; returns the CLI."""
    docker = shutil.which("docker")
    if docker is None:
        skip("no docker CLI on PATH (scripts/docker-engine.sh installs Debian's docker.io)")
    info = run([docker, "info", "--format", "{{.ServerVersion}}"], check=False, timeout=30)
    if info.returncode != 0:
        skip(f"no Docker engine answers (run scripts/docker-engine.sh as root): {info.stderr.strip()[:200]}")
    if run([docker, "buildx", "version"], check=False, timeout=30).returncode != 0:
        skip("the docker CLI has no buildx plugin (scripts/docker-engine.sh builds it)")
    return docker


def require_base_image(docker: str) -> str:
    image = base_image()
    if run([docker, "image", "inspect", image], check=False, timeout=30).returncode != 0:
        skip(f"base image {image} is not in the engine (run scripts/base-images.sh; no registry is "
             "reachable to pull one)")
    return image


def layout_context(destination: Path, app_dir: Path = APP_DIR) -> Path:
    """The build context the image role assembles: app/ and docker/ (with each Dockerfile's ignore file)."""
    shutil.copytree(app_dir, destination / "app", ignore=shutil.ignore_patterns("vendor", "node_modules", ".git"))
    shutil.copytree(DOCKER_DIR, destination / "docker")
    return destination


def tree_hash(*paths: Path) -> str:
    digest = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build(docker: str, context: Path, dockerfile: Path, tag: str, target: str | None = None,
          build_args: dict[str, str] | None = None, timeout: float = 900) -> float:
    """docker buildx build (docker driver: the image lands in the engine); returns seconds."""
    args = [docker, "buildx", "build", "--progress", "plain", "-f", str(dockerfile), "-t", tag]
    if target:
        args += ["--target", target]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    started = time.monotonic()
    run([*args, str(context)], timeout=timeout)
    return time.monotonic() - started


def image_size(docker: str, image: str) -> int:
    return int(run([docker, "image", "inspect", "--format", "{{.Size}}", image]).stdout.strip())


def inspect(docker: str, what: str) -> dict:
    return json.loads(run([docker, "inspect", what]).stdout)[0]


def http_get(url: str, timeout: float = 15, headers: dict | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def wait_for(what: str, predicate, timeout: float = 60, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, AssertionError) as error:  # connection refused, not ready yet
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def credentials() -> tuple[str, str]:
    """The local registry's login: from the environment, else scripts/registry.sh's file."""
    user = os.environ.get("LARAVEL_OPS_REGISTRY_USERNAME")
    password = os.environ.get("LARAVEL_OPS_REGISTRY_PASSWORD")
    if not (user and password):
        env_file = CACHE / "registry" / "credentials.env"
        if not env_file.is_file():
            skip(f"no registry credentials (LARAVEL_OPS_REGISTRY_* unset and no {env_file}; run scripts/registry.sh)")
        values = dict(re.findall(r"^export (\w+)=(\S+)$", env_file.read_text(), re.MULTILINE))
        user, password = values["LARAVEL_OPS_REGISTRY_USERNAME"], values["LARAVEL_OPS_REGISTRY_PASSWORD"]
    return user, password


def require_registry() -> tuple[str, str]:
    """The local registry's login, once the registry answers 200 to it; else the test is skipped."""
    user, password = credentials()
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        status, _, _ = http_get(f"http://{REGISTRY}/v2/", timeout=5, headers={"Authorization": auth})
    except OSError as error:
        skip(f"no registry answers on {REGISTRY} (run scripts/registry.sh): {error}")
    if status != 200:
        skip(f"the registry on {REGISTRY} answered {status} to the credentials (run scripts/registry.sh)")
    return user, password
