"""Static checks of the Debian flavour (docker/Dockerfile.debian, docker/debian/) against the
Alpine Dockerfile it mirrors, hadolint, the autoload shim run with the php CLI, and the
engine/registry/base-image scripts. Nothing here needs a Docker engine."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from image_helpers import APP_DIR, DOCKER_DIR, DOCKERFILE, REPO, SCRIPTS, base_image, run, skip
# image_helpers put tests/docker on the path
from docker_helpers import chained_instructions, instructions, parse_stages

ALPINE = DOCKER_DIR / "Dockerfile"
SHIM = DOCKER_DIR / "debian" / "autoload-shim.php"
# The images beside the application's, each built from docker/<name>/ on the same Debian base.
SERVICE_IMAGES = ["postgresql", "pgbouncer"]
SERVICE_DOCKERFILES = [DOCKER_DIR / name / "Dockerfile" for name in SERVICE_IMAGES]
RUNTIME = {"php": ("33:33", None), "nginx": ("101:101", "8080 9113")}
SHARED_FILES = [
    "docker/nginx/nginx.conf", "docker/nginx/default.conf", "docker/nginx/docker-entrypoint.sh",
    "docker/php/php.ini", "docker/php/php-fpm-healthcheck", "docker/php/docker-entrypoint.sh",
    "docker/php-fpm/www.conf", "docker/php-fpm/zz-docker.conf",
]


def _last(stage: list[tuple[str, str]], keyword: str) -> str | None:
    values = [args for kw, args in stage if kw == keyword]
    return values[-1] if values else None


def _env_keys(stage: list[tuple[str, str]]) -> set[str]:
    keys = set()
    for keyword, args in stage:
        if keyword == "ENV":
            keys |= set(re.findall(r"(\w+)=", args))
    return keys


def _labels(stage: list[tuple[str, str]]) -> set[str]:
    return {key for kw, args in stage if kw == "LABEL" for key in re.findall(r"([\w.]+)=", args)}


@pytest.fixture(scope="module")
def debian():
    return parse_stages(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def alpine():
    return parse_stages(ALPINE.read_text())


# --- hadolint -----------------------------------------------------------------------------------


def _hadolint() -> str:
    for candidate in (Path(sys.executable).parent / "hadolint", REPO / ".tools" / "venv" / "bin" / "hadolint"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("hadolint")
    if found is None:
        skip("hadolint not found next to the Python interpreter, in .tools/venv or on PATH")
    return found


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, *SERVICE_DOCKERFILES], ids=["debian", *SERVICE_IMAGES])
def test_hadolint_reports_nothing(dockerfile):
    result = run([_hadolint(), "--no-color", "--format", "json", str(dockerfile)], check=False)
    findings = json.loads(result.stdout or "[]")
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, *SERVICE_DOCKERFILES], ids=["debian", *SERVICE_IMAGES])
def test_every_hadolint_ignore_is_explained(dockerfile):
    lines = dockerfile.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            above = lines[number - 1].strip()
            assert above.startswith("#") and "hadolint" not in above, f"line {number + 1}: say why above the ignore"


# --- parity with the Alpine image ---------------------------------------------------------------


def test_same_runtime_targets_php_is_default(debian, alpine):
    assert set(RUNTIME) <= set(debian)
    assert list(debian)[-1] == "php" == list(alpine)[-1], "php is the default (last) target in both"


@pytest.mark.parametrize("stage", sorted(RUNTIME))
def test_runtime_user_port_signal_entrypoint_as_alpine(debian, alpine, stage):
    user, port = RUNTIME[stage]
    assert _last(debian[stage], "USER") == user
    assert _last(debian[stage], "EXPOSE") == port
    assert _last(debian[stage], "STOPSIGNAL") == "SIGQUIT"
    assert _last(debian[stage], "ENTRYPOINT") == _last(alpine[stage], "ENTRYPOINT")
    assert _last(debian[stage], "CMD") == _last(alpine[stage], "CMD")
    assert _last(debian[stage], "HEALTHCHECK"), "every runtime image has a HEALTHCHECK"
    assert _labels(debian[stage]) == _labels(alpine[stage]), "the same OCI labels"


def test_php_runtime_sets_the_same_environment(debian, alpine):
    alpine_keys = _env_keys(alpine["php"])
    assert {"PHP_FPM_LISTEN", "PHP_FPM_REQUEST_TERMINATE_TIMEOUT", "PHP_FPM_PROCESS_CONTROL_TIMEOUT"} <= alpine_keys
    assert alpine_keys <= _env_keys(chained_instructions(debian, "php"))


def test_shared_configs_are_copied_not_forked():
    text = DOCKERFILE.read_text()
    for path in SHARED_FILES:
        assert (REPO / path).is_file(), path
        assert re.search(rf"^COPY [^\n]*\b{re.escape(path)}\b", text, re.MULTILINE), f"{path} not copied"
    # Every file the Dockerfile copies from docker/ exists.
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE):
        for item in source.split():
            if item.startswith("docker/"):
                assert (REPO / item).exists(), item


def test_base_image_is_the_one_base_images_sh_imports():
    script = (SCRIPTS / "base-images.sh").read_text()
    version = re.search(r"^BASE_VERSION=(\S+)$", script, re.MULTILINE).group(1)
    image = re.search(r'^IMAGE="([^"]+)"$', script, re.MULTILINE).group(1).replace("$BASE_VERSION", version)
    assert base_image() == image
    for dockerfile in SERVICE_DOCKERFILES:
        assert dockerfile.read_text().count(f"ARG BASE_IMAGE={image}") == 1, dockerfile
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("FROM "):
            assert line.split()[1] in ("${BASE_IMAGE}", "php-os"), line


def test_layers_packages_then_configs_then_code(debian):
    php = chained_instructions(debian, "php")
    kinds = []
    for keyword, args in php:
        if keyword == "RUN" and "apt-get install" in args:
            kinds.append("packages")
        elif keyword == "COPY" and "docker/php" in args:
            kinds.append("configs")
        elif keyword == "COPY" and args.split()[0] == "app/":
            kinds.append("code")
    assert kinds.index("packages") < kinds.index("configs") < kinds.index("code"), kinds
    nginx = debian["nginx"]
    order = [i for i, (kw, args) in enumerate(nginx) if kw in ("RUN", "COPY")]
    install = next(i for i in order if "apt-get install" in nginx[i][1])
    public = next(i for i in order if nginx[i][1].startswith("app/public/"))
    assert install < public and all(nginx[i][0] != "RUN" for i in order if i > public), "static files last"


def test_apt_leaves_nothing_in_layers():
    text = DOCKERFILE.read_text()
    runs = [args for kw, args in instructions(text) if kw == "RUN" and "apt-get" in args]
    assert len(runs) == 2, "one package layer per runtime stage"
    for args in runs:
        assert "--mount=type=cache,target=/var/cache/apt" in args
        assert "--mount=type=cache,target=/var/lib/apt/lists" in args
        assert "--no-install-recommends" in args
    code = " ".join(args for _, args in instructions(text)).lower()
    assert "composer" not in code.replace("composer.json", ""), "no composer in this flavour"


def test_nginx_user_is_created_as_101(debian):
    run_text = " ".join(args for kw, args in debian["nginx"] if kw == "RUN")
    assert "groupadd --system --gid 101 nginx" in run_text
    assert "--uid 101 --gid 101" in run_text
    assert 'test "$(id -u nginx):$(id -g nginx)" = "101:101"' in run_text


def test_php_runtime_has_no_build_only_files(debian):
    php = debian["php"]
    copies = [args for kw, args in php if kw == "COPY"]
    assert any(args.startswith("--from=autoload /app/vendor/") for args in copies)
    assert not any("autoload-shim" in args for args in copies), "the generator stays in its stage"


# --- the autoload shim (php CLI) ----------------------------------------------------------------


def _php() -> str:
    php = shutil.which("php")
    if php is None:
        skip("php CLI not on PATH (apt-get install php-cli): the autoload shim is not run")
    return php


def _app(tmp_path: Path, autoload: dict) -> Path:
    app = tmp_path / "app"
    (app / "app" / "Http").mkdir(parents=True)
    (app / "database" / "seeders").mkdir(parents=True)
    (app / "app" / "Http" / "Thing.php").write_text("<?php\nnamespace App\\Http;\nclass Thing { const OK = 'app'; }\n")
    (app / "database" / "seeders" / "DatabaseSeeder.php").write_text(
        "<?php\nnamespace Database\\Seeders;\nclass DatabaseSeeder { const OK = 'seeder'; }\n")
    (app / "helpers.php").write_text("<?php\nfunction app_helper() { return 'helper'; }\n")
    (app / "composer.json").write_text(json.dumps({"name": "test/app", "autoload": autoload}))
    framework = tmp_path / "framework-autoload.php"
    framework.write_text("<?php\ndefine('FRAMEWORK_LOADED', true);\n")
    return app


def test_autoload_shim_registers_psr4_and_files(tmp_path):
    php = _php()
    app = _app(tmp_path, {"psr-4": {"App\\": "app/", "Database\\Seeders\\": ["database/seeders/"],
                                    "Database\\Factories\\": "database/factories/"},
                          "files": ["helpers.php"]})
    output = app / "vendor" / "autoload.php"
    result = run([php, str(SHIM), str(app / "composer.json"), str(output), str(tmp_path / "framework-autoload.php")])
    assert "3 psr-4 namespace(s)" in result.stderr
    check = run([php, "-r", f"require '{output}'; echo FRAMEWORK_LOADED ? 'fw ' : '', "
                            "App\\Http\\Thing::OK, ' ', Database\\Seeders\\DatabaseSeeder::OK, ' ', app_helper(), ' ', "
                            "var_export(class_exists('App\\Missing'), true);"])
    assert check.stdout == "fw app seeder helper false"
    # The generated file is relative to itself: the application can move.
    moved = tmp_path / "moved"
    shutil.copytree(app, moved)
    check = run([php, "-r", f"require '{moved / 'vendor' / 'autoload.php'}'; echo App\\Http\\Thing::OK;"])
    assert check.stdout == "app"


def test_autoload_shim_of_the_example_app(tmp_path):
    php = _php()
    framework = tmp_path / "framework.php"
    framework.write_text("<?php\n")
    output = tmp_path / "vendor" / "autoload.php"
    run([php, str(SHIM), str(APP_DIR / "composer.json"), str(output), str(framework)])
    text = output.read_text()
    composer = json.loads((APP_DIR / "composer.json").read_text())
    for prefix in composer["autoload"]["psr-4"]:
        # var_export() doubles the backslash of each namespace separator.
        assert "'" + prefix.replace("\\", "\\\\") + "' =>" in text, prefix
    assert f"require_once '{framework}'" in text


@pytest.mark.parametrize("autoload, message", [
    ({"classmap": ["lib/"]}, "autoload.classmap is not supported"),
    ({"psr-0": {"Legacy_": "lib/"}}, "autoload.psr-0 is not supported"),
    ({"psr-4": {"App": "app/"}}, "must end with a backslash"),
    ({"psr-4": {"App\\": "../elsewhere/"}}, "must be relative to the application"),
])
def test_autoload_shim_refuses_what_it_cannot_honour(tmp_path, autoload, message):
    php = _php()
    app = _app(tmp_path, autoload)
    result = run([php, str(SHIM), str(app / "composer.json"), str(tmp_path / "out.php"),
                  str(tmp_path / "framework-autoload.php")], check=False)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "out.php").exists()


def test_autoload_shim_needs_the_framework(tmp_path):
    result = run([_php(), str(SHIM), str(APP_DIR / "composer.json"), str(tmp_path / "a.php"),
                  str(tmp_path / "missing.php")], check=False)
    assert result.returncode == 1 and "is php-laravel-framework installed?" in result.stderr


# --- nginx-healthcheck --------------------------------------------------------------------------


def test_nginx_healthcheck_exit_codes(tmp_path):
    """Against a tiny HTTP server on a free loopback port: 200 -> 0, 503 -> 1, nothing -> 2."""
    import http.server
    import socket
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200 if self.path == "/nginx-health" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = str(DOCKER_DIR / "debian" / "nginx-healthcheck")
    try:
        port = str(server.server_address[1])
        assert run(["bash", script], check=False, env={"NGINX_HEALTHCHECK_PORT": port}).returncode == 0
        bad = run(["bash", script], check=False, env={"NGINX_HEALTHCHECK_PORT": port, "NGINX_HEALTHCHECK_PATH": "/x"})
        assert bad.returncode == 1 and "503" in bad.stderr
    finally:
        server.shutdown()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = str(probe.getsockname()[1])
    assert run(["bash", script], check=False, env={"NGINX_HEALTHCHECK_PORT": free}).returncode == 2


# --- the scripts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["docker-engine.sh", "registry.sh", "base-images.sh"])
def test_scripts_are_strict_and_log_with_a_prefix(name):
    path = SCRIPTS / name
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    prefix = "[" + name.removesuffix(".sh") + "]"
    assert f"printf '{prefix} %s\\n' \"$*\" >&2" in text, f"log() writes '{prefix} ...' to stderr"
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0
    shellcheck = shutil.which("shellcheck")
    if shellcheck:
        result = run([shellcheck, "-x", str(path)], check=False)
        assert result.returncode == 0, result.stdout
    assert path.stat().st_mode & 0o111, f"{name} is executable"


def test_scripts_cache_by_version():
    engine = (SCRIPTS / "docker-engine.sh").read_text()
    assert re.search(r'^BUILDX_VERSION="\$\{BUILDX_VERSION:-v\d+\.\d+\.\d+\}"$', engine, re.MULTILINE)
    assert '$CACHE/buildx-$BUILDX_VERSION' in engine
    assert '"insecure-registries"' in engine and 'INSECURE_REGISTRY="127.0.0.1:5000"' in engine
    base = (SCRIPTS / "base-images.sh").read_text()
    assert "debian-$SUITE-minbase-$BASE_VERSION.tar" in base
    assert "Acquire::Check-Valid-Until" in base
    registry = (SCRIPTS / "registry.sh").read_text()
    assert "htpasswd -cbB" in registry and "LARAVEL_OPS_REGISTRY_PASSWORD" in registry
    assert "enabled: true" in registry.split("delete:", 1)[1].split("\n", 2)[1]
