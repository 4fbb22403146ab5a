"""Every environment rendered through render.yml: valid, restricted, and carrying the seed's numbers."""

import pytest
import yaml

from playbook_helpers import ENVIRONMENTS, ROOT, run, tool

SEED_CONTAINERS = {
    "php-fpm": {"requests": {"cpu": "250m", "memory": "256Mi"},
                "limits": {"cpu": "1000m", "memory": "512Mi"}, "uid": 33},
    "nginx": {"requests": {"cpu": "100m", "memory": "128Mi"},
              "limits": {"cpu": "500m", "memory": "256Mi"}, "uid": 101},
}


def by_kind(docs, kind):
    return [doc for doc in docs if doc.get("kind") == kind]


def the_deployment(docs):
    """The web Deployment (an environment may also run PgBouncer's)."""
    deployments = [d for d in by_kind(docs, "Deployment")
                   if d["metadata"]["labels"]["app.kubernetes.io/component"] == "web"]
    assert len(deployments) == 1, [d["metadata"]["name"] for d in by_kind(docs, "Deployment")]
    return deployments[0]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_manifests_validate_against_kubernetes_schema(rendered, environment, capsys):
    result = run([tool("python"), str(ROOT / "tools" / "validate_manifests.py"), "-"],
                 stdin=rendered[environment]["manifests_text"], check=False)
    with capsys.disabled():
        print(f"\n[{environment}] schema: {result.stdout.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 invalid" in result.stdout


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_pods_meet_restricted_pod_security(rendered, environment, capsys):
    result = run([tool("psa-check"), "-level", "restricted"], stdin=rendered[environment]["manifests_text"], check=False)
    checked = [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    with capsys.disabled():
        print(f"\n[{environment}] pod security restricted: {len(checked)} pod specs, "
              f"{sum(line.startswith('FAIL') for line in checked)} failing")
    assert result.returncode == 0, result.stdout + result.stderr
    # Deployment, migration Job (hooks envs), helm test Pod at least.
    assert len(checked) >= 2, result.stdout


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_seed_numbers(rendered, environment):
    docs = rendered[environment]["manifests"]
    deployment = the_deployment(docs)
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    assert pod["terminationGracePeriodSeconds"] == 60
    assert pod["automountServiceAccountToken"] is False
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == set(SEED_CONTAINERS)
    for name, seed in SEED_CONTAINERS.items():
        container = containers[name]
        for bound in ("requests", "limits"):
            cpu_memory = {key: container["resources"][bound][key] for key in ("cpu", "memory")}
            assert cpu_memory == seed[bound], name
            assert container["resources"][bound]["ephemeral-storage"], name
        # Burstable QoS: requests below limits.
        assert container["resources"]["requests"] != container["resources"]["limits"], name
        context = container["securityContext"]
        assert context["runAsUser"] == seed["uid"], name
        assert context["runAsNonRoot"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        assert context["seccompProfile"]["type"] == "RuntimeDefault"
        assert container["lifecycle"]["preStop"], name
        liveness, readiness = container["livenessProbe"], container["readinessProbe"]
        assert readiness["periodSeconds"] < liveness["periodSeconds"], name
    hpa = by_kind(docs, "HorizontalPodAutoscaler")[0]["spec"]
    metrics = {(m["containerResource"]["container"], m["containerResource"]["name"]):
               m["containerResource"]["target"]["averageUtilization"] for m in hpa["metrics"]}
    assert metrics == {("php-fpm", "cpu"): 70, ("php-fpm", "memory"): 80}
    scale_up = hpa["behavior"]["scaleUp"]["policies"]
    assert {"type": "Pods", "value": 2, "periodSeconds": 60} in scale_up
    scale_down = hpa["behavior"]["scaleDown"]["policies"]
    assert {"type": "Percent", "value": 25, "periodSeconds": 60} in scale_down
    budget = by_kind(docs, "PodDisruptionBudget")[0]["spec"]
    # prod lets a drain take one pod at a time (its inventory says why); the seed's minAvailable 1 elsewhere
    assert budget == ({"maxUnavailable": 1} if environment == "prod" else {"minAvailable": 1}) | {
        "selector": budget["selector"]}, budget
    service_account = by_kind(docs, "ServiceAccount")[0]
    assert service_account["automountServiceAccountToken"] is False
    policy = by_kind(docs, "NetworkPolicy")[0]["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    egress_ports = sorted(port["port"] for rule in policy["egress"] for port in rule.get("ports", []))
    # PostgreSQL and DNS, and PgBouncer where the environment runs it
    pgbouncer = rendered[environment]["values"].get("pgbouncer", {}).get("enabled", False)
    assert set(egress_ports) == {53, 5432} | ({6432} if pgbouncer else set()), egress_ports
    assert by_kind(docs, "ServiceMonitor"), "ServiceMonitor missing although the CRD API is present"


def test_environments_differ_only_where_the_inventories_say(rendered):
    """Values files hold only what inventories set; the seed's hardening is identical everywhere."""
    documented = {
        "commonLabels", "app", "autoscaling", "replicaCount", "ingress", "php", "nginx",
        "database", "secrets", "migrations", "metrics", "networkPolicy", "pgbouncer", "images", "pdb",
    }
    for environment in ENVIRONMENTS:
        assert set(rendered[environment]["values"]) <= documented, environment

    def hardening(environment):
        pod = the_deployment(rendered[environment]["manifests"])["spec"]["template"]["spec"]
        return [
            {key: c[key] for key in ("resources", "securityContext", "livenessProbe", "readinessProbe", "lifecycle")}
            for c in pod["containers"]
        ] + [pod["securityContext"], pod["terminationGracePeriodSeconds"]]

    reference = hardening("prod")
    for environment in ENVIRONMENTS:
        assert hardening(environment) == reference, environment

    replicas = {env: (rendered[env]["values"]["autoscaling"]["minReplicas"],
                      rendered[env]["values"]["autoscaling"]["maxReplicas"]) for env in ENVIRONMENTS}
    inventory = {env: yaml.safe_load((ROOT / "inventories" / env / "group_vars" / "all" / "backend.yml").read_text())
                 for env in ENVIRONMENTS}
    assert replicas == {env: (inventory[env]["backend_replicas_min"], inventory[env]["backend_replicas_max"])
                        for env in ENVIRONMENTS}


def test_prod_is_locked_down(rendered):
    values = rendered["prod"]["values"]
    assert values["app"]["debug"] is False
    assert values["migrations"]["enabled"] is False
    kinds = {doc["kind"] for doc in rendered["prod"]["manifests"]}
    jobs = [doc for doc in rendered["prod"]["manifests"] if doc["kind"] == "Job"]
    assert not jobs, "prod must not render migration hook Jobs"
    assert "Secret" not in kinds, "prod takes its secrets from an existing Secret"
    dev_jobs = [doc for doc in rendered["dev"]["manifests"] if doc["kind"] == "Job"]
    assert dev_jobs and all("post-install" in job["metadata"]["annotations"]["helm.sh/hook"] for job in dev_jobs)


def test_rendered_values_carry_no_secret(rendered):
    local_inventory = (ROOT / "inventories" / "local" / "group_vars" / "all" / "backend.yml").read_text()
    secrets = [line.split(":", 1)[1].strip() for line in local_inventory.splitlines()
               if line.startswith(("backend_app_key:", "backend_database_password:"))]
    assert len(secrets) == 2
    for environment in ENVIRONMENTS:
        text = rendered[environment]["values_file"].read_text()
        for secret in secrets:
            assert secret not in text, environment
