"""Production hardening: digest switch, disruption budgets, topology spread, priority class,
local storage bounds, Kubernetes versions, the test pod's NetworkPolicy, checkov annotations."""

from __future__ import annotations

import pytest
import yaml

from chart_helpers import (CHART, FULLNAME, container, helm_template, kinds, one, pod_specs, render,
                           render_error)

DIGEST = "sha256:" + "c" * 64
SM_API = "monitoring.coreos.com/v1/ServiceMonitor"
PGB = {"pgbouncer": {"enabled": True, "replicaCount": 2}}
WEB_SELECTOR = {"app.kubernetes.io/name": "backend", "app.kubernetes.io/instance": "shop",
                "app.kubernetes.io/component": "web"}
DNS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}


@pytest.fixture(scope="module")
def every_pod_docs():
    """Every workload the chart can make: web, PgBouncer (with its exporter), both Jobs, test pod."""
    return render(PGB | {"migrations": {"seed": {"enabled": True}}}, api_versions=[SM_API])


# --- images.requireDigest ---------------------------------------------------------------------

def test_require_digest_off_by_default(default_docs):
    assert one(default_docs, "Deployment", FULLNAME)


def test_require_digest_names_every_image_without_one():
    error = render_error({"images": {"requireDigest": True}} | PGB)
    assert "3 problems in the values" in error
    for path in ("php.image.digest", "nginx.image.digest", "pgbouncer.image.digest"):
        assert f"{path} is required (images.requireDigest=true)" in error, error


def test_require_digest_only_for_images_in_use():
    error = render_error({"images": {"requireDigest": True}, "php": {"image": {"digest": DIGEST}}})
    assert "1 problem in the values" in error
    assert "nginx.image.digest is required" in error
    assert "php.image.digest" not in error and "pgbouncer.image.digest" not in error


def test_require_digest_passes_with_digests_and_holds_for_the_plain_job():
    pinned = {"images": {"requireDigest": True}, "php": {"image": {"digest": DIGEST}},
              "nginx": {"image": {"digest": DIGEST}}}
    docs = render(pinned | PGB | {"pgbouncer": {**PGB["pgbouncer"], "image": {"digest": DIGEST}}})
    assert all("@sha256:" in c["image"] for _, spec in pod_specs(docs) for c in spec["containers"])
    # the prod flow renders only the Job file: the switch still applies
    error = render_error({"images": {"requireDigest": True}},
                         ["migrations.hook=false", "migrations.nameSuffix=7"], show_only="templates/migrations-job.yaml")
    assert "php.image.digest is required" in error


# --- PodDisruptionBudgets ---------------------------------------------------------------------

def _pdb(docs, name=FULLNAME):
    return one(docs, "PodDisruptionBudget", name)["spec"]


def test_pdb_max_unavailable_instead_of_min_available():
    spec = _pdb(render(sets=["pdb.minAvailable=null", "pdb.maxUnavailable=1"]))
    assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec
    spec = _pdb(render({"pdb": {"minAvailable": None, "maxUnavailable": "25%"}}))
    assert spec["maxUnavailable"] == "25%" and "minAvailable" not in spec


def test_pdb_default_keeps_min_available(default_docs):
    spec = _pdb(default_docs)
    assert spec["minAvailable"] == 1 and "maxUnavailable" not in spec


@pytest.mark.parametrize("values, expected", [
    ({"pdb": {"maxUnavailable": 1}}, "pdb.minAvailable (1) and pdb.maxUnavailable (1) are mutually exclusive"),
    ({"pdb": {"minAvailable": None}}, "pdb.minAvailable and pdb.maxUnavailable are both null"),
    (PGB | {"pgbouncer": {**PGB["pgbouncer"], "pdb": {"maxUnavailable": "50%"}}},
     "pgbouncer.pdb.minAvailable (1) and pgbouncer.pdb.maxUnavailable (50%) are mutually exclusive"),
    (PGB | {"pgbouncer": {**PGB["pgbouncer"], "pdb": {"minAvailable": None}}},
     "pgbouncer.pdb.minAvailable and pgbouncer.pdb.maxUnavailable are both null"),
])
def test_pdb_needs_exactly_one_bound(values, expected):
    assert expected in render_error(values)


def test_pdb_off_skips_the_check():
    docs = render({"pdb": {"enabled": False, "maxUnavailable": 1}})
    assert not kinds(docs, "PodDisruptionBudget")


def test_pgbouncer_pdb_bounds():
    docs = render(PGB)
    assert _pdb(docs, f"{FULLNAME}-pgbouncer") == {
        "minAvailable": 1, "selector": {"matchLabels": {**WEB_SELECTOR, "app.kubernetes.io/component": "pgbouncer"}}}
    docs = render(PGB | {"pgbouncer": {**PGB["pgbouncer"], "pdb": {"minAvailable": None, "maxUnavailable": 1}}})
    spec = _pdb(docs, f"{FULLNAME}-pgbouncer")
    assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec


# --- topology spread --------------------------------------------------------------------------

def test_topology_spread_over_nodes_and_zones(pod, deployment):
    constraints = pod["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in constraints] == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    for c in constraints:
        assert c["maxSkew"] == 1 and c["whenUnsatisfiable"] == "ScheduleAnyway"
        # the web pods' own selector: the Job and test pods do not count
        assert c["labelSelector"] == {"matchLabels": deployment["spec"]["selector"]["matchLabels"]}


def test_topology_spread_switches():
    spec = one(render({"topologySpread": {"whenUnsatisfiable": "DoNotSchedule", "maxSkew": 2}}),
               "Deployment")["spec"]["template"]["spec"]
    assert {(c["whenUnsatisfiable"], c["maxSkew"]) for c in spec["topologySpreadConstraints"]} == {("DoNotSchedule", 2)}
    spec = one(render({"topologySpread": {"enabled": False}}), "Deployment")["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in spec


def test_free_form_constraints_replace_the_switch():
    own = [{"maxSkew": 3, "topologyKey": "example.test/rack", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "x"}}}]
    spec = one(render({"topologySpreadConstraints": own}), "Deployment")["spec"]["template"]["spec"]
    assert spec["topologySpreadConstraints"] == own


# --- priority class, local storage ------------------------------------------------------------

def test_every_pod_carries_the_priority_class():
    docs = render(PGB | {"migrations": {"seed": {"enabled": True}}, "priorityClassName": "backend-critical",
                         "nodeSelector": {"pool": "web"}})
    specs = pod_specs(docs)
    assert {where.split("/")[0] for where, _ in specs} == {"Deployment", "Job", "Pod"}
    assert len(specs) == 5  # web, PgBouncer, migrate, seed, test
    for where, spec in specs:
        assert spec["priorityClassName"] == "backend-critical", where
        assert spec["nodeSelector"] == {"pool": "web"}, where


def test_no_priority_class_by_default(every_pod_docs):
    assert not [where for where, spec in pod_specs(every_pod_docs) if "priorityClassName" in spec]


def test_every_empty_dir_has_a_size_limit(every_pod_docs):
    seen = 0
    for where, spec in pod_specs(every_pod_docs):
        for volume in spec["volumes"]:
            if "emptyDir" in volume:
                seen += 1
                assert volume["emptyDir"].get("sizeLimit"), f"{where}: {volume['name']}"
    assert seen >= 9 + 1 + 7 * 2 + 1


def test_every_container_bounds_its_local_storage(every_pod_docs):
    containers = [(where, c) for where, spec in pod_specs(every_pod_docs) for c in spec["containers"]]
    assert len(containers) == 7  # php-fpm, nginx, pgbouncer, exporter, migrate, seed, test-connection
    for where, c in containers:
        resources = c["resources"]
        assert resources["requests"].get("ephemeral-storage"), f"{where}/{c['name']}"
        assert resources["limits"].get("ephemeral-storage"), f"{where}/{c['name']}"


def test_size_limits_and_storage_from_values():
    docs = render({"php": {"sizeLimits": {"tmp": "1Gi"}, "resources": {"limits": {"ephemeral-storage": "2Gi"}}},
                   "nginx": {"sizeLimits": {"run": "512Mi"}}, "tests": {"sizeLimits": {"tmp": "8Mi"}}})
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["php-tmp"]["emptyDir"] == {"sizeLimit": "1Gi"}
    assert volumes["nginx-run"]["emptyDir"] == {"sizeLimit": "512Mi"}
    assert container(spec, "php-fpm")["resources"]["limits"]["ephemeral-storage"] == "2Gi"
    job_volumes = {v["name"]: v for v in one(docs, "Job")["spec"]["template"]["spec"]["volumes"]}
    assert job_volumes["php-tmp"]["emptyDir"] == {"sizeLimit": "1Gi"}
    assert one(docs, "Pod")["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "8Mi"}}]


# --- Kubernetes versions ----------------------------------------------------------------------

def _hpa_metric_types(kube_version):
    result = helm_template(kube_version=kube_version)
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    return [(m["type"], (m.get("containerResource") or m.get("resource"))["name"])
            for m in one(docs, "HorizontalPodAutoscaler")["spec"]["metrics"]]


@pytest.mark.parametrize("kube_version, expected", [
    ("1.25.0", "Resource"),
    ("1.26.9", "Resource"),
    ("1.27.0", "ContainerResource"),
    ("v1.27.3-eks-2d98532", "ContainerResource"),
    ("1.30.0", "ContainerResource"),
    ("1.35.0", "ContainerResource"),
])
def test_hpa_container_metrics_only_where_served(kube_version, expected):
    assert _hpa_metric_types(kube_version) == [(expected, "cpu"), (expected, "memory")]


def test_chart_refuses_a_cluster_below_its_kube_version():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"] == ">=1.25.0-0"
    result = helm_template(kube_version="1.24.9")
    assert result.returncode != 0 and "kubeVersion" in result.stderr


def test_lowest_supported_version_serves_every_api_and_field():
    """Everything the chart renders validates against Kubernetes 1.25's own schemas (its kubeVersion)."""
    kv = pytest.importorskip("kubernetes_validate")
    values = PGB | {"migrations": {"seed": {"enabled": True}}, "ingress": {"enabled": True, "host": "a.example.test"},
                    "pdb": {"minAvailable": None, "maxUnavailable": "25%"}}
    result = helm_template(values, kube_version="1.25.0")
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    for doc in docs:
        kv.validate(doc, "1.25.0", strict=True)
    assert {"Deployment", "Job", "Pod", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "Ingress"} <= {d["kind"] for d in docs}


# --- the helm test pod ------------------------------------------------------------------------

def test_test_pod_has_a_network_policy_of_its_own(default_docs):
    policy = one(default_docs, "NetworkPolicy", f"{FULLNAME}-test-connection")["spec"]
    test_pod = one(default_docs, "Pod", f"{FULLNAME}-test-connection")
    assert policy["podSelector"]["matchLabels"].items() <= test_pod["metadata"]["labels"].items()
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in policy or policy["ingress"] == []  # no ingress at all
    assert policy["egress"] == [
        {"to": [{"podSelector": {"matchLabels": WEB_SELECTOR}}], "ports": [{"port": 8080, "protocol": "TCP"}]},
        {"to": [DNS], "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
    ]
    # the web policy does not select it, the test policy selects nothing else
    web = one(default_docs, "NetworkPolicy", FULLNAME)["spec"]["podSelector"]
    assert "test" not in web["matchExpressions"][0]["values"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "test"


@pytest.mark.parametrize("values", [{"tests": {"enabled": False}}, {"networkPolicy": {"enabled": False}}])
def test_test_policy_follows_its_switches(values):
    names = [d["metadata"]["name"] for d in kinds(render(values), "NetworkPolicy")]
    assert f"{FULLNAME}-test-connection" not in names


def test_test_pod_probes_watch_its_heartbeat(default_docs):
    c = container(one(default_docs, "Pod")["spec"], "test-connection")
    env = {e["name"]: e["value"] for e in c["env"]}
    heartbeat = env["TEST_HEARTBEAT"]
    assert "touch($heartbeat)" in c["command"][-1]
    assert heartbeat in c["livenessProbe"]["exec"]["command"][-1]
    assert heartbeat in c["readinessProbe"]["exec"]["command"][-1]
    assert "default_socket_timeout=5" in c["command"]  # one attempt stays well under the liveness window


# --- checkov annotations ----------------------------------------------------------------------

def _checkov_skips(doc):
    return {k: v for k, v in (doc["metadata"].get("annotations") or {}).items() if k.startswith("checkov.io/")}


def test_only_the_low_uid_skip_and_only_where_uids_are_below_10000(every_pod_docs):
    plain_job = render(sets=["migrations.hook=false", "migrations.nameSuffix=1"],
                       show_only="templates/migrations-job.yaml")
    for doc in every_pod_docs + plain_job:
        skips = _checkov_skips(doc)
        spec = dict(pod_specs([doc])).get(f"{doc['kind']}/{doc['metadata']['name']}")
        low_uid = spec is not None and any(c["securityContext"]["runAsUser"] < 10000 for c in spec["containers"])
        if low_uid:
            assert list(skips) == ["checkov.io/skip1"], doc["metadata"]["name"]
            check, reason = skips["checkov.io/skip1"].split("=", 1)
            assert check == "CKV_K8S_40" and "UID 33" in reason, skips
        else:
            assert skips == {}, doc["metadata"]["name"]
