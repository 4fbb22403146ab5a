"""The Deployment with the seed's numbers (DESIGN.md section 3) under the default values."""

from __future__ import annotations

import pytest

from chart_helpers import FULLNAME, container, kinds, one, render

PHP_MOUNTS = {
    "/tmp",
    "/var/www/html/storage",
    "/var/www/html/storage/framework/cache",
    "/var/www/html/storage/framework/sessions",
    "/var/www/html/storage/framework/views",
    "/var/www/html/storage/logs",
    "/var/www/html/bootstrap/cache",
}


def _quantity_cpu(value) -> float:
    value = str(value)
    return float(value[:-1]) / 1000 if value.endswith("m") else float(value)


def _quantity_mem(value) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    value = str(value)
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return int(value[: -len(suffix)]) * factor
    return int(value)


def test_default_objects(default_docs):
    got = sorted((d["kind"], d["metadata"]["name"]) for d in default_docs)
    expected = sorted(
        [
            ("ConfigMap", FULLNAME),
            ("Deployment", FULLNAME),
            ("HorizontalPodAutoscaler", FULLNAME),
            ("Job", f"{FULLNAME}-migrate"),
            ("NetworkPolicy", FULLNAME),
            ("NetworkPolicy", f"{FULLNAME}-test-connection"),
            ("Pod", f"{FULLNAME}-test-connection"),
            ("PodDisruptionBudget", FULLNAME),
            ("Secret", FULLNAME),
            ("Service", FULLNAME),
            ("ServiceAccount", FULLNAME),
        ]
    )
    assert got == expected


def test_every_object_carries_standard_labels_and_namespace(default_docs):
    for doc in default_docs:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "backend", doc["kind"]
        assert labels["app.kubernetes.io/instance"] == "shop", doc["kind"]
        assert labels["app.kubernetes.io/managed-by"] == "Helm", doc["kind"]
        assert labels["helm.sh/chart"] == "backend-0.1.0", doc["kind"]
        assert labels["app.kubernetes.io/version"] == "1.0.0", doc["kind"]
        assert doc["metadata"]["namespace"] == "web", doc["kind"]


def test_two_containers(pod):
    assert [c["name"] for c in pod["containers"]] == ["php-fpm", "nginx"]
    # the web port, and a port of its own for /metrics (Prometheus only)
    assert container(pod, "nginx")["ports"] == [
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9113, "protocol": "TCP"},
    ]


def test_php_fpm_declares_no_port(pod):
    """php-fpm listens on loopback only: nothing outside the pod may reach FastCGI."""
    assert "ports" not in container(pod, "php-fpm")


def test_metrics_port_follows_values():
    docs = render({"nginx": {"metricsPort": 9200}, "service": {"metricsPort": 9300}})
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert {"name": "metrics", "containerPort": 9200, "protocol": "TCP"} in container(spec, "nginx")["ports"]
    ports = one(docs, "Service")["spec"]["ports"]
    assert {"name": "metrics", "port": 9300, "targetPort": "metrics", "protocol": "TCP"} in ports
    rules = one(docs, "NetworkPolicy", FULLNAME)["spec"]["ingress"]
    assert rules[1]["ports"] == [{"port": 9200, "protocol": "TCP"}]


@pytest.mark.parametrize(
    "name, requests, limits",
    [
        ("php-fpm", {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "256Mi"},
         {"cpu": "1000m", "memory": "512Mi", "ephemeral-storage": "1Gi"}),
        ("nginx", {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
         {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "512Mi"}),
    ],
)
def test_resources(pod, name, requests, limits):
    resources = container(pod, name)["resources"]
    assert resources == {"requests": requests, "limits": limits}


def test_qos_burstable(pod):
    """Every container has requests and limits, and requests != limits (Burstable, not Guaranteed)."""
    for c in pod["containers"]:
        req, lim = c["resources"]["requests"], c["resources"]["limits"]
        assert set(req) == set(lim) == {"cpu", "memory", "ephemeral-storage"}, c["name"]
        assert req != lim, c["name"]
        assert _quantity_cpu(req["cpu"]) < _quantity_cpu(lim["cpu"]), c["name"]
        assert _quantity_mem(req["memory"]) < _quantity_mem(lim["memory"]), c["name"]


@pytest.mark.parametrize("name, uid", [("php-fpm", 33), ("nginx", 101)])
def test_container_security_context(pod, name, uid):
    sc = container(pod, name)["securityContext"]
    assert sc == {
        "runAsUser": uid,
        "runAsGroup": uid,
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_pod_security_and_service_account(pod):
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "fsGroup": 33,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == FULLNAME
    assert pod["enableServiceLinks"] is False


def test_service_account_automount_false(default_docs):
    sa = one(default_docs, "ServiceAccount", FULLNAME)
    assert sa["automountServiceAccountToken"] is False


def test_service_account_not_created():
    docs = render({"serviceAccount": {"create": False, "name": "shared"}})
    assert not kinds(docs, "ServiceAccount")
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "shared"
    assert spec["automountServiceAccountToken"] is False


def test_grace_period_and_prestop(pod):
    assert pod["terminationGracePeriodSeconds"] == 60
    php = container(pod, "php-fpm")["lifecycle"]["preStop"]["exec"]["command"]
    assert php == ["sleep", "5"]
    nginx = container(pod, "nginx")["lifecycle"]["preStop"]["exec"]["command"]
    assert nginx[:2] == ["/bin/sh", "-c"]
    script = nginx[2]
    assert script.startswith("sleep 5;")
    assert script.index("sleep 5") < script.index("nginx -s quit")


def test_prestop_follows_value():
    docs = render({"lifecycle": {"preStopSleepSeconds": 12}, "terminationGracePeriodSeconds": 90})
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] == 90
    assert container(spec, "php-fpm")["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "12"]
    assert container(spec, "nginx")["lifecycle"]["preStop"]["exec"]["command"][2].startswith("sleep 12;")


def test_fpm_timeouts_exported(pod):
    env = {e["name"]: e["value"] for e in container(pod, "php-fpm")["env"]}
    assert env["PHP_FPM_REQUEST_TERMINATE_TIMEOUT"] == "30"
    assert env["PHP_FPM_PROCESS_CONTROL_TIMEOUT"] == "40"


def test_rolling_update_strategy(deployment):
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert deployment["spec"]["revisionHistoryLimit"] == 10


def test_recreate_strategy_has_no_rolling_update():
    docs = render({"updateStrategy": {"type": "Recreate"}})
    assert one(docs, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}


def test_replicas_left_to_hpa(deployment):
    assert "replicas" not in deployment["spec"]


def test_replicas_without_hpa():
    docs = render({"autoscaling": {"enabled": False}, "replicaCount": 3})
    assert one(docs, "Deployment")["spec"]["replicas"] == 3
    assert not kinds(docs, "HorizontalPodAutoscaler")


def test_selector_matches_pod_labels_and_service(default_docs, deployment):
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector == {
        "app.kubernetes.io/name": "backend",
        "app.kubernetes.io/instance": "shop",
        "app.kubernetes.io/component": "web",
    }
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    service = one(default_docs, "Service")
    assert service["spec"]["selector"] == selector
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
        {"name": "metrics", "port": 9113, "targetPort": "metrics", "protocol": "TCP"},
    ]
    # the metrics port only while metrics are on (the Ingress keeps routing to `http`)
    ports = one(render({"metrics": {"enabled": False}}), "Service")["spec"]["ports"]
    assert [p["name"] for p in ports] == ["http"]


def test_job_and_test_pods_stay_out_of_the_service(default_docs, deployment):
    selector = deployment["spec"]["selector"]["matchLabels"]
    job_labels = one(default_docs, "Job")["spec"]["template"]["metadata"]["labels"]
    test_labels = one(default_docs, "Pod")["metadata"]["labels"]
    assert not selector.items() <= job_labels.items()
    assert not selector.items() <= test_labels.items()


def test_probes_distinct_and_readiness_more_frequent(pod):
    php, nginx = container(pod, "php-fpm"), container(pod, "nginx")
    for c in (php, nginx):
        live, ready = c["livenessProbe"], c["readinessProbe"]
        assert ready["periodSeconds"] < live["periodSeconds"], c["name"]
        assert ready != live, c["name"]
    assert nginx["livenessProbe"]["httpGet"] == {"path": "/nginx-health", "port": "http"}
    assert nginx["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert nginx["readinessProbe"]["periodSeconds"] == 5
    assert nginx["livenessProbe"]["periodSeconds"] == 15
    # liveness asks php-fpm's master (busy workers do not restart the pod); readiness and
    # startup ping through a worker
    assert php["livenessProbe"]["exec"]["command"] == ["/usr/local/bin/php-fpm-healthcheck", "--liveness"]
    assert php["readinessProbe"]["exec"]["command"] == ["/usr/local/bin/php-fpm-healthcheck"]
    assert php["startupProbe"]["exec"]["command"] == ["/usr/local/bin/php-fpm-healthcheck"]
    assert php["readinessProbe"]["periodSeconds"] == 5
    assert php["livenessProbe"]["periodSeconds"] == 15
    assert "startupProbe" not in nginx


def test_php_probe_commands_from_values():
    docs = render({"php": {"healthcheck": {"livenessCommand": ["/bin/alive"], "readinessCommand": ["/bin/ready", "-q"]}}})
    php = container(one(docs, "Deployment")["spec"]["template"]["spec"], "php-fpm")
    assert php["livenessProbe"] == {**php["livenessProbe"], "exec": {"command": ["/bin/alive"]}}
    assert php["readinessProbe"]["exec"] == {"command": ["/bin/ready", "-q"]}
    assert php["startupProbe"]["exec"] == {"command": ["/bin/ready", "-q"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert set(php[probe]) - {"exec"} <= {"initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                                             "failureThreshold", "successThreshold"}, probe


def test_probes_can_be_disabled():
    docs = render({"php": {"startupProbe": {"enabled": False}}, "nginx": {"livenessProbe": {"enabled": False}}})
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert "startupProbe" not in container(spec, "php-fpm")
    assert "livenessProbe" not in container(spec, "nginx")
    assert "readinessProbe" in container(spec, "nginx")


def test_writable_paths_are_emptydirs(pod):
    volumes = {v["name"]: v for v in pod["volumes"]}
    php_mounts = {m["mountPath"]: m["name"] for m in container(pod, "php-fpm")["volumeMounts"]
                  if not m.get("readOnly")}
    assert set(php_mounts) == PHP_MOUNTS
    nginx_mounts = {m["mountPath"]: m["name"] for m in container(pod, "nginx")["volumeMounts"]}
    assert set(nginx_mounts) == {"/tmp", "/tmp/nginx"}
    for name in list(php_mounts.values()) + list(nginx_mounts.values()):
        assert set(volumes[name]) == {"name", "emptyDir"}, name
        assert set(volumes[name]["emptyDir"]) == {"sizeLimit"}, name
    # no volume shared between the two containers' writable paths
    assert not set(php_mounts.values()) & set(nginx_mounts.values())


def test_env_from_configmap_and_secret_as_files(default_docs, pod):
    php = container(pod, "php-fpm")
    assert php["envFrom"] == [{"configMapRef": {"name": FULLNAME}}]
    assert "envFrom" not in container(pod, "nginx")
    # the Secret as read-only files, named by <NAME>_FILE; never an environment variable
    env = {e["name"]: e for e in php["env"]}
    assert env["APP_KEY_FILE"] == {"name": "APP_KEY_FILE", "value": "/run/secrets/backend/APP_KEY"}
    assert env["DB_PASSWORD_FILE"] == {"name": "DB_PASSWORD_FILE", "value": "/run/secrets/backend/DB_PASSWORD"}
    assert not [e for e in php["env"] if "valueFrom" in e]
    mounts = {m["mountPath"]: m for m in php["volumeMounts"]}
    assert mounts["/run/secrets/backend"] == {"name": "app-secrets", "mountPath": "/run/secrets/backend",
                                              "readOnly": True}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["app-secrets"]["secret"] == {
        "secretName": FULLNAME, "defaultMode": 0o440,
        "items": [{"key": "APP_KEY", "path": "APP_KEY"}, {"key": "DB_PASSWORD", "path": "DB_PASSWORD"}]}
    assert "app-secrets" not in [m["name"] for m in container(pod, "nginx")["volumeMounts"]]
    data = one(default_docs, "ConfigMap")["data"]
    assert data == {
        "APP_ENV": "production",
        "APP_DEBUG": "false",
        "APP_URL": "",
        "LOG_CHANNEL": "stderr",
        "LOG_STDERR_FORMATTER": "Monolog\\Formatter\\JsonFormatter",
        "LOG_LEVEL": "info",
        "DB_CONNECTION": "pgsql",
        "DB_HOST": "postgresql",
        "DB_PORT": "5432",
        "DB_DATABASE": "laravel",
        "DB_USERNAME": "laravel",
        "DB_SSLMODE": "prefer",
    }


def test_config_values_and_extra_env():
    docs = render(
        {
            "app": {"env": "staging", "debug": True, "logLevel": "debug", "url": "https://x.test",
                    "extraEnv": {"CACHE_STORE": "array", "WORKERS": 4}},
            "database": {"host": "db.internal", "port": 6432, "name": "shop", "username": "shop",
                         "sslmode": "verify-full", "ca": {"secretName": "rds-ca", "key": "bundle.pem"}},
        }
    )
    data = one(docs, "ConfigMap")["data"]
    assert data["APP_ENV"] == "staging"
    assert data["APP_DEBUG"] == "true"
    assert data["LOG_LEVEL"] == "debug"
    assert data["APP_URL"] == "https://x.test"
    assert (data["DB_HOST"], data["DB_PORT"], data["DB_DATABASE"]) == ("db.internal", "6432", "shop")
    assert data["DB_SSLMODE"] == "verify-full"
    assert data["DB_SSLROOTCERT"] == "/run/secrets/database-ca/ca.crt"
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert {"name": "database-ca", "secret": {"secretName": "rds-ca", "items": [{"key": "bundle.pem", "path": "ca.crt"}]}} \
        in pod["volumes"]
    mounts = {c["name"]: [m["name"] for m in c["volumeMounts"]] for c in pod["containers"]}
    assert "database-ca" in mounts["php-fpm"] and "database-ca" not in mounts["nginx"]
    assert data["CACHE_STORE"] == "array"
    assert data["WORKERS"] == "4"


def test_checksums_roll_pods_on_config_change(deployment):
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert len(annotations["checksum/config"]) == 64
    assert len(annotations["checksum/secret"]) == 64
    changed = one(render({"app": {"logLevel": "error"}}), "Deployment")
    new = changed["spec"]["template"]["metadata"]["annotations"]
    assert new["checksum/config"] != annotations["checksum/config"]
    assert new["checksum/secret"] == annotations["checksum/secret"]
    rotated = one(render({"secrets": {"dbPassword": "rotated"}}), "Deployment")
    assert rotated["spec"]["template"]["metadata"]["annotations"]["checksum/secret"] != annotations["checksum/secret"]


def test_soft_anti_affinity_by_default(pod):
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "web"
    docs = render({"podAntiAffinityPreset": ""})
    assert "affinity" not in one(docs, "Deployment")["spec"]["template"]["spec"]


def test_common_labels_and_annotations():
    docs = render({"commonLabels": {"team": "shop"}, "commonAnnotations": {"owner": "ops@example.test"}})
    for doc in docs:
        assert doc["metadata"]["labels"]["team"] == "shop", doc["kind"]
        assert doc["metadata"]["annotations"]["owner"] == "ops@example.test", doc["kind"]
    dep = one(docs, "Deployment")
    assert dep["spec"]["template"]["metadata"]["labels"]["team"] == "shop"
    assert "team" not in dep["spec"]["selector"]["matchLabels"]


def test_fullname_override():
    docs = render({"fullnameOverride": "api"})
    assert {d["metadata"]["name"] for d in docs if d["kind"] in ("Deployment", "Service", "ConfigMap")} == {"api"}
    assert one(docs, "Job")["metadata"]["name"] == "api-migrate"


def test_image_pull_secrets_names_and_objects():
    docs = render({"imagePullSecrets": ["regcred", {"name": "other"}]})
    for kind_name, spec in [("Deployment", one(docs, "Deployment")["spec"]["template"]["spec"]),
                            ("Job", one(docs, "Job")["spec"]["template"]["spec"]),
                            ("Pod", one(docs, "Pod")["spec"])]:
        assert spec["imagePullSecrets"] == [{"name": "regcred"}, {"name": "other"}], kind_name
