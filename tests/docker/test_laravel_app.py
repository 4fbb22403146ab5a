"""The example Laravel application (examples/laravel-app): PHP syntax of every file, the
layout the image and a distribution build rely on, and the framework-free parts (metrics
registry and stores) executed with the php CLI.

Booting Laravel itself needs laravel/framework (composer, not reachable here); that is the
job of the app-level tests that run the built image."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from docker_helpers import APP_DIR, DOCKER_DIR, REPO, skip


def _php() -> str:
    php = shutil.which("php")
    if php is None:
        skip("php CLI not on PATH (apt-get install php-cli): PHP files not checked")
    return php


def _php_files() -> list[Path]:
    files = sorted(p for p in APP_DIR.rglob("*.php") if "vendor" not in p.parts)
    files.append(APP_DIR / "artisan")
    files.append(DOCKER_DIR / "php" / "php-fpm-healthcheck")
    return files


def test_php_syntax_of_every_file():
    php = _php()
    files = _php_files()
    assert len(files) > 20
    failures = []
    for path in files:
        result = subprocess.run([php, "-l", str(path)], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            failures.append(f"{path.relative_to(REPO)}: {result.stdout.strip()} {result.stderr.strip()}")
    assert not failures, "\n".join(failures)


def test_composer_json():
    composer = json.loads((APP_DIR / "composer.json").read_text())
    assert composer["require"]["php"] == "^8.3"
    assert composer["require"]["laravel/framework"] == "^13.0"
    assert set(composer["require"]) == {"php", "laravel/framework"}, "no packages beyond the framework"
    assert composer["autoload"]["psr-4"]["App\\"] == "app/"
    assert "Database\\Seeders\\" in composer["autoload"]["psr-4"]


def test_composer_lock_if_present_is_a_real_lock():
    lock = APP_DIR / "composer.lock"
    if not lock.exists():
        print("composer.lock absent: the image resolves dependencies at build time", file=sys.stderr)
        return
    data = json.loads(lock.read_text())
    assert data.get("content-hash") and any(p["name"] == "laravel/framework" for p in data["packages"])


def test_vendor_autoload_is_the_only_autoloading_entry():
    for entry in ("artisan", "public/index.php"):
        text = (APP_DIR / entry).read_text()
        requires = re.findall(r"require(?:_once)?\s+([^;]+);", text)
        autoloaders = [r for r in requires if "autoload" in r]
        prefix = "__DIR__.'/" if entry == "artisan" else "__DIR__.'/../"
        assert autoloaders == [f"{prefix}vendor/autoload.php'"], (entry, requires)
    for path in APP_DIR.rglob("*.php"):
        assert "/usr/share/php" not in path.read_text(), f"{path}: distribution path hard-coded"


def test_bootstrap_is_laravel_11_style():
    text = (APP_DIR / "bootstrap" / "app.php").read_text()
    for call in ("Application::configure(", "->withRouting(", "->withMiddleware(", "->withExceptions(", "->create()"):
        assert call in text, call
    assert "AssignRequestId::class" in text and "RecordRequestMetrics::class" in text
    providers = (APP_DIR / "bootstrap" / "providers.php").read_text()
    assert "App\\Providers\\AppServiceProvider::class" in providers


def test_routes():
    routes = (APP_DIR / "routes" / "api.php").read_text()
    for path in ("/healthz", "/readyz", "/metrics", "/slow", "/error", "/db-sleep", "/deployments"):
        assert f"Route::get('{path}'" in routes, path
    bootstrap = (APP_DIR / "bootstrap" / "app.php").read_text()
    assert "apiPrefix: ''" in bootstrap, "API routes served at the root"


def test_logging_defaults_to_json_on_stderr():
    logging = (APP_DIR / "config" / "logging.php").read_text()
    assert "env('LOG_CHANNEL', 'stderr')" in logging
    stderr = logging.split("'stderr' => [", 1)[1].split("],\n\n", 1)[0]
    assert "JsonFormatter::class" in stderr and "php://stderr" in stderr


def test_database_connect_timeout_is_short():
    database = (APP_DIR / "config" / "database.php").read_text()
    assert "env('DB_CONNECTION', 'pgsql')" in database
    assert re.search(r"PDO::ATTR_TIMEOUT\s*=>\s*\(int\) env\('DB_CONNECT_TIMEOUT', 2\)", database)


def test_migration_and_seeder():
    migrations = list((APP_DIR / "database" / "migrations").glob("*.php"))
    assert len(migrations) == 1 and "Schema::create('deployments'" in migrations[0].read_text()
    seeder = (APP_DIR / "database" / "seeders" / "DatabaseSeeder.php").read_text()
    assert "class DatabaseSeeder extends Seeder" in seeder
    assert "->upsert(" in seeder, "seeding runs on every upgrade: it must be idempotent"


def test_writable_directories_are_kept_in_git():
    for directory in ("storage/app/public", "storage/framework/cache/data", "storage/framework/sessions",
                      "storage/framework/views", "storage/logs", "bootstrap/cache"):
        assert (APP_DIR / directory / ".gitignore").exists(), directory


# --- the metrics registry, run with the php CLI -------------------------------------------------

REGISTRY_SCRIPT = textwrap.dedent(r"""
    <?php
    spl_autoload_register(function (string $class): void {
        $file = getenv('APP_DIR') . '/app/' . str_replace(['App\\', '\\'], ['', '/'], $class) . '.php';
        if (is_file($file)) { require $file; }
    });
    use App\Metrics\{ApcuStore, FileStore, Gauge, MetricsRegistry};
    $store = getenv('STORE') === 'apcu' ? new ApcuStore('unit:') : new FileStore(getenv('METRICS_FILE'));
    $store->flush();
    $registry = new MetricsRegistry($store);
    $registry->observeRequest('get', '/healthz', 200, 0.003);
    $registry->observeRequest('GET', '/healthz', 204, 0.02);
    $registry->observeRequest('POST', '/items/{id}', 422, 0.3);
    $registry->observeRequest('GET', '/error', 500, 0.2);
    $registry->observeRequest('GET', 'unmatched', 404, 45.0);
    $registry->observeRequest('GET', 'we"ird\\route', 302, 0.0);
    echo $registry->render([
        new Gauge('app_db_up', 'Database up.', [[[], 0]]),
        new Gauge('app_db_pool_connections', 'Pool.', [[['state' => 'active'], 3], [['state' => 'max'], 100]]),
    ]);
    try { new MetricsRegistry($store, [1, 0.5]); echo "NO-EXCEPTION\n"; } catch (InvalidArgumentException $e) { echo "# rejected unsorted buckets\n"; }
""").lstrip()


def _run_registry(tmp_path: Path, store: str) -> str:
    php = _php()
    script = tmp_path / "registry.php"
    script.write_text(REGISTRY_SCRIPT)
    args = [php, "-d", "display_errors=stderr"]
    if store == "apcu":
        args += ["-d", "apc.enable_cli=1"]
    result = subprocess.run(
        [*args, str(script)], capture_output=True, text=True, timeout=60,
        env={"APP_DIR": str(APP_DIR), "STORE": store, "METRICS_FILE": str(tmp_path / "m" / "metrics.json"),
             "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "", result.stderr
    return result.stdout


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def _check_exposition(text: str) -> None:
    assert "# rejected unsorted buckets" in text
    samples = _samples(text)
    ok = 'method="GET",route="/healthz",status="2xx"'
    assert samples[f"http_requests_total{{{ok}}}"] == 2
    assert samples['http_requests_total{method="GET",route="/error",status="5xx"}'] == 1
    assert samples['http_requests_total{method="POST",route="/items/{id}",status="4xx"}'] == 1
    assert samples['http_requests_total{method="GET",route="we\\"ird\\\\route",status="3xx"}'] == 1
    assert samples[f'http_request_duration_seconds_bucket{{{ok},le="0.005"}}'] == 1
    assert samples[f'http_request_duration_seconds_bucket{{{ok},le="0.025"}}'] == 2
    assert samples[f'http_request_duration_seconds_bucket{{{ok},le="+Inf"}}'] == 2
    assert samples[f"http_request_duration_seconds_count{{{ok}}}"] == 2
    assert abs(samples[f"http_request_duration_seconds_sum{{{ok}}}"] - 0.023) < 1e-6
    slow = 'method="GET",route="unmatched",status="4xx"'
    assert samples[f'http_request_duration_seconds_bucket{{{slow},le="30"}}'] == 0
    assert samples[f'http_request_duration_seconds_bucket{{{slow},le="+Inf"}}'] == 1
    assert samples["app_db_up"] == 0
    assert samples['app_db_pool_connections{state="max"}'] == 100
    # Buckets are cumulative and monotonic for every series.
    series: dict[str, list[float]] = {}
    for name, value in samples.items():
        if name.startswith("http_request_duration_seconds_bucket"):
            key = re.sub(r',le="[^"]+"', "", name)
            series.setdefault(key, []).append(value)
    for key, values in series.items():
        assert values == sorted(values), key
    assert "# TYPE http_request_duration_seconds histogram" in text
    assert "# TYPE http_requests_total counter" in text
    assert "# TYPE app_db_pool_connections gauge" in text


def test_metrics_registry_with_file_store(tmp_path):
    text = _run_registry(tmp_path, "file")
    _check_exposition(text)
    stored = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert all(isinstance(v, int) for v in stored.values()), "only integers are stored"


def test_metrics_registry_with_apcu_store(tmp_path):
    php = _php()
    modules = subprocess.run([php, "-m"], capture_output=True, text=True).stdout
    if not re.search(r"^apcu$", modules, re.M):
        skip("the php CLI has no apcu extension (apt-get install php-apcu): APCu store not exercised")
    _check_exposition(_run_registry(tmp_path, "apcu"))
