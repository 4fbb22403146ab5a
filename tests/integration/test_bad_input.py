"""Wrong inventory or chart input stops deploy.yml in its first play, naming the variable.

The runs use a kubeconfig pointing at a port nothing listens on: had any task reached for the
cluster, the run would fail with a connection error instead of the expected message.
"""

import re

import pytest

from playbook_helpers import ROOT, ansible_playbook

LOCAL_APP_KEY = "base64:bG9jYWwtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA="
LOCAL_DB_PASSWORD = "local-only-password"
PLAINTEXT_KEY = "plaintext-app-key-do-not-print"

# (id, inventory, extra vars, words the error must contain)
CASES = [
    ("unknown-environment", "local", {"backend_environment": "production"},
     ["backend_environment", "local", "prod"]),
    ("log-level-not-allowed", "local", {"backend_log_level": "verbose"},
     ["log_level", "debug", "warning"]),
    ("replicas-min-above-max", "local", {"backend_replicas_min": 5, "backend_replicas_max": 3},
     ["backend_replicas_min", "backend_replicas_max"]),
    ("replicas-not-a-number", "local", {"backend_replicas_min": "two"},
     ["replicas_min", "int"]),
    ("debug-in-prod", "prod", {"backend_app_debug": True},
     ["backend_app_debug", "prod"]),
    ("hooks-in-prod", "prod", {"backend_migrations_mode": "hooks"},
     ["backend_migrations_mode", "job"]),
    ("seed-in-prod", "prod", {"backend_seed": True},
     ["backend_seed", "prod"]),
    ("bad-digest", "local", {"backend_php_image": {"registry": "127.0.0.1:5000", "repository": "laravel-ops/backend-php",
                                                   "digest": "sha256:1234"}},
     ["backend_php_image", "digest", "sha256"]),
    ("database-port-out-of-range", "local", {"backend_database": {"host": "db", "port": 70000, "name": "app",
                                                                  "username": "app"}},
     ["backend_database", "port", "65535"]),
    ("both-secret-forms", "local", {"backend_existing_secret": "external-secrets"},
     ["backend_existing_secret", "backend_app_key"]),
    ("no-secret-at-all", "dev", {},
     ["backend_existing_secret", "backend_app_key"]),
    ("app-key-not-laravel-format", "local", {"backend_app_key": PLAINTEXT_KEY},
     ["backend_app_key", "base64:"]),
    ("typo-in-chart-values", "local", {"backend_chart_values": {"autoscalling": {"enabled": False}}},
     ["autoscalling"]),
    ("bad-quantity-in-chart-values", "local", {"backend_chart_values": {"php": {"resources": {"limits": {"cpu": "lots"}}}}},
     ["php.resources.limits.cpu"]),
    ("ingress-host-not-dns", "staging", {"backend_ingress_host": "Not A Host"},
     ["backend_ingress_host"]),
    ("migrations-mode-unknown", "local", {"backend_migrations_mode": "sometimes"},
     ["migrations_mode", "hooks", "job"]),
    ("grace-period-too-short", "local", {"backend_chart_values": {"terminationGracePeriodSeconds": 10}},
     ["terminationGracePeriodSeconds"]),
    ("alert-ratio-above-one", "local", {"backend_alerts": {"errorRate": {"threshold": 1.5}}},
     ["backend_alerts.errorRate.threshold: 1.5", "at most 1"]),
    ("alert-for-unparsable", "staging", {"backend_alerts": {"latencyP95": {"for": "ten minutes"}}},
     ["backend_alerts.latencyP95.for", "Prometheus duration"]),
    ("alert-negative-latency-in-chart-values", "local",
     {"backend_chart_values": {"metrics": {"prometheusRule": {"rules": {"latencyP95": {"thresholdSeconds": -1}}}}}},
     ["metrics.prometheusRule.rules.latencyP95.thresholdSeconds (-1)"]),
    ("unknown-operator-component", "local", {"prometheus_operator_components": {"grafanna": True}},
     ["prometheus_operator_components", "grafana"]),
    ("logging-endpoint-without-scheme", "local", {"log_collector_endpoint": "victorialogs.example.com:9428"},
     ['log_collector_endpoint: "victorialogs.example.com:9428" has no scheme', "http:// or https://"]),
    ("logging-endpoint-unknown-protocol", "prod",
     {"log_collector_enabled": True, "log_collector_endpoint": "tcp://logs.example.com:5170"},
     ["log_collector_endpoint", 'uses protocol "tcp"', "http:// or https://"]),
    ("logging-endpoint-with-credentials", "local",
     {"log_collector_endpoint": f"https://shipper:{PLAINTEXT_KEY}@logs.example.com/otlp"},
     ["log_collector_endpoint: logs.example.com (credentials left out) carries credentials.", "credentials go into log_collector_headers"]),
    ("logging-header-name", "local", {"log_collector_headers": {"Bad Header": PLAINTEXT_KEY}},
     ["log_collector_headers", '["Bad Header"]']),
]


@pytest.mark.parametrize("inventory,extra_vars,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_the_cluster(tmp_path, inventory, extra_vars, expected):
    result = ansible_playbook(ROOT / "deploy.yml", inventory, tmp_path, extra_vars=extra_vars, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    for word in expected:
        assert word in output, f"{word!r} missing from the error:\n{output[-4000:]}"
    # The failure happened in the first play, before any task that talks to the cluster.
    assert "PLAY [Deploy the Laravel backend]" not in output, output[-3000:]
    assert not re.search(r"127\.0\.0\.1:9\b|Connection refused|Max retries exceeded", output), output[-3000:]
    for secret in (LOCAL_APP_KEY, LOCAL_DB_PASSWORD, PLAINTEXT_KEY):
        assert secret not in output, f"a secret value leaked into the output of {extra_vars}"


@pytest.mark.parametrize("inventory,extra_vars", [
    ("local", {}), ("staging", {}), ("prod", {}),
    ("dev", {"vault_backend_app_key": LOCAL_APP_KEY, "vault_backend_database_password": "dev-password"}),
])
def test_shipped_inventories_pass_the_checks(tmp_path, inventory, extra_vars):
    """The same gate accepts every shipped inventory (dev with the secrets AWX would inject)."""
    result = ansible_playbook(ROOT / "playbooks" / "check.yml", inventory, tmp_path, extra_vars=extra_vars)
    assert "failed=0" in result.stdout, result.stdout[-3000:]
    assert "dev-password" not in result.stdout + result.stderr


def test_every_problem_of_an_inventory_is_reported_in_one_run(tmp_path):
    """Four mistakes, one in each kind of rule: all four come back from the first task, together."""
    extra_vars = {"backend_log_level": "debug", "backend_replicas_min": "two", "backend_seeed": True,
                  "backend_php_image": {"registry": "registry.example.com/team", "repository": "acme/back--end"}}
    result = ansible_playbook(ROOT / "deploy.yml", "prod", tmp_path, extra_vars=extra_vars, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "backend_inventory_check: 4 problems in the inventory" in output, output[-4000:]
    for line in ("backend_replicas_min: 'two' is not an integer",
                 "backend_php_image.registry: 'registry.example.com/team' is not valid",
                 "backend_seeed: unknown inventory variable (did you mean backend_seed?)",
                 "backend_log_level: 'debug' is not allowed in prod"):
        assert line in output, f"{line!r} missing:\n{output[-4000:]}"
    assert "PLAY [Deploy the Laravel backend]" not in output


def test_prod_values_without_digests_are_refused_naming_the_variables(tmp_path):
    """render.yml for prod asks the registry for the digests; one that cannot be asked (here a
    loopback port nothing listens on) stops it, naming the image variables."""
    images = {name: {"registry": "127.0.0.1:9", "repository": f"laravel-ops/backend-{target}"}
              for name, target in (("backend_php_image", "php"), ("backend_nginx_image", "nginx"))}
    result = ansible_playbook(ROOT / "playbooks" / "render.yml", "prod", tmp_path,
                              extra_vars={"render_output_dir": str(tmp_path / "out"), **images}, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "backend_php_image / backend_nginx_image: prod deploys images pinned by digest" in output, output[-3000:]
    assert "127.0.0.1:9/laravel-ops/backend-php" in output
    assert not (tmp_path / "out" / "values-prod.yaml").exists()
