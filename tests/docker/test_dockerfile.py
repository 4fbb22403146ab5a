"""Static checks of docker/Dockerfile and docker/Dockerfile.dockerignore, hadolint, and the real
Alpine build when a Docker engine and the base images are available (otherwise skipped,
with the reason printed)."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docker_helpers import APP_DIR, DOCKER_DIR, REPO, Stage, global_args, instructions, parse_stages, skip

DOCKERFILE = DOCKER_DIR / "Dockerfile"
DOCKERIGNORE = DOCKER_DIR / "Dockerfile.dockerignore"

RUNTIME_STAGES = {"php": "33:33", "nginx": "101:101"}


@pytest.fixture(scope="module")
def dockerfile_text() -> str:
    return DOCKERFILE.read_text()


@pytest.fixture(scope="module")
def stages(dockerfile_text: str) -> dict[str, Stage]:
    found = parse_stages(dockerfile_text)
    unnamed = [found[name].base for name in found if name.startswith("#")]
    assert not unnamed, f"every stage is named (a build can target it): FROM {unnamed}"
    return found


def _index(steps: list[tuple[str, str]], predicate) -> int:
    for position, (keyword, args) in enumerate(steps):
        if predicate(keyword, args):
            return position
    return -1


# --- hadolint ---------------------------------------------------------------------------------


def _find_hadolint() -> str | None:
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.exists():
        return str(beside_python)
    in_tools = REPO / ".tools" / "venv" / "bin" / "hadolint"
    if in_tools.exists():
        return str(in_tools)
    return shutil.which("hadolint")


def test_hadolint_reports_nothing():
    hadolint = _find_hadolint()
    if hadolint is None:
        skip("hadolint not found next to the Python interpreter, in .tools/venv or on PATH")
    # From the repository root on purpose: the result must not depend on a config file
    # being picked up from the working directory (ignores are inline, with reasons).
    result = subprocess.run(
        [hadolint, "--no-color", "--format", "json", str(DOCKERFILE)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=2)
    assert result.returncode == 0, result.stderr


def test_every_hadolint_ignore_is_explained(dockerfile_text: str):
    lines = dockerfile_text.splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            above = lines[number - 1].strip() if number else ""
            assert above.startswith("#") and "hadolint" not in above, (
                f"line {number + 1}: '{line.strip()}' needs a comment above it saying why"
            )


# --- structure --------------------------------------------------------------------------------


def test_runtime_stages_exist_and_php_is_the_default_target(stages):
    for name in RUNTIME_STAGES:
        assert name in stages, f"runtime stage {name} missing; stages: {list(stages)}"
    assert list(stages)[-1] == "php", "the last stage (default target) should be the php runtime"


def test_base_images_are_arg_pinned(dockerfile_text: str):
    """Tag for the reader, digest for the build (tests/docker/test_image_pins.py checks more)."""
    args = global_args(dockerfile_text)
    digest = r"@sha256:[0-9a-f]{64}"
    assert re.fullmatch(r"php:8\.\d+-fpm-alpine3\.\d+" + digest, args.get("PHP_IMAGE", "")), args
    assert re.fullmatch(r"nginx:1\.\d+(\.\d+)?-alpine[\d.]*" + digest, args.get("NGINX_IMAGE", "")), args
    assert re.fullmatch(r"composer:2(\.\d+)*" + digest, args.get("COMPOSER_IMAGE", "")), args
    assert re.fullmatch(r"node:\d+-alpine[\d.]*" + digest, args.get("NODE_IMAGE", "")), args
    assert args.get("BUILD_FRONTEND") == "false", "front-end build is opt-in"


@pytest.mark.parametrize("stage,user", sorted(RUNTIME_STAGES.items()))
def test_runtime_stage_runs_as_numeric_user_and_stops_gracefully(stages, stage, user):
    steps = stages[stage]
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users, f"{stage}: no USER"
    assert users[-1] == user, f"{stage}: final USER is {users[-1]!r}, expected {user!r} (numeric)"
    signals = [args for keyword, args in steps if keyword == "STOPSIGNAL"]
    assert signals == ["SIGQUIT"], f"{stage}: STOPSIGNAL {signals}"


# php-fpm listens on loopback only (nginx is in the same pod): it exposes nothing.
@pytest.mark.parametrize("stage,ports", [("php", None), ("nginx", "8080 9113")])
def test_runtime_stage_exposes_port_and_has_healthcheck(stages, stage, ports):
    steps = stages[stage]
    exposed = [args for keyword, args in steps if keyword == "EXPOSE"]
    assert exposed == ([ports] if ports else []), f"{stage}: EXPOSE {exposed}"
    checks = [args for keyword, args in steps if keyword == "HEALTHCHECK"]
    assert len(checks) == 1, f"{stage}: HEALTHCHECK {checks}"
    if stage == "php":
        assert "/usr/local/bin/php-fpm-healthcheck" in checks[0]
    else:
        assert "/nginx-health" in checks[0]


@pytest.mark.parametrize("stage", sorted(RUNTIME_STAGES))
def test_runtime_stage_holds_no_build_tools(stages, stage):
    forbidden = re.compile(
        r"\b(build-base|gcc|g\+\+|make|autoconf|musl-dev|libc-dev|PHPIZE_DEPS|[\w.-]+-dev)\b"
        r"|\bcomposer\b|\bnpm\b|\bpecl\b|docker-php-ext-install"
    )
    for keyword, args in stages[stage]:
        if keyword == "RUN":
            match = forbidden.search(args)
            assert match is None, f"{stage}: build tool {match.group(0)!r} in RUN {args}"
        if keyword in ("COPY", "ADD"):
            assert "--from=composer" not in args, f"{stage}: composer copied into runtime: {args}"
            assert "/usr/bin/composer" not in args and "/usr/local/bin/composer" not in args


def test_extensions_are_compiled_in_a_throwaway_stage(stages):
    build = stages["php-extensions"]
    run = " ".join(args for keyword, args in build if keyword == "RUN")
    # OPcache comes with the php image: it is not compiled here (test_image_pins.py).
    assert "docker-php-ext-install" in run and "pdo_pgsql" in run
    assert "apcu" in run
    php = stages["php"]
    assert any(k == "COPY" and "--from=php-extensions" in a for k, a in php)


def test_vendor_stage_copies_manifests_before_code(stages):
    deps = stages["vendor-deps"]
    manifests = _index(deps, lambda k, a: k == "COPY" and "app/composer.json" in a)
    install = _index(deps, lambda k, a: k == "RUN" and "composer install" in a)
    assert manifests >= 0 and install > manifests, "composer.json copied, then composer install"
    assert _index(deps, lambda k, a: k == "COPY" and re.search(r"(^|\s)app/?\s", a + " ")) == -1, (
        "vendor-deps must not see the application code (layer cache)"
    )
    install_args = deps[install][1]
    for flag in ("--no-dev", "--prefer-dist", "--no-scripts", "--no-autoloader"):
        assert flag in install_args, f"composer install without {flag}"
    # composer.lock is optional: copied with a glob that may match nothing.
    assert "app/composer.lock*" in deps[manifests][1]

    vendor = stages["vendor"]
    assert vendor.base == "vendor-deps", "vendor builds on vendor-deps"
    code = _index(vendor, lambda k, a: k == "COPY" and a.split()[0] in ("app/", "app"))
    dump = _index(vendor, lambda k, a: k == "RUN" and "dump-autoload" in a)
    assert code >= 0 and dump > code
    for flag in ("--optimize", "--classmap-authoritative", "--no-dev"):
        assert flag in vendor[dump][1]


def test_php_runtime_layers_put_dependencies_before_code(stages):
    php = stages["php"]
    deps = _index(php, lambda k, a: k == "COPY" and "--from=vendor-deps" in a)
    code = _index(php, lambda k, a: k == "COPY" and a.split()[0] in ("app/", "app"))
    autoload = _index(php, lambda k, a: k == "COPY" and "--from=vendor " in a + " ")
    assert 0 <= deps < code < autoload, (deps, code, autoload)
    config = _index(php, lambda k, a: k == "COPY" and "docker/php/php.ini" in a)
    assert 0 <= config < deps, "configuration layers come before dependency and code layers"


def test_php_runtime_uid_33_and_writable_paths(stages):
    php = stages["php"]
    run = " ".join(args for keyword, args in php if keyword == "RUN")
    assert "addgroup -S -g 33 www-data" in run
    assert "adduser -S -D -H -u 33 -G www-data" in run
    assert ("WORKDIR", "/var/www/html") in php
    chowns = re.findall(r"chown -R 33:33 ([^&;]+)", run)
    assert chowns, "storage/ and bootstrap/cache are given to UID 33"
    for target in chowns:
        assert set(target.split()) <= {"storage", "bootstrap/cache"}, f"only storage/ and bootstrap/cache are writable: {target}"


def test_php_runtime_sets_every_variable_the_fpm_configs_read(stages):
    used = set()
    for conf in (DOCKER_DIR / "php-fpm").glob("*.conf"):
        settings = "\n".join(
            line for line in conf.read_text().splitlines() if not line.lstrip().startswith(";")
        )
        used |= set(re.findall(r"\$\{([A-Z0-9_]+)\}", settings))
    assert {"PHP_FPM_REQUEST_TERMINATE_TIMEOUT", "PHP_FPM_PROCESS_CONTROL_TIMEOUT"} <= used
    env_text = " ".join(args for keyword, args in stages["php"] if keyword == "ENV")
    defaults = dict(re.findall(r"([A-Z0-9_]+)=(\S+)", env_text))
    for variable in sorted(used):
        assert variable in defaults, f"{variable} is read by the php-fpm config but has no ENV default"
    assert defaults["PHP_FPM_REQUEST_TERMINATE_TIMEOUT"] == "30"
    assert defaults["PHP_FPM_PROCESS_CONTROL_TIMEOUT"] == "40"
    assert int(defaults["PHP_FPM_PROCESS_CONTROL_TIMEOUT"]) > int(defaults["PHP_FPM_REQUEST_TERMINATE_TIMEOUT"])


def test_timeouts_are_coherent_between_nginx_and_php_fpm(stages):
    conf = (DOCKER_DIR / "nginx" / "default.conf").read_text()
    read_timeout = int(re.search(r"fastcgi_read_timeout\s+(\d+)s;", conf).group(1))
    env_text = " ".join(args for keyword, args in stages["php"] if keyword == "ENV")
    terminate = int(re.search(r"PHP_FPM_REQUEST_TERMINATE_TIMEOUT=(\d+)", env_text).group(1))
    assert read_timeout >= terminate
    # Everything must be done within the chart's terminationGracePeriodSeconds (60).
    process_control = int(re.search(r"PHP_FPM_PROCESS_CONTROL_TIMEOUT=(\d+)", env_text).group(1))
    assert process_control < 60
    nginx_main = (DOCKER_DIR / "nginx" / "nginx.conf").read_text()
    shutdown = int(re.search(r"worker_shutdown_timeout\s+(\d+)s;", nginx_main).group(1))
    assert shutdown < 60


def test_nginx_runtime_uses_tmp_only_and_ships_public_files(stages):
    nginx = stages["nginx"]
    copies = [args for keyword, args in nginx if keyword == "COPY"]
    assert any(a.startswith("app/public/") for a in copies)
    assert any("--from=frontend" in a for a in copies)
    main_conf = (DOCKER_DIR / "nginx" / "nginx.conf").read_text()
    assert re.search(r"^pid /tmp/nginx/", main_conf, re.M)
    for directive in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        assert re.search(rf"^\s*{directive}_temp_path\s+/tmp/nginx/", main_conf, re.M), directive
    assert not re.search(r"^\s*user\s", main_conf, re.M), "no user directive (unprivileged)"
    entrypoint = (DOCKER_DIR / "nginx" / "docker-entrypoint.sh").read_text()
    assert "mkdir -p /tmp/nginx" in entrypoint


@pytest.mark.parametrize("stage", sorted(RUNTIME_STAGES))
def test_runtime_stage_has_oci_labels(stages, stage):
    labels = " ".join(args for keyword, args in stages[stage] if keyword == "LABEL")
    for key, arg in (("revision", "REVISION"), ("version", "VERSION"), ("source", "SOURCE")):
        assert f'org.opencontainers.image.{key}="${{{arg}}}"' in labels
        assert ("ARG", f"{arg}") in stages[stage] or any(
            k == "ARG" and a.startswith(f"{arg}=") for k, a in stages[stage]
        )


def test_copied_files_exist():
    text = DOCKERFILE.read_text()
    for keyword, args in instructions(text):
        if keyword != "COPY" or "--from=" in args:
            continue
        sources = [a for a in args.split() if not a.startswith("--")][:-1]
        for source in sources:
            if "*" in source:
                continue
            path = (APP_DIR / source[len("app/"):]) if source.startswith("app/") else REPO / source
            assert path.exists(), f"COPY source {source} missing ({path})"
    for script in ("php/php-fpm-healthcheck", "php/docker-entrypoint.sh", "nginx/docker-entrypoint.sh"):
        assert (DOCKER_DIR / script).read_text().startswith("#!"), script


def test_dockerignore_matches_the_context_layout():
    patterns = [
        line.strip() for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for required in ("app/vendor", "app/node_modules", "app/.env", "app/storage/logs/*", "**/.git", "tests"):
        assert required in patterns, f".dockerignore lacks {required}"
    # Nothing the Dockerfile copies may be ignored.
    for needed in ("app", "docker", "app/public", "app/composer.json"):
        assert needed not in patterns
    # BuildKit reads the ignore file beside the Dockerfile it builds: every Dockerfile has this one.
    for dockerfile in DOCKER_DIR.glob("Dockerfile*"):
        if dockerfile.suffix != ".dockerignore":
            ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
            assert ignore.resolve() == DOCKERIGNORE.resolve(), f"{ignore.name} is not {DOCKERIGNORE.name}"


# --- the real build ---------------------------------------------------------------------------


def test_alpine_image_builds():
    text = DOCKERFILE.read_text()
    args = global_args(text)
    images = [args["PHP_IMAGE"], args["NGINX_IMAGE"], args["COMPOSER_IMAGE"]]
    offline_reason = f"no Alpine base image available offline ({', '.join(images)})"
    docker = shutil.which("docker")
    if docker is None:
        skip(f"{offline_reason}: no docker client")
    try:
        info = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        skip(f"{offline_reason}: docker engine not answering")
    if info.returncode != 0:
        skip(f"{offline_reason}: no docker engine reachable ({info.stderr.strip()[:120]})")
    missing = [
        image for image in images
        if subprocess.run([docker, "image", "inspect", image], capture_output=True, timeout=20).returncode != 0
    ]
    if missing:
        skip(f"{offline_reason}: missing locally: {', '.join(missing)}")

    # Assemble the context the way the image role does: app/ + docker/.
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp)
        shutil.copytree(APP_DIR, context / "app", ignore=shutil.ignore_patterns("vendor", "node_modules"))
        shutil.copytree(DOCKER_DIR, context / "docker")
        env = dict(os.environ, DOCKER_BUILDKIT="1")
        for target in ("nginx", "php"):
            tag = f"laravel-ops-test-{target}:latest"
            build = subprocess.run(
                [docker, "build", "--target", target, "-f", str(context / "docker" / "Dockerfile"),
                 "-t", tag, str(context)],
                capture_output=True, text=True, timeout=1800, env=env,
            )
            assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
            inspect = json.loads(subprocess.run([docker, "image", "inspect", tag],
                                                capture_output=True, text=True).stdout)[0]
            assert inspect["Config"]["User"] == RUNTIME_STAGES[target]


# --- entrypoints ------------------------------------------------------------------------------


def test_php_entrypoint_recreates_laravel_skeleton_and_execs(tmp_path):
    sh = shutil.which("sh")
    if sh is None:
        skip("no POSIX sh")
    entrypoint = DOCKER_DIR / "php" / "docker-entrypoint.sh"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "APP_ROOT": str(tmp_path)}
    result = subprocess.run([sh, str(entrypoint), "sh", "-c", "echo ran:$0", "ok"],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran:ok"
    for directory in ("storage/app/public", "storage/framework/cache/data", "storage/framework/sessions",
                      "storage/framework/views", "storage/logs", "bootstrap/cache"):
        assert (tmp_path / directory).is_dir(), directory

    # Options only: they are php-fpm's (php-fpm replaced by `echo` through PATH here).
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "php-fpm"
    fake.write_text("#!/bin/sh\necho php-fpm \"$@\"\necho '[27-Nov-2026 07:12:00] NOTICE: ready' >&2\n")
    fake.chmod(0o755)
    (fake_bin / "json-stderr").symlink_to(DOCKER_DIR / "log" / "json-stderr")
    env.update(PATH=f"{fake_bin}:{env['PATH']}", TMPDIR=str(tmp_path))
    result = subprocess.run([sh, str(entrypoint), "-F", "-R"], capture_output=True, text=True, env=env, timeout=30)
    assert result.stdout.strip() == "php-fpm -F -R", result.stderr
    result = subprocess.run([sh, str(entrypoint)], capture_output=True, text=True, env=env, timeout=30)
    assert result.stdout.strip() == "php-fpm", result.stderr
    # php-fpm's own notice reaches stderr as JSON
    assert json.loads(result.stderr) == {"source": "php-fpm", "level": "notice",
                                         "message": "[27-Nov-2026 07:12:00] NOTICE: ready"}


def test_json_stderr_passes_json_and_wraps_the_rest(tmp_path):
    lines = [
        '{"message":"from Laravel","context":{"request_id":"abc"}}',
        '2026/11/27 07:12:00 [warn] 1#1: "quoted" \\ back\tslash',
        "no level here",
    ]
    script = "printf '%s\\n' \"$@\" >&2"
    result = subprocess.run(["sh", str(DOCKER_DIR / "log" / "json-stderr"), "nginx", "sh", "-c", script, "sh", *lines],
                            capture_output=True, text=True, env={"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path)},
                            timeout=30)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records[0] == json.loads(lines[0])
    assert records[1] == {"source": "nginx", "level": "warn", "message": lines[1]}
    assert records[2] == {"source": "nginx", "level": "", "message": lines[2]}


@pytest.mark.parametrize("script", ["php/docker-entrypoint.sh", "nginx/docker-entrypoint.sh"])
def test_entrypoints_are_posix_sh(script):
    sh = shutil.which("sh")
    if sh is None:
        skip("no POSIX sh")
    text = (DOCKER_DIR / script).read_text()
    assert text.startswith("#!/bin/sh\n")
    assert "migrate" not in re.sub(r"#.*", "", text), "no migrations in an entrypoint"
    result = subprocess.run([sh, "-n", str(DOCKER_DIR / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert os.access(DOCKER_DIR / script, os.X_OK)


@pytest.mark.parametrize("stage", sorted(RUNTIME_STAGES))
def test_per_build_args_do_not_bust_the_layer_cache(stages, stage):
    """ARG REVISION etc. change on every build; declared before a RUN they would make that RUN
    (and everything after it) miss the cache."""
    steps = stages[stage]
    last_run = max(i for i, (keyword, _) in enumerate(steps) if keyword == "RUN")
    for position, (keyword, args) in enumerate(steps):
        if keyword == "ARG" and args.split("=")[0] in ("VERSION", "REVISION", "SOURCE", "CREATED"):
            assert position > last_run, f"{stage}: ARG {args} declared before a RUN"


def test_json_stderr_passes_each_line_on_at_once(tmp_path):
    """A daemon's line must reach the log while the daemon keeps running (awk on a pipe buffers)."""
    process = subprocess.Popen(
        ["sh", str(DOCKER_DIR / "log" / "json-stderr"), "php-fpm", "sh", "-c",
         "echo '[27-Nov-2026 07:12:00] NOTICE: ready' >&2; sleep 10"],
        stderr=subprocess.PIPE, text=True, env={"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path)})
    try:
        ready, _, _ = select.select([process.stderr], [], [], 3)
        assert ready, "no line within 3 s while the command still runs"
        assert json.loads(process.stderr.readline())["level"] == "notice"
    finally:
        process.kill()
        process.wait()
