"""PgBouncer (pgbouncer.enabled): off by default; when on, the app goes through it, the Jobs do
not, no password lands in a ConfigMap, and its pods are as locked down as the web pods."""

from __future__ import annotations

import configparser
import subprocess

import pytest

from chart_helpers import BASE_VALUES, FULLNAME, NAMESPACE, ROOT, container, helm_template, kinds, one, render, render_error

PGBOUNCER = f"{FULLNAME}-pgbouncer"
PGBOUNCER_HOST = f"{PGBOUNCER}.{NAMESPACE}.svc"
CA_FILE = "/run/secrets/database-ca/ca.crt"
VERIFIED = {"database": {"sslmode": "verify-full", "ca": {"configMapName": "database-ca"}}}
ON = {"pgbouncer": {"enabled": True, "image": {"tag": "0123abcd"}}}
SM_API = "monitoring.coreos.com/v1/ServiceMonitor"
SELECTOR = {"app.kubernetes.io/name": "backend", "app.kubernetes.io/instance": "shop"}
WEB_PODS = {"podSelector": {"matchLabels": {**SELECTOR, "app.kubernetes.io/component": "web"}}}
PGBOUNCER_PODS = {"podSelector": {"matchLabels": {**SELECTOR, "app.kubernetes.io/component": "pgbouncer"}}}
POSTGRESQL_PODS = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}}
PROMETHEUS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}


def _on(**values) -> dict:
    """ON with more pgbouncer values."""
    return {"pgbouncer": {**ON["pgbouncer"], **values}}


def _ini(docs) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(comment_prefixes=(";",), interpolation=None)
    parser.read_string(one(docs, "ConfigMap", PGBOUNCER)["data"]["pgbouncer.ini"])
    return parser


def _pod(docs) -> dict:
    return one(docs, "Deployment", PGBOUNCER)["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def on_docs():
    return render(ON, api_versions=[SM_API])


def test_off_by_default(default_docs):
    assert not [d for d in default_docs if "pgbouncer" in d["metadata"]["name"]]
    data = one(default_docs, "ConfigMap", FULLNAME)["data"]
    assert (data["DB_HOST"], data["DB_PORT"], data["DB_SSLMODE"]) == ("postgresql", "5432", "prefer")


def test_on_renders_deployment_service_configmap(on_docs):
    deployment = one(on_docs, "Deployment", PGBOUNCER)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    pod = _pod(on_docs)
    assert [c["name"] for c in pod["containers"]] == ["pgbouncer", "exporter"]
    assert container(pod, "pgbouncer")["image"] == "laravel-ops/pgbouncer:0123abcd"
    service = one(on_docs, "Service", PGBOUNCER)
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"pgbouncer": 6432, "metrics": 9127}
    one(on_docs, "ConfigMap", PGBOUNCER)
    # the web Service, PDB and ServiceMonitor keep selecting the web pods only
    assert one(on_docs, "Service", FULLNAME)["spec"]["selector"]["app.kubernetes.io/component"] == "web"


def test_app_goes_through_pgbouncer(on_docs):
    data = one(on_docs, "ConfigMap", FULLNAME)["data"]
    # the name PgBouncer's certificate carries, whatever the cluster's domain
    assert (data["DB_HOST"], data["DB_PORT"]) == (PGBOUNCER_HOST, "6432")
    # without a certificate PgBouncer serves no TLS; database.sslmode applies to its hop to PostgreSQL
    assert data["DB_SSLMODE"] == "disable"
    assert _ini(on_docs)["pgbouncer"]["server_tls_sslmode"] == "prefer"
    assert "DB_SSLROOTCERT" not in data
    assert "client_tls_sslmode" not in _ini(on_docs)["pgbouncer"]


def test_upstream_is_the_database_the_app_had():
    docs = render(_on() | {"database": {"host": "db.data.svc", "port": 5433, "name": "shop"}})
    assert dict(_ini(docs)["databases"]) == {"shop": "host=db.data.svc port=5433"}


@pytest.mark.parametrize("hook", [True, False])
def test_jobs_connect_to_postgresql_directly(hook):
    values = _on() | {"migrations": {"hook": hook, "nameSuffix": "r7"}, "database": {"sslmode": "require"}}
    job = one(render(values), "Job")
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["DB_HOST"], env["DB_PORT"], env["DB_SSLMODE"]) == ("postgresql", "5432", "require")
    names = [e["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert len(names) == len(set(names)), "no variable defined twice"


def test_no_secret_in_any_configmap(on_docs):
    secrets = [BASE_VALUES["secrets"]["dbPassword"], BASE_VALUES["secrets"]["appKey"]]
    for configmap in kinds(on_docs, "ConfigMap"):
        text = str(configmap["data"])
        assert not [s for s in secrets if s in text], configmap["metadata"]["name"]
    pod = _pod(on_docs)
    # the password is a file of the Secret, never an environment variable
    env = {e["name"]: e for e in container(pod, "pgbouncer")["env"]}
    assert env["DB_PASSWORD_FILE"]["value"] == "/run/secrets/backend/DB_PASSWORD"
    assert "DB_PASSWORD" not in env
    for c in pod["containers"]:
        assert not [e for e in c.get("env", []) if "valueFrom" in e], c["name"]
        assert "envFrom" not in c, c["name"]
    # the exporter holds no password at all: pg_hba.conf trusts its loopback login (below)
    assert [e["name"] for e in container(pod, "exporter")["env"]] == ["PGBOUNCER_EXPORTER_CONNECTION_STRING", "PGUSER"]
    # the auth file goes to a writable emptyDir, the config and the Secret are mounted read-only
    mounts = {m["mountPath"]: m for m in container(pod, "pgbouncer")["volumeMounts"]}
    assert mounts["/etc/pgbouncer"]["readOnly"] is True
    assert mounts["/run/secrets/backend"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/run/pgbouncer"]["name"]] == {"name": "run", "emptyDir": {"sizeLimit": "8Mi"}}
    secret = volumes[mounts["/run/secrets/backend"]["name"]]["secret"]
    assert secret["secretName"] == FULLNAME
    assert secret["items"] == [{"key": "DB_PASSWORD", "path": "DB_PASSWORD"}]


def test_existing_secret_is_referenced():
    values = _on() | {"secrets": {"existingSecret": "vault-backend", "appKey": "", "dbPassword": ""}}
    pod = _pod(render(values))
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["app-secrets"]["secret"]["secretName"] == "vault-backend"


def test_secret_or_config_change_rolls_the_pods():
    docs = render(_on() | {"podAnnotations": {"laravel-ops.io/secret-version": "42"}})
    annotations = one(docs, "Deployment", PGBOUNCER)["spec"]["template"]["metadata"]["annotations"]
    assert {"checksum/config", "checksum/secret"} <= set(annotations)
    assert annotations["laravel-ops.io/secret-version"] == "42"


def test_pool_settings_default(on_docs):
    settings = _ini(on_docs)["pgbouncer"]
    assert settings["pool_mode"] == "transaction"
    assert (settings["listen_addr"], settings["listen_port"]) == ("0.0.0.0", "6432")
    assert settings["default_pool_size"] == "10"
    assert settings["max_db_connections"] == "10", "server connections bounded by the pool size"
    assert settings["max_client_conn"] == "500"
    assert settings["max_prepared_statements"] == "200"
    # with PostgreSQL gone, clients fail fast (connect timeout below the app's 2 s, a short retry
    # pause so readiness comes back soon after PostgreSQL); a busy pool queues for 10 s
    assert int(settings["server_connect_timeout"]) <= 2 and int(settings["server_login_retry"]) <= 2
    assert settings["query_wait_timeout"] == "10"
    assert settings["auth_file"] == "/run/pgbouncer/userlist.txt"
    assert settings["stats_users"] == "laravel"
    assert (settings["auth_type"], settings["auth_hba_file"]) == ("hba", "/etc/pgbouncer/pg_hba.conf")


def test_hba_trusts_only_the_exporter_on_loopback(on_docs):
    hba = one(on_docs, "ConfigMap", PGBOUNCER)["data"]["pg_hba.conf"]
    rules = [line.split() for line in hba.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert rules == [
        ["host", "pgbouncer", "laravel", "127.0.0.1/32", "trust"],
        ["host", "all", "all", "0.0.0.0/0", "scram-sha-256"],
        ["host", "all", "all", "::/0", "scram-sha-256"],
    ]


def test_pool_settings_from_values():
    docs = render(_on(defaultPoolSize=25, maxClientConn=1000, maxPreparedStatements=0,
                      serverConnectTimeout=5, queryWaitTimeout=10))
    settings = _ini(docs)["pgbouncer"]
    assert (settings["default_pool_size"], settings["max_db_connections"]) == ("25", "25")
    assert (settings["max_client_conn"], settings["max_prepared_statements"]) == ("1000", "0")
    assert (settings["server_connect_timeout"], settings["query_wait_timeout"]) == ("5", "10")
    assert _ini(render(_on(maxDbConnections=40)))["pgbouncer"]["max_db_connections"] == "40"


def test_backend_egress_adds_pgbouncer(on_docs):
    egress = one(on_docs, "NetworkPolicy", FULLNAME)["spec"]["egress"]
    assert {"to": [PGBOUNCER_PODS], "ports": [{"port": 6432, "protocol": "TCP"}]} in egress
    # the Jobs still reach PostgreSQL
    assert {"to": [POSTGRESQL_PODS], "ports": [{"port": 5432, "protocol": "TCP"}]} in egress


def test_pgbouncer_network_policy(on_docs):
    spec = one(on_docs, "NetworkPolicy", PGBOUNCER)["spec"]
    assert spec["podSelector"] == {"matchLabels": PGBOUNCER_PODS["podSelector"]["matchLabels"]}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {"from": [WEB_PODS], "ports": [{"port": 6432, "protocol": "TCP"}]},
        {"from": [PROMETHEUS], "ports": [{"port": 9127, "protocol": "TCP"}]},
    ]
    # the same database and DNS peers as the backend's policy
    backend_egress = one(on_docs, "NetworkPolicy", FULLNAME)["spec"]["egress"]
    assert spec["egress"] == backend_egress[:2]
    assert spec["egress"][0] == {"to": [POSTGRESQL_PODS], "ports": [{"port": 5432, "protocol": "TCP"}]}


def test_pgbouncer_network_policy_external_database_without_metrics():
    docs = render(_on() | {"metrics": {"enabled": False},
                           "networkPolicy": {"database": {"ipBlock": "10.20.0.0/16"}}})
    spec = one(docs, "NetworkPolicy", PGBOUNCER)["spec"]
    assert spec["ingress"] == [{"from": [WEB_PODS], "ports": [{"port": 6432, "protocol": "TCP"}]}]
    assert spec["egress"][0] == {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
                                 "ports": [{"port": 5432, "protocol": "TCP"}]}
    assert [c["name"] for c in _pod(docs)["containers"]] == ["pgbouncer"]
    assert [p["name"] for p in one(docs, "Service", PGBOUNCER)["spec"]["ports"]] == ["pgbouncer"]


def test_network_policy_off():
    assert not kinds(render(_on() | {"networkPolicy": {"enabled": False}}), "NetworkPolicy")


def test_security_context(on_docs):
    pod = _pod(on_docs)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroup"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for c in pod["containers"]:
        context = c["securityContext"]
        # a support image: UID/GID >= 10000, clear of host users (checkov CKV_K8S_40)
        assert (context["runAsUser"], context["runAsGroup"]) == (10001, 10001), c["name"]
        assert context["runAsNonRoot"] is True, c["name"]
        assert context["allowPrivilegeEscalation"] is False, c["name"]
        assert context["readOnlyRootFilesystem"] is True, c["name"]
        assert context["capabilities"]["drop"] == ["ALL"], c["name"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, c["name"]
        assert c["resources"]["requests"] and c["resources"]["limits"], c["name"]
        assert c["livenessProbe"] and c["readinessProbe"], c["name"]
    assert container(pod, "pgbouncer")["readinessProbe"]["tcpSocket"] == {"port": "pgbouncer"}


def test_pods_meet_restricted_pod_security():
    psa_check = ROOT / ".tools" / "bin" / "psa-check"
    if not psa_check.exists():
        pytest.skip("psa-check not built (scripts/build-tools.sh): restricted profile not checked here")
    manifests = helm_template(ON, api_versions=[SM_API]).stdout
    result = subprocess.run([str(psa_check), "-level", "restricted"], input=manifests,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Deployment/{PGBOUNCER}" in result.stdout


def test_service_monitor_for_the_exporter(on_docs):
    sm = one(on_docs, "ServiceMonitor", PGBOUNCER)
    service = one(on_docs, "Service", PGBOUNCER)
    assert sm["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert sm["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s", "scheme": "http"}]
    # the web ServiceMonitor does not pick the PgBouncer Service up
    web_sm = one(on_docs, "ServiceMonitor", FULLNAME)
    assert not web_sm["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert not kinds(render(ON), "ServiceMonitor"), "gated on the CRD like the web one"


def test_exporter_reads_the_admin_console(on_docs):
    exporter = container(_pod(on_docs), "exporter")
    assert exporter["command"] == ["prometheus-pgbouncer-exporter"]
    assert "--web.listen-address=:9127" in exporter["args"]
    env = {e["name"]: e.get("value") for e in exporter["env"]}
    assert env["PGBOUNCER_EXPORTER_CONNECTION_STRING"] == "postgres://127.0.0.1:6432/pgbouncer?sslmode=disable"
    assert env["PGUSER"] == "laravel"


@pytest.mark.parametrize(("replicas", "expected"), [(1, 0), (2, 1)])
def test_pdb_only_with_more_than_one_replica(replicas, expected):
    docs = render(_on(replicaCount=replicas))
    assert len([d for d in kinds(docs, "PodDisruptionBudget") if d["metadata"]["name"] == PGBOUNCER]) == expected


@pytest.mark.parametrize(("values", "expected"), [
    ({"defaultPoolSize": 0}, ["pgbouncer.defaultPoolSize"]),
    ({"maxDbConnections": 0}, ["pgbouncer.maxDbConnections"]),
    ({"maxPreparedStatements": -1}, ["pgbouncer.maxPreparedStatements"]),
    ({"replicaCount": 0}, ["pgbouncer.replicaCount"]),
    ({"poolSize": 10}, ["pgbouncer", "poolSize"]),
    ({"exporter": {"port": 70000}}, ["pgbouncer.exporter.port"]),
])
def test_schema_rejects_bad_values(values, expected):
    error = render_error(_on(**values))
    for text in expected:
        assert text in error


def test_verifying_needs_the_ca_and_a_certificate_for_pgbouncer():
    error = render_error(_on() | {"database": {"sslmode": "verify-full"}})
    assert "database.sslmode=verify-full checks the server's certificate against a CA: set database.ca" in error
    assert "database.sslmode=verify-full with pgbouncer.enabled=true needs pgbouncer.tls.secretName" in error
    assert "2 problems" in error


def test_verified_tls_on_both_hops():
    docs = render(_on(tls={"secretName": "pgbouncer-tls"}) | VERIFIED)
    data = one(docs, "ConfigMap", FULLNAME)["data"]
    assert (data["DB_HOST"], data["DB_SSLMODE"], data["DB_SSLROOTCERT"]) == (PGBOUNCER_HOST, "verify-full", CA_FILE)
    ini = _ini(docs)["pgbouncer"]
    assert (ini["server_tls_sslmode"], ini["server_tls_ca_file"]) == ("verify-full", CA_FILE)
    assert ini["client_tls_sslmode"] == "allow"
    assert ini["client_tls_cert_file"] == "/run/secrets/pgbouncer-tls/tls.crt"
    assert ini["client_tls_key_file"] == "/run/secrets/pgbouncer-tls/tls.key"
    assert ini["client_tls_ca_file"] == CA_FILE
    # every client but the exporter on loopback must use TLS
    hba = [line.split() for line in one(docs, "ConfigMap", PGBOUNCER)["data"]["pg_hba.conf"].splitlines()
           if line.strip() and not line.lstrip().startswith("#")]
    assert hba == [["host", "pgbouncer", "laravel", "127.0.0.1/32", "trust"],
                   ["hostssl", "all", "all", "0.0.0.0/0", "scram-sha-256"],
                   ["hostssl", "all", "all", "::/0", "scram-sha-256"]]
    pod = _pod(docs)
    mounts = {m["name"]: m for m in container(pod, "pgbouncer")["volumeMounts"]}
    assert mounts["database-ca"]["mountPath"] == "/run/secrets/database-ca" and mounts["database-ca"]["readOnly"]
    assert mounts["tls"]["mountPath"] == "/run/secrets/pgbouncer-tls" and mounts["tls"]["readOnly"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["database-ca"]["configMap"] == {"name": "database-ca",
                                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}
    assert volumes["tls"]["secret"]["secretName"] == "pgbouncer-tls"
    assert volumes["tls"]["secret"]["defaultMode"] == 0o440


def test_tls_accepted_but_not_required_below_require():
    docs = render(_on(tls={"secretName": "pgbouncer-tls"}) | {"database": {"sslmode": "prefer"}})
    hba = one(docs, "ConfigMap", PGBOUNCER)["data"]["pg_hba.conf"]
    assert "hostssl" not in hba
    # PgBouncer loads a CA file even when it asks no client for a certificate
    assert _ini(docs)["pgbouncer"]["client_tls_ca_file"] == "/run/secrets/pgbouncer-tls/tls.crt"
    assert one(docs, "ConfigMap", FULLNAME)["data"]["DB_SSLMODE"] == "prefer"


@pytest.mark.parametrize("hook", [True, False])
def test_jobs_verify_postgresql_with_the_ca(hook):
    values = _on(tls={"secretName": "pgbouncer-tls"}) | VERIFIED | {
        "migrations": {"hook": hook, "nameSuffix": "r7"}}
    pod = one(render(values), "Job")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert (env["DB_HOST"], env["DB_SSLMODE"]) == ("postgresql", "verify-full")
    if not hook:
        assert env["DB_SSLROOTCERT"] == CA_FILE
    assert {"name": "database-ca", "mountPath": "/run/secrets/database-ca", "readOnly": True} in \
        pod["containers"][0]["volumeMounts"]
    assert "database-ca" in [v["name"] for v in pod["volumes"]]
