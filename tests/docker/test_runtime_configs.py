"""The shipped nginx and php-fpm configurations, run for real with the distribution's nginx
and php-fpm (Debian packages here), as a non-root user like in the image:

- `nginx -t` and `php-fpm -t` on docker/nginx/*.conf and docker/php-fpm/*.conf;
- nginx in front of php-fpm: health endpoint, front controller only, request id end to end,
  JSON access log, undecorated JSON lines from the workers, fpm ping/status limited to
  127.0.0.1;
- docker/php/php-fpm-healthcheck against the live pool (exit codes);
- the example app's metrics registry aggregating over several php-fpm workers (APCu when
  the php-fpm has it, the file store otherwise);
- graceful stop (SIGQUIT) letting an in-flight request finish.

Each part is skipped, with the reason printed, when nginx or php-fpm is not installed.
Paths that only exist in the image (/tmp/nginx, /var/www/html, ports 8080/9000) are
rewritten to a private temporary directory and free ports; every rewrite is asserted, so
the test fails if the configs drift.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from docker_helpers import APP_DIR, DOCKER_DIR, skip

HEALTHCHECK = DOCKER_DIR / "php" / "php-fpm-healthcheck"
RUNTIME_UID = 33  # the php image's user; nginx's 101 may not exist on the test machine

FRONT_CONTROLLER = r"""<?php
// Test front controller: stands in for Laravel's public/index.php.
spl_autoload_register(function (string $class): void {
    $file = getenv('TEST_APP_DIR') . '/app/' . str_replace(['App\\', '\\'], ['', '/'], $class) . '.php';
    if (str_starts_with($class, 'App\\Metrics\\') && is_file($file)) {
        require $file;
    }
});
$start = microtime(true);
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$store = \App\Metrics\ApcuStore::available()
    ? new \App\Metrics\ApcuStore('test_metrics:')
    : new \App\Metrics\FileStore(getenv('TEST_METRICS_FILE'));
$registry = new \App\Metrics\MetricsRegistry($store);
header('Content-Type: application/json');

if ($path === '/metrics') {
    header('Content-Type: ' . \App\Metrics\MetricsRegistry::CONTENT_TYPE);
    echo $registry->render([new \App\Metrics\Gauge('test_store', 'store in use', [[['store' => $store->name()], 1]])]);
    return;
}
if ($path === '/slow') {
    $deadline = hrtime(true) + (int) ($_GET['ms'] ?? 1000) * 1000000;
    while (($left = $deadline - hrtime(true)) > 0) {
        usleep((int) min(intdiv($left, 1000), 100000));
    }
}
if ($path === '/work') {
    usleep(30000);
}
file_put_contents('php://stderr', json_encode(['message' => 'handled', 'context' => ['request_id' => $_SERVER['HTTP_X_REQUEST_ID'] ?? null, 'path' => $path]]) . "\n");
echo json_encode([
    'script_name' => $_SERVER['SCRIPT_NAME'] ?? null,
    'script_filename' => $_SERVER['SCRIPT_FILENAME'] ?? null,
    'request_uri' => $_SERVER['REQUEST_URI'] ?? null,
    'request_id' => $_SERVER['HTTP_X_REQUEST_ID'] ?? null,
    'pid' => getmypid(),
    'env_probe' => getenv('TEST_ENV_PROBE'),
]);
if (function_exists('fastcgi_finish_request')) {
    fastcgi_finish_request();
}
$registry->observeRequest($_SERVER['REQUEST_METHOD'], $path, http_response_code() ?: 200, microtime(true) - $start);
"""


def _find_nginx() -> str | None:
    return shutil.which("nginx") or next(iter(glob.glob("/usr/sbin/nginx")), None)


def _find_php_fpm() -> str | None:
    for name in ("php-fpm", "php-fpm8.4", "php-fpm8.3", "php-fpm8.2"):
        found = shutil.which(name)
        if found:
            return found
    candidates = sorted(glob.glob("/usr/sbin/php-fpm*") + glob.glob("/usr/local/sbin/php-fpm*"))
    return candidates[-1] if candidates else None


def _find_php_cli() -> str | None:
    return shutil.which("php")


def _free_ports(count: int) -> list[int]:
    """Distinct free ports: every socket stays bound until all are chosen, so none repeats."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _free_port() -> int:
    return _free_ports(1)[0]


def _replace(text: str, old: str, new: str, what: str) -> str:
    assert old in text, f"{what}: expected to find {old!r} (config changed?)"
    return text.replace(old, new)


def _drop_privileges_kwargs() -> dict:
    """Run as UID/GID 33 when the tests run as root, like USER 33:33 in the image."""
    if os.geteuid() != 0:
        return {}

    def demote() -> None:
        os.setgroups([])
        os.setgid(RUNTIME_UID)
        os.setuid(RUNTIME_UID)

    return {"preexec_fn": demote}


def _log_file(path: Path):
    """Open a log file the (demoted) process can reopen through /proc/self/fd/N, as the
    container runtime does for USER (runc fixes stdio ownership)."""
    handle = open(path, "w+b")
    if os.geteuid() == 0:
        os.fchown(handle.fileno(), RUNTIME_UID, RUNTIME_UID)
    return handle


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def _get(port: int, path: str, headers: dict | None = None, source: str | None = None,
         timeout: float = 10.0) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None
    )
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class Stack:
    """php-fpm (docker/php-fpm/*.conf, docker/php/php.ini) behind nginx (docker/nginx/*.conf)."""

    def __init__(self, nginx: str | None, php_fpm: str | None):
        self.nginx = nginx
        self.php_fpm = php_fpm
        self.root = Path(tempfile.mkdtemp(prefix="laravel-ops-stack-"))
        os.chmod(self.root, 0o755)
        self.fpm_port, self.fpm_status_port, self.http_port, self.metrics_port = _free_ports(4)
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

        www = self.root / "www"
        www.mkdir()
        (www / "index.php").write_text(FRONT_CONTROLLER)
        (www / "robots.txt").write_text("User-agent: *\n")
        (www / ".env").write_text("APP_KEY=secret\n")
        # The workers run as UID 33 and may not traverse the checkout (a clone in a 0700
        # `mktemp -d` folder): they read their own copy of the app's metrics classes.
        self.app_dir = self.root / "app-copy"
        shutil.copytree(APP_DIR / "app" / "Metrics", self.app_dir / "app" / "Metrics")
        self.metrics_file = self.root / "state" / "metrics.json"
        self.metrics_file.parent.mkdir()

        # php-fpm: a main file like the Alpine image's (global section + include of the
        # pool directory), with our two files as the pool directory.
        pool = self.root / "php-fpm.d"
        pool.mkdir()
        for conf in ("www.conf", "zz-docker.conf"):
            shutil.copy(DOCKER_DIR / "php-fpm" / conf, pool / conf)
        self.fpm_conf = self.root / "php-fpm.conf"
        self.fpm_conf.write_text(f"[global]\ninclude={pool}/*.conf\n")
        self.php_ini = DOCKER_DIR / "php" / "php.ini"

        # nginx: our two files beside the distribution's mime.types and fastcgi_params.
        conf_dir = self.root / "nginx"
        (conf_dir / "conf.d").mkdir(parents=True)
        self.nginx_run = self.root / "run"  # stands for /tmp/nginx
        self.nginx_run.mkdir()
        main = (DOCKER_DIR / "nginx" / "nginx.conf").read_text()
        main = _replace(main, "/tmp/nginx/", f"{self.nginx_run}/", "nginx.conf")
        (conf_dir / "nginx.conf").write_text(main)
        site = (DOCKER_DIR / "nginx" / "default.conf").read_text()
        site = _replace(site, "listen 8080 ", f"listen {self.http_port} ", "default.conf")
        site = _replace(site, "listen 9113;", f"listen {self.metrics_port};", "default.conf")
        site = _replace(site, "127.0.0.1:9000", f"127.0.0.1:{self.fpm_port}", "default.conf")
        site = _replace(site, "127.0.0.1:9001", f"127.0.0.1:{self.fpm_status_port}", "default.conf")
        site = _replace(site, "root /var/www/html/public;", f"root {www};", "default.conf")
        (conf_dir / "conf.d" / "default.conf").write_text(site)
        nginx_conf_dir = Path(os.path.realpath(nginx or "/usr/sbin/nginx")).parent.parent / "etc" / "nginx"
        for name in ("mime.types", "fastcgi_params") if nginx else ():
            source = next(
                (p for p in (Path("/etc/nginx") / name, nginx_conf_dir / name) if p.exists()), None
            )
            if source is None:
                raise FileNotFoundError(f"{name} of the installed nginx not found")
            shutil.copy(source, conf_dir / name)
        self.nginx_conf = conf_dir / "nginx.conf"

        if os.geteuid() == 0:
            for path in (self.root / "state", self.nginx_run):
                os.chown(path, RUNTIME_UID, RUNTIME_UID)

    def fpm_env(self, **extra: str) -> dict:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PHP_FPM_LISTEN": f"127.0.0.1:{self.fpm_port}",
            "PHP_FPM_STATUS_LISTEN": f"127.0.0.1:{self.fpm_status_port}",
            "PHP_FPM_REQUEST_TERMINATE_TIMEOUT": "30",
            "PHP_FPM_PROCESS_CONTROL_TIMEOUT": "40",
            "TEST_APP_DIR": str(self.app_dir),
            "TEST_METRICS_FILE": str(self.metrics_file),
            "TEST_ENV_PROBE": "from-the-pod-environment",
        }
        env.update(extra)
        return env

    def start(self) -> "Stack":
        self.logs["php-fpm"] = self.root / "php-fpm.log"
        fpm_log = _log_file(self.logs["php-fpm"])
        self.processes["php-fpm"] = subprocess.Popen(
            [self.php_fpm, "--nodaemonize", "--fpm-config", str(self.fpm_conf), "-c", str(self.php_ini)],
            stdout=fpm_log, stderr=subprocess.STDOUT, env=self.fpm_env(), **_drop_privileges_kwargs(),
        )
        fpm_log.close()
        self.logs["nginx"] = self.root / "nginx.log"
        nginx_log = _log_file(self.logs["nginx"])
        self.processes["nginx"] = subprocess.Popen(
            [self.nginx, "-p", str(self.nginx_run), "-c", str(self.nginx_conf), "-e", "stderr",
             "-g", "daemon off;"],
            stdout=nginx_log, stderr=subprocess.STDOUT, env={"PATH": os.environ.get("PATH", "")},
            **_drop_privileges_kwargs(),
        )
        nginx_log.close()
        try:
            _wait_for_port(self.fpm_port)
            _wait_for_port(self.http_port)
        except AssertionError:
            self.stop()
            raise AssertionError(self.dump())
        return self

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace") if name in self.logs else ""

    def dump(self) -> str:
        return "\n".join(f"--- {name} log ---\n{self.log(name)}" for name in self.logs)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    nginx = _find_nginx()
    if nginx is None:
        skip("nginx is not installed (e.g. apt-get install nginx-light): nginx config not exercised")
    return nginx


@pytest.fixture(scope="module")
def php_fpm_binary() -> str:
    php_fpm = _find_php_fpm()
    if php_fpm is None:
        skip("php-fpm is not installed (e.g. apt-get install php-fpm): php-fpm config not exercised")
    return php_fpm


@pytest.fixture(scope="module")
def stack(nginx_binary, php_fpm_binary):
    if _find_php_cli() is None:
        skip("php CLI not installed: the health check script cannot run")
    running = Stack(nginx_binary, php_fpm_binary).start()
    yield running
    running.cleanup()


# --- configuration tests -----------------------------------------------------------------------


def test_nginx_config_syntax(nginx_binary):
    probe = Stack(nginx_binary, None)
    try:
        result = subprocess.run(
            [nginx_binary, "-t", "-p", str(probe.nginx_run), "-c", str(probe.nginx_conf), "-e", "stderr"],
            capture_output=True, text=True, timeout=30,
        )
        assert result.returncode == 0, result.stderr
        assert "test is successful" in result.stderr
    finally:
        probe.cleanup()


def test_php_fpm_config_test(php_fpm_binary):
    probe = Stack(None, php_fpm_binary)
    try:
        result = subprocess.run(
            [php_fpm_binary, "-t", "-y", str(probe.fpm_conf), "-c", str(probe.php_ini)],
            capture_output=True, text=True, timeout=30, env=probe.fpm_env(),
        )
        assert result.returncode == 0, result.stderr
        assert "test is successful" in result.stderr

        # The listen address comes only from the environment: without it the pool is invalid.
        env = probe.fpm_env()
        del env["PHP_FPM_LISTEN"]
        unset = subprocess.run(
            [php_fpm_binary, "-t", "-y", str(probe.fpm_conf), "-c", str(probe.php_ini)],
            capture_output=True, text=True, timeout=30, env=env,
        )
        assert unset.returncode != 0
    finally:
        probe.cleanup()


def test_php_ini_is_production_and_parses():
    php = _find_php_cli()
    if php is None:
        skip("php CLI not installed: php.ini not loaded")
    ini = DOCKER_DIR / "php" / "php.ini"
    code = (
        "echo json_encode(["
        "'display_errors' => ini_get('display_errors'),"
        "'expose_php' => ini_get('expose_php'),"
        "'memory_limit' => ini_get('memory_limit'),"
        "'timezone' => ini_get('date.timezone'),"
        "'validate_timestamps' => ini_get('opcache.validate_timestamps'),"
        "'opcache_enable' => ini_get('opcache.enable'),"
        "'zend_assertions' => ini_get('zend.assertions'),"
        "'loaded' => php_ini_loaded_file(),"
        "]);"
    )
    result = subprocess.run([php, "-c", str(ini), "-d", "display_startup_errors=1", "-r", code],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "error" not in result.stderr.lower(), result.stderr
    values = json.loads(result.stdout)
    assert values["loaded"] == str(ini)
    assert values["display_errors"] in ("", "0", "Off")
    assert values["expose_php"] in ("", "0")
    assert values["timezone"] == "UTC"
    assert values["memory_limit"] == "128M"
    if values["opcache_enable"] is not False:  # opcache loaded: its settings apply
        assert values["validate_timestamps"] in ("", "0")


# --- the live stack -----------------------------------------------------------------------------


def test_nginx_health_does_not_touch_php(stack):
    status, headers, body = _get(stack.http_port, "/nginx-health")
    assert (status, body) == (200, b"ok\n")
    assert headers["X-Request-Id"]
    assert '"/nginx-health"' not in stack.log("php-fpm")


def test_request_id_is_shared_by_nginx_php_and_the_response(stack):
    request_id = "req-1234567890abcdef"
    status, headers, body = _get(stack.http_port, "/api/things?page=2", {"X-Request-Id": request_id})
    assert status == 200, body
    seen = json.loads(body)
    assert seen["request_id"] == request_id
    assert seen["request_uri"] == "/api/things?page=2"
    assert headers.get_all("X-Request-Id") == [request_id], "exactly one X-Request-Id header"
    assert seen["env_probe"] == "from-the-pod-environment", "clear_env = no"

    time.sleep(0.3)
    access = [json.loads(line) for line in stack.log("nginx").splitlines() if line.startswith("{")]
    mine = [entry for entry in access if entry["request_id"] == request_id]
    assert mine, stack.log("nginx")
    assert mine[0]["uri"] == "/api/things?page=2" and mine[0]["status"] == 200
    assert isinstance(mine[0]["request_time"], (int, float))

    # The worker's JSON line reaches php-fpm's stderr as it was written: no decoration.
    app_lines = [line for line in stack.log("php-fpm").splitlines() if request_id in line]
    assert app_lines, stack.log("php-fpm")
    assert json.loads(app_lines[0])["context"]["request_id"] == request_id


def test_an_invalid_request_id_is_replaced(stack):
    status, headers, body = _get(stack.http_port, "/", {"X-Request-Id": "bad id\"with{junk"})
    assert status == 200
    replaced = json.loads(body)["request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced), replaced
    assert headers["X-Request-Id"] == replaced


def test_only_the_front_controller_runs(stack):
    for path in ("/some/route", "/other.php", "/index.php/x"):
        status, _, body = _get(stack.http_port, path)
        assert status == 200, (path, body)
        seen = json.loads(body)
        assert seen["script_name"] == "/index.php", (path, seen)
        assert seen["script_filename"].endswith("/www/index.php")
    status, _, body = _get(stack.http_port, "/robots.txt")
    assert status == 200 and body.startswith(b"User-agent")
    status, _, body = _get(stack.http_port, "/.env")
    assert status == 404 and b"secret" not in body


def test_fpm_ping_and_status_only_from_localhost(stack):
    status, _, body = _get(stack.http_port, "/fpm-ping")
    assert (status, body.strip()) == (200, b"pong")
    status, _, body = _get(stack.http_port, "/fpm-status?json")
    assert status == 200 and json.loads(body)["pool"] == "www"
    # 127.0.0.2 is a loopback address too, but not the one allowed.
    try:
        status, _, _ = _get(stack.http_port, "/fpm-status", source="127.0.0.2")
    except OSError as error:
        skip(f"cannot send from 127.0.0.2 on this machine: {error}")
    assert status == 403


def _healthcheck(stack, *args: str, **env: str) -> subprocess.CompletedProcess:
    php = _find_php_cli()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PHP_FPM_HEALTHCHECK_ADDRESS": f"127.0.0.1:{stack.fpm_port}",
    }
    environment.update(env)
    return subprocess.run(
        [php, "-c", str(DOCKER_DIR / "php" / "php.ini"), str(HEALTHCHECK), *args],
        capture_output=True, text=True, timeout=30, env=environment,
    )


def test_healthcheck_contract(stack):
    healthy = _healthcheck(stack)
    assert healthy.returncode == 0, healthy.stderr

    status = _healthcheck(stack, "--status")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["process manager"] == "dynamic"

    port_only = _healthcheck(stack, PHP_FPM_HEALTHCHECK_ADDRESS=str(stack.fpm_port))
    assert port_only.returncode == 0, port_only.stderr

    closed = _healthcheck(stack, PHP_FPM_HEALTHCHECK_ADDRESS=f"127.0.0.1:{_free_port()}")
    assert closed.returncode == 2, closed.stderr
    assert "cannot connect" in closed.stderr

    wrong_path = _healthcheck(stack, PHP_FPM_PING_PATH="/not-the-ping")
    assert wrong_path.returncode == 1, wrong_path.stderr

    wrong_answer = _healthcheck(stack, PHP_FPM_PING_RESPONSE="something-else")
    assert wrong_answer.returncode == 1

    assert _healthcheck(stack, "--bogus").returncode == 64
    assert _healthcheck(stack, PHP_FPM_HEALTHCHECK_TIMEOUT="zero").returncode == 64
    assert _healthcheck(stack, PHP_FPM_HEALTHCHECK_ADDRESS="not an address").returncode == 64


def test_metrics_are_served_on_their_own_port_only(stack):
    assert _get(stack.http_port, "/metrics")[0] == 404, "the web port (Service, Ingress) hides /metrics"
    status, headers, body = _get(stack.metrics_port, "/metrics")
    assert status == 200
    assert b"test_store" in body
    for path in ("/", "/work", "/fpm-status", "/nginx-health"):
        assert _get(stack.metrics_port, path)[0] == 404, f"{path} on the metrics port"


def test_liveness_answers_while_every_worker_is_busy(stack):
    """Readiness pings through the workers and fails when all are busy; liveness asks the status
    listener, which still answers, so the kubelet does not restart a pod at peak load."""
    workers = int(re.search(r"^pm\.max_children = (\d+)", (DOCKER_DIR / "php-fpm" / "www.conf").read_text(),
                            re.MULTILINE).group(1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        busy = [pool.submit(_get, stack.http_port, "/slow?ms=4000", timeout=30) for _ in range(workers)]
        time.sleep(1.0)
        readiness = _healthcheck(stack, PHP_FPM_HEALTHCHECK_TIMEOUT="1")
        liveness = _healthcheck(stack, "--liveness", PHP_FPM_STATUS_LISTEN=f"127.0.0.1:{stack.fpm_status_port}",
                                PHP_FPM_HEALTHCHECK_TIMEOUT="1")
        status_through_nginx = _get(stack.http_port, "/fpm-status?json")
        assert all(future.result()[0] == 200 for future in busy)
    pool_status = json.loads(status_through_nginx[2])
    print(f"\n{workers} slow requests: readiness exit {readiness.returncode}, liveness exit {liveness.returncode}, "
          f"active {pool_status['active processes']}, listen queue {pool_status['listen queue']}")
    assert readiness.returncode == 2, readiness.stderr
    assert liveness.returncode == 0, liveness.stderr
    assert status_through_nginx[0] == 200, "the pool's status answers through nginx while the workers are busy"


def test_the_images_keep_fastcgi_on_loopback():
    for dockerfile in ("Dockerfile", "Dockerfile.debian"):
        text = (DOCKER_DIR / dockerfile).read_text()
        assert "PHP_FPM_LISTEN=127.0.0.1:9000" in text, dockerfile
        assert "PHP_FPM_STATUS_LISTEN=127.0.0.1:9001" in text, dockerfile
        assert not re.search(r"^EXPOSE .*\b900[01]\b", text, re.MULTILINE), dockerfile
    www = (DOCKER_DIR / "php-fpm" / "www.conf").read_text()
    assert re.search(r"^listen = \$\{PHP_FPM_LISTEN\}$", www, re.MULTILINE)
    assert re.search(r"^pm\.status_listen = \$\{PHP_FPM_STATUS_LISTEN\}$", www, re.MULTILINE)


def test_healthcheck_times_out_on_a_silent_listener(stack):
    # Accepts connections (kernel backlog) but never answers, like a saturated pool.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        started = time.monotonic()
        result = _healthcheck(
            stack,
            PHP_FPM_HEALTHCHECK_ADDRESS=f"127.0.0.1:{silent.getsockname()[1]}",
            PHP_FPM_HEALTHCHECK_TIMEOUT="1",
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert "in time" in result.stderr
    assert elapsed < 5


def _parse_exposition(text: str) -> dict[tuple[str, tuple], float]:
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)", line)
        assert match, f"not an exposition line: {line!r}"
        labels = tuple(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def test_metrics_aggregate_across_php_fpm_workers(stack):
    requests = 24
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: _get(stack.http_port, "/work"), range(requests)))
    assert all(status == 200 for status, _, _ in results)
    pids = {json.loads(body)["pid"] for _, _, body in results}
    assert len(pids) > 1, "the requests were served by several workers"

    time.sleep(0.3)  # observations are stored after fastcgi_finish_request
    status, headers, body = _get(stack.metrics_port, "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = _parse_exposition(body.decode())
    labels = (("method", "GET"), ("route", "/work"), ("status", "2xx"))
    assert samples[("http_requests_total", labels)] == requests, body.decode()
    assert samples[("http_request_duration_seconds_count", labels)] == requests
    assert samples[("http_request_duration_seconds_bucket", labels + (("le", "+Inf"),))] == requests
    assert samples[("http_request_duration_seconds_sum", labels)] >= requests * 0.03
    assert samples[("http_request_duration_seconds_bucket", labels + (("le", "0.01"),))] == 0

    modules = subprocess.run([stack.php_fpm, "-m"], capture_output=True, text=True).stdout
    expected = "apcu" if re.search(r"^apcu$", modules, re.M) else "file"
    print(f"metrics store used by php-fpm: {expected}")
    assert samples[("test_store", (("store", expected),))] == 1


def test_graceful_stop_lets_in_flight_requests_finish(nginx_binary, php_fpm_binary):
    if _find_php_cli() is None:
        skip("php CLI not installed")
    own = Stack(nginx_binary, php_fpm_binary).start()
    try:
        outcome: dict = {}

        def slow_request() -> None:
            try:
                outcome["result"] = _get(own.http_port, "/slow?ms=2500", timeout=20)
            except Exception as error:  # noqa: BLE001 - reported below
                outcome["error"] = error

        worker = threading.Thread(target=slow_request)
        worker.start()
        time.sleep(0.7)  # the request is now inside PHP
        stopped_at = time.monotonic()
        # What the kubelet does (STOPSIGNAL SIGQUIT) to both containers.
        own.processes["php-fpm"].send_signal(signal.SIGQUIT)
        own.processes["nginx"].send_signal(signal.SIGQUIT)
        worker.join(timeout=30)
        assert "error" not in outcome, f"{outcome.get('error')}\n{own.dump()}"
        status, _, body = outcome["result"]
        assert status == 200, body
        assert json.loads(body)["request_uri"] == "/slow?ms=2500"
        for name, process in own.processes.items():
            process.wait(timeout=20)
            assert time.monotonic() - stopped_at < 15, f"{name} took too long to stop"
        # New connections are refused once stopped.
        with pytest.raises(OSError):
            _get(own.http_port, "/nginx-health", timeout=2)
    finally:
        own.cleanup()
