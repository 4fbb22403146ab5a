"""Boot check of the Debian images: the example app (examples/laravel-app) behind the real nginx
and php-fpm images built from docker/Dockerfile.debian, with a real PostgreSQL (Debian's, in a
container from the same base image), the way the chart runs them: one network namespace for
nginx and php-fpm (`--network container:`), read-only root filesystems with tmpfs for /tmp,
storage/ and bootstrap/cache, all capabilities dropped, the images' own users (33, 101).

Skipped, with the reason printed, when no Docker engine answers or the base image is missing
(scripts/docker-engine.sh and scripts/base-images.sh make both). The images are built from the
working tree (cached layers make that a few seconds), unless LARAVEL_OPS_TEST_PHP_IMAGE and
LARAVEL_OPS_TEST_NGINX_IMAGE name images to test instead (e.g. the ones the image role pushed).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
import time

import pytest

from image_helpers import (APP_DIR, DOCKER_DIR, DOCKERFILE, build, http_get, image_size, inspect,
                           layout_context, require_base_image, require_engine, run, tree_hash, wait_for)

DB = {"DB_DATABASE": "laravel", "DB_USERNAME": "laravel", "DB_PASSWORD": "boot-check-only"}
REQUEST_ID = "boot-check-0123456789"


class Stack:
    def __init__(self, docker: str, suffix: str):
        self.docker = docker
        self.network = f"laravel-ops-boot-{suffix}"
        self.pg = f"{self.network}-pg"
        self.php = f"{self.network}-php"
        self.nginx = f"{self.network}-nginx"
        self.images: dict[str, str] = {}
        self.build_seconds: dict[str, float] = {}
        self.base_url = ""
        self.metrics_url = ""

    def docker_run(self, *args: str, check: bool = True, timeout: float = 120):
        return run([self.docker, *args], check=check, timeout=timeout)

    def php_env(self) -> list[str]:
        env = {"APP_KEY": self.app_key, "APP_ENV": "production", "APP_DEBUG": "false", "LOG_LEVEL": "info",
               "DB_HOST": self.pg, "DB_CONNECT_TIMEOUT": "2", **DB}
        return [item for key, value in env.items() for item in ("-e", f"{key}={value}")]

    def hardened(self, writable: list[str]) -> list[str]:
        """What the chart's securityContext does: read-only root, no capabilities, no privilege gain."""
        args = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--tmpfs", "/tmp"]
        for path in writable:
            args += ["--tmpfs", f"{path}:uid=33,gid=33,mode=0770"]
        return args

    def artisan(self, *command: str) -> str:
        """Like the chart's migration Job: a one-off container of the php image."""
        result = self.docker_run(
            "run", "--rm", "--network", self.network,
            *self.hardened(["/var/www/html/storage", "/var/www/html/bootstrap/cache"]),
            *self.php_env(), self.images["php"], "php", "artisan", *command, timeout=180)
        return result.stdout + result.stderr

    def logs(self, name: str) -> tuple[str, str]:
        result = self.docker_run("logs", name)
        return result.stdout, result.stderr

    def get(self, path: str, **kwargs):
        return http_get(self.base_url + path, **kwargs)

    def metrics(self):
        """nginx serves /metrics on a port of its own, which the Service's web port never routes to."""
        return http_get(self.metrics_url)


def _images(stack: Stack, tmp_path_factory) -> None:
    docker = stack.docker
    php, nginx = os.environ.get("LARAVEL_OPS_TEST_PHP_IMAGE"), os.environ.get("LARAVEL_OPS_TEST_NGINX_IMAGE")
    if php and nginx:
        stack.images = {"php": php, "nginx": nginx}
    else:
        context = layout_context(tmp_path_factory.mktemp("context"))
        key = tree_hash(DOCKER_DIR, APP_DIR)
        for target in ("php", "nginx"):
            tag = f"laravel-ops-test/backend-{target}:debian-{key}"
            stack.build_seconds[target] = build(docker, context, DOCKERFILE, tag, target=target,
                                                build_args={"REVISION": key, "VERSION": "boot-check"})
            stack.images[target] = tag
    pg_tag = f"laravel-ops-test/postgresql:{tree_hash(DOCKER_DIR / 'postgresql')}"
    if run([docker, "image", "inspect", pg_tag], check=False).returncode != 0:
        stack.build_seconds["postgresql"] = build(docker, DOCKER_DIR / 'postgresql', DOCKER_DIR / 'postgresql' / "Dockerfile", pg_tag)
    stack.images["postgresql"] = pg_tag


@pytest.fixture(scope="module")
def stack(tmp_path_factory, request):
    failed_before = request.session.testsfailed
    docker = require_engine()
    require_base_image(docker)
    stack = Stack(docker, f"{os.getpid()}-{secrets.token_hex(3)}")
    stack.app_key = "base64:" + base64.b64encode(secrets.token_bytes(32)).decode()
    _images(stack, tmp_path_factory)
    try:
        stack.docker_run("network", "create", stack.network)
        stack.docker_run("run", "-d", "--name", stack.pg, "--network", stack.network,
                         "-e", f"POSTGRES_USER={DB['DB_USERNAME']}", "-e", f"POSTGRES_DB={DB['DB_DATABASE']}",
                         "-e", f"POSTGRES_PASSWORD={DB['DB_PASSWORD']}", stack.images["postgresql"])
        stack.docker_run("run", "-d", "--name", stack.php, "--network", stack.network,
                         *stack.hardened(["/var/www/html/storage", "/var/www/html/bootstrap/cache"]),
                         *stack.php_env(), stack.images["php"])
        stack.docker_run("run", "-d", "--name", stack.nginx, "--network", f"container:{stack.php}",
                         *stack.hardened([]), stack.images["nginx"])
        address = inspect(docker, stack.php)["NetworkSettings"]["Networks"][stack.network]["IPAddress"]
        stack.base_url = f"http://{address}:8080"
        stack.metrics_url = f"http://{address}:9113/metrics"
        wait_for("PostgreSQL to accept connections", lambda: stack.docker_run(
            "exec", stack.pg, "/usr/local/lib/pgbin/pg_isready", "-q", "-h", "127.0.0.1", check=False).returncode == 0)
        wait_for("nginx and php-fpm to answer /healthz", lambda: stack.get("/healthz", timeout=5)[0] == 200)
        yield stack
    finally:
        # On a failure, the containers' last log lines say why without re-running.
        for name in (stack.nginx, stack.php, stack.pg) if request.session.testsfailed > failed_before else ():
            result = run([docker, "logs", "--tail", "30", name], check=False)
            if result.returncode == 0:
                print(f"--- last log lines of {name}:\n{result.stdout}{result.stderr}", file=sys.stderr)
        run([docker, "rm", "-f", stack.nginx, stack.php, stack.pg], check=False)
        run([docker, "network", "rm", stack.network], check=False)
        # The app images this test built (their layers stay in the build cache); the PostgreSQL
        # fixture image is kept for the next run.
        for target in ("php", "nginx"):
            if target in stack.build_seconds:
                run([docker, "image", "rm", stack.images[target]], check=False)


def test_report_images(stack):
    lines = []
    for name, image in stack.images.items():
        built = stack.build_seconds.get(name)
        lines.append(f"{image}: {image_size(stack.docker, image) / 1e6:.1f} MB"
                     + (f", built in {built:.1f}s" if built is not None else ""))
    print("images under test:\n  " + "\n  ".join(lines), file=sys.stderr)


def test_images_run_as_the_platform_users(stack):
    assert inspect(stack.docker, stack.images["php"])["Config"]["User"] == "33:33"
    assert inspect(stack.docker, stack.images["nginx"])["Config"]["User"] == "101:101"
    assert stack.docker_run("exec", stack.php, "id", "-un").stdout.strip() == "www-data"
    assert stack.docker_run("exec", stack.php, "id", "-u").stdout.strip() == "33"
    assert stack.docker_run("exec", stack.nginx, "id", "-u").stdout.strip() == "101"
    assert stack.docker_run("exec", stack.nginx, "id", "-gn").stdout.strip() == "nginx"


def test_code_is_read_only_for_the_runtime_user(stack):
    denied = stack.docker_run("exec", stack.php, "touch", "/var/www/html/public/x", check=False)
    assert denied.returncode != 0
    stack.docker_run("exec", stack.php, "touch", "/var/www/html/storage/framework/cache/x")


def test_image_healthchecks_pass(stack):
    php = stack.docker_run("exec", stack.php, "php-fpm-healthcheck", "--verbose", check=False)
    assert php.returncode == 0, php.stderr
    status = json.loads(stack.docker_run("exec", stack.php, "php-fpm-healthcheck", "--status").stdout)
    assert status["pool"] == "www"
    nginx = stack.docker_run("exec", stack.nginx, "nginx-healthcheck", check=False)
    assert nginx.returncode == 0, nginx.stderr


def test_healthz(stack):
    status, headers, body = stack.get("/healthz")
    assert status == 200, body
    assert json.loads(body) == {"status": "ok"}
    assert headers.get("X-Request-Id")
    status, _, body = stack.get("/nginx-health")
    assert (status, body) == (200, "ok\n")


def test_readyz_with_the_database_up(stack):
    status, _, body = stack.get("/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"] == {"database": "ok"}


def test_migrate_and_seed_like_the_jobs(stack):
    output = stack.artisan("migrate", "--force")
    assert "create_deployments_table" in output and "DONE" in output, output
    assert "Nothing to migrate" in stack.artisan("migrate", "--force")
    for _ in range(2):  # the seeder runs at every upgrade: idempotent
        assert "Seeding database" in stack.artisan("db:seed", "--force")
    status, _, body = stack.get("/deployments")
    assert status == 200, body
    rows = json.loads(body)["data"]
    assert len(rows) == 4 and {row["service"] for row in rows} == {"backend"}


def test_metrics(stack):
    for _ in range(3):
        stack.get("/healthz")
    assert stack.get("/metrics")[0] == 404, "the web port hides /metrics"
    status, headers, body = stack.metrics()
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain")
    assert 'http_request_duration_seconds_bucket{method="GET",route="/healthz",status="2xx",le="+Inf"}' in body
    assert "http_request_duration_seconds_count" in body and "http_requests_total" in body
    assert "\napp_db_up 1\n" in body
    assert 'app_db_pool_connections{state="max"}' in body
    # php-fpm's pool status, read by the app through the pod's nginx
    assert "\nphpfpm_up 1\n" in body and 'phpfpm_processes{state="active"}' in body, body[-1500:]
    # APCu in the php-fpm master aggregates over the workers (the Debian php8.4-apcu works).
    assert 'metrics_store="apcu"' in body


def test_logs_are_json(stack):
    status, headers, body = stack.get("/error", headers={"X-Request-Id": REQUEST_ID})
    assert status == 500 and json.loads(body)["message"], body
    assert headers["X-Request-Id"] == REQUEST_ID

    def app_record():
        _, stderr = stack.logs(stack.php)
        return [json.loads(line) for line in stderr.splitlines()
                if line.startswith("{") and REQUEST_ID in line]

    records = wait_for("the application's JSON log line of the failed request", app_record, timeout=10)
    assert records[0]["context"]["request_id"] == REQUEST_ID
    assert records[0]["level_name"] == "ERROR"

    # Every line of both containers is JSON: php-fpm's and nginx's own notices through json-stderr.
    _, stderr = stack.logs(stack.php)
    php_records = [json.loads(line) for line in stderr.splitlines()]
    assert any(r.get("source") == "php-fpm" and r["level"] == "notice" for r in php_records), stderr[-2000:]
    assert not [r for r in php_records if "PHP message" in r.get("message", "")], "a PHP error was logged"
    stdout, stderr = stack.logs(stack.nginx)
    assert all(json.loads(line)["source"] == "nginx" for line in stderr.splitlines()), stderr[-2000:]
    access = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert access and all(entry["source"] == "nginx" for entry in access)
    assert any(entry["request_id"] == REQUEST_ID and entry["status"] == 500 for entry in access)


def test_readyz_fails_while_the_database_is_gone_and_recovers(stack):
    # Frozen database (accepts TCP, never answers): the connect timeout bounds the probe.
    stack.docker_run("pause", stack.pg)
    try:
        started = time.monotonic()
        status, _, body = stack.get("/readyz", timeout=20)
        elapsed = time.monotonic() - started
        assert status == 503, body
        assert json.loads(body) == {"status": "unavailable", "checks": {"database": "fail"}}
        assert elapsed < 10, f"/readyz took {elapsed:.1f}s with the database frozen (DB_CONNECT_TIMEOUT=2)"
        assert stack.get("/healthz")[0] == 200, "liveness never depends on the database"
    finally:
        stack.docker_run("unpause", stack.pg)
    wait_for("/readyz to recover", lambda: stack.get("/readyz")[0] == 200, timeout=30)

    # Stopped database.
    stack.docker_run("stop", stack.pg, timeout=60)
    status, _, body = stack.get("/readyz", timeout=20)
    assert status == 503, body
    _, _, metrics = stack.metrics()
    assert "\napp_db_up 0\n" in metrics
    stack.docker_run("start", stack.pg)
    wait_for("/readyz after PostgreSQL restarted", lambda: stack.get("/readyz")[0] == 200, timeout=60)
