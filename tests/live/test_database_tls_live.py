"""TLS to the database as the local inventory asks for it (backend_database_sslmode verify-full):
PostgreSQL and PgBouncer serve a certificate of the CA the postgresql role made, the app's
connections through PgBouncer and the migration Job's direct ones use it, and a client without
TLS is refused by both."""

from __future__ import annotations

import re

from live_helpers import DEPLOYMENT, NAMESPACE, PGBOUNCER_SELECTOR, RELEASE, Load, pod_ips, psql, serving_pods
from operator_helpers import ROOT, Playbook, kube_json, kubectl, wait_for

CA_FILE = "/run/secrets/database-ca/ca.crt"
PGBOUNCER_HOST = f"{DEPLOYMENT}-pgbouncer.{NAMESPACE}.svc"
# PostgreSQL's log_line_prefix '%m [%p] ': the pid ties a connection's lines together.
RECEIVED = re.compile(r"\[(\d+)\] LOG:  connection received: host=(\S+) port=\d+")
AUTHORIZED = re.compile(r"\[(\d+)\] LOG:  connection authorized: user=(\S+) (.*)$", re.M)
# PgBouncer's log: "... C-0x...: laravel/laravel@10.244.0.7:41234 login attempt: db=laravel user=laravel tls=..."
LOGIN = re.compile(r"@(\[?[0-9a-f.:]+\]?):\d+ login attempt: db=\S+ user=\S+ tls=(\S+)")
# Connects with the app's own credentials and CA, with the sslmode given, and says what happened.
PDO_CONNECT = r"""
[$host, $port, $mode] = array_slice($argv, 1);
$dsn = "pgsql:host=$host;port=$port;dbname=laravel;sslmode=$mode;sslrootcert=" . getenv('DB_SSLROOTCERT');
try {
    $pdo = new PDO($dsn, 'laravel', trim(file_get_contents(getenv('DB_PASSWORD_FILE'))));
    echo 'connected: ', $pdo->query('select 1')->fetchColumn();
} catch (PDOException $e) {
    echo 'refused: ', $e->getMessage();
}
"""


def postgresql_connections() -> list[tuple[str, str, str]]:
    """(client address, user, what PostgreSQL logged about the session) for every TCP login."""
    log = kubectl("logs", "-n", NAMESPACE, "postgresql-0", timeout=60).stdout
    hosts = dict(RECEIVED.findall(log))
    return [(hosts[pid], user, rest) for pid, user, rest in AUTHORIZED.findall(log) if pid in hosts]


def connect_from_the_app(host: str, port: int, sslmode: str) -> str:
    pod = serving_pods()[0]["metadata"]["name"]
    return kubectl("exec", "-n", NAMESPACE, pod, "-c", "php-fpm", "--", "php", "-r", PDO_CONNECT,
                   host, str(port), sslmode, timeout=60).stdout.strip()


def test_the_app_reaches_postgresql_through_pgbouncer_over_verified_tls(backend):
    config = kube_json("configmap", DEPLOYMENT, "-n", NAMESPACE)["data"]
    assert (config["DB_HOST"], config["DB_SSLMODE"], config["DB_SSLROOTCERT"]) == (
        PGBOUNCER_HOST, "verify-full", CA_FILE)
    # /readyz asks the database on every request (a table's rows would depend on what earlier
    # tests left in it).
    with Load("/readyz", workers=4, max_requests=120) as load:
        wait_for("120 requests", lambda: load.summary.sent >= 120, timeout=120, interval=1)
    summary = load.summary
    print(summary.report("requests that read the database"))
    assert summary.failed == 0, summary.failures

    # PgBouncer's side: every login of the web pods came over TLS.
    logins = []
    for pod in kube_json("pods", "-n", NAMESPACE, "-l", PGBOUNCER_SELECTOR)["items"]:
        log = kubectl("logs", "-n", NAMESPACE, pod["metadata"]["name"], "-c", "pgbouncer", timeout=60).stdout
        logins += LOGIN.findall(log)
    web = pod_ips(f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=web")
    app_logins = [(address, tls) for address, tls in logins if address in web]
    print(f"PgBouncer logins from the web pods: {len(app_logins)}, over TLS: "
          f"{sum(tls != 'no' for _, tls in app_logins)} ({sorted(set(tls for _, tls in app_logins))})")
    assert app_logins, f"no login of a web pod in PgBouncer's log ({len(logins)} logins in all)"
    assert all(tls != "no" for _, tls in app_logins), app_logins

    # PostgreSQL's side: PgBouncer's server connections, as pg_stat_ssl sees them.
    rows = [line.split("|") for line in psql(
        "select a.client_addr, s.ssl, s.version from pg_stat_ssl s join pg_stat_activity a using (pid) "
        "where a.usename = 'laravel' and a.backend_type = 'client backend' and a.pid <> pg_backend_pid()"
    ).splitlines()]
    print(f"pg_stat_ssl of the app's server connections: {rows}")
    pgbouncers = pod_ips(PGBOUNCER_SELECTOR)
    assert rows, "PgBouncer keeps no server connection after the requests"
    assert all(address in pgbouncers and ssl == "t" and version.startswith("TLS") for address, ssl, version in rows)


def test_the_migration_job_connects_to_postgresql_over_tls(backend, tmp_path):
    # A Job of this test's own: PostgreSQL's log of the deploy's hooks ends where another test
    # restarted the database.
    Playbook(tmp_path, backend.base_vars, backend.user, backend.password,
             playbook=ROOT / "playbooks" / "migrate.yml")()
    pgbouncers = pod_ips(PGBOUNCER_SELECTOR)
    connections = postgresql_connections()
    direct = [(address, rest) for address, user, rest in connections
              if user == "laravel" and address not in pgbouncers]
    jobs = pod_ips(f"app.kubernetes.io/instance={RELEASE},job-name")
    print(f"PostgreSQL logins: {len(connections)}; not from PgBouncer: {len(direct)} "
          f"(from Job pods {sorted(jobs)}): {sorted(set(rest for _, rest in direct))}")
    assert direct, "no connection of the migration Job in PostgreSQL's log"
    assert not jobs or {address for address, _ in direct} & jobs
    assert all("SSL enabled (protocol=TLS" in rest for _, _, rest in connections), connections


def test_clients_without_tls_are_refused(backend):
    verified = connect_from_the_app(PGBOUNCER_HOST, 6432, "verify-full")
    plaintext = connect_from_the_app(PGBOUNCER_HOST, 6432, "disable")
    print(f"PgBouncer, verify-full: {verified!r}; without TLS: {plaintext!r}")
    assert verified == "connected: 1"
    assert plaintext.startswith("refused:"), plaintext
    # PostgreSQL itself, over the pod's own loopback (TCP, so pg_hba's hostssl lines decide).
    direct = kubectl("exec", "-n", NAMESPACE, "postgresql-0", "--", "sh", "-c",
                     'exec "$(ls -d /usr/lib/postgresql/*/bin | tail -1)/psql" '
                     '"host=127.0.0.1 dbname=laravel user=laravel sslmode=disable" -c "select 1"',
                     check=False, timeout=60)
    print(f"PostgreSQL without TLS: {direct.stderr.strip()!r}")
    assert direct.returncode != 0 and "no encryption" in direct.stderr
