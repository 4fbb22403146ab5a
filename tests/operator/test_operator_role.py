"""The prometheus_operator role for real, offline, against the local cluster and registry.

scripts/operator-chart.sh builds the Prometheus Operator (and the Prometheus server it runs)
from their Go modules, imports the images into the cluster's containerd, and pushes a stand-in
`kube-prometheus-stack` chart (tests/fixtures/prometheus-operator, a test fixture) to
oci://127.0.0.1:5000/charts. The role then pulls it with the registry login from the environment
over plain HTTP, applies the CRDs server-side (field manager laravel-ops), installs the release
with skip_crds and waits for the operator. The tests, in order:

  a wrong registry password fails the pull, leaks nothing and touches nothing; the first run
  installs (CRDs, operator Ready, Prometheus reconciled and scraping a ServiceMonitor); a second
  run and a check-mode run change nothing; turning Prometheus off removes it and stays off; with
  the release gone but the CRDs left (by this role, or applied by another tool) the role changes
  nothing and says why; prometheus_operator_force installs again; a chart without CRDs at
  prometheus_operator_crds_glob fails with that message.

Everything runs in namespace laravel-ops-operator-test (release kps-test) and is removed
afterwards, CRDs included, unless monitoring.coreos.com objects of others appeared meanwhile
(say, a backend release deployed while the CRDs were up): deleting the CRDs would delete those
and leave such a Helm release unable to upgrade or uninstall, so the CRDs are then left and
that is printed. Do not run these tests beside a deploy on the same cluster. The operator
`make deploy` installed (the local inventory's release) is set aside for the tests, its
monitoring.coreos.com objects saved, and put back afterwards as that deploy left it. Skipped, with
the reason printed, without a cluster that answers, the registry and its credentials, root with
the cluster's containerd, or a Go toolchain (cold build); also when the cluster has the CRDs of
another operator, which these tests would replace and then delete.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import tarfile
import time
from pathlib import Path

import pytest

from operator_helpers import (
    CACHE, CRD_GROUP, FIELD_MANAGER, PROMETHEUS_CRD, SCRIPT, Playbook, fixture_vars, kube_json, kubectl,
    local_inventory, require_cluster, require_go_or_cache, require_no_namespace, require_registry, run, skip, tool,
    wait_for,
    KUBECONFIG, ROOT,
)

NAMESPACE = "laravel-ops-operator-test"
RELEASE = "kps-test"
# the chart's fullname: "<release>-kube-prometheus-stack" cut to 26 characters, as in the real chart
FULLNAME = f"{RELEASE}-kube-prometheus-stack"[:26].rstrip("-")
OPERATOR = f"{FULLNAME}-operator"
PROMETHEUS = f"{FULLNAME}-prometheus"
SERVICE_MONITOR = "operator-self"
# What `make deploy` installs: the role's default release in the local inventory's monitoring namespace.
LOCAL_RELEASE, LOCAL_NAMESPACE = "kube-prometheus-stack", "monitoring"


def _crd_names() -> list[str]:
    listing = kube_json("crd") or {"items": []}
    return sorted(i["metadata"]["name"] for i in listing["items"] if i["spec"]["group"] == CRD_GROUP)


def _foreign_objects() -> list[str]:
    """monitoring.coreos.com objects outside the test namespace: made by someone else (e.g. a
    backend release installed while these tests had the CRDs up)."""
    names = _crd_names()
    if not names:
        return []
    listed = kubectl("get", ",".join(names), "-A", "-o", "json", check=False)
    if listed.returncode != 0:
        return []
    return [f"{i['kind']} {i['metadata'].get('namespace', '')}/{i['metadata']['name']}"
            for i in json.loads(listed.stdout)["items"] if i["metadata"].get("namespace") != NAMESPACE]


def _cleanup() -> list[str]:
    """Removes the release, the namespace and the CRDs; returns the objects of others that kept
    the CRDs in place (deleting a CRD deletes every object of its kind, and leaves a Helm release
    that rendered one unable to upgrade or uninstall)."""
    # The operator puts finalizers on the objects it manages: they go while it still runs to
    # remove them, or the namespace never finishes terminating. Every kind of its API, so that one
    # it starts to finalize later is covered too.
    names = _crd_names()
    if names:
        kubectl("delete", ",".join(names), "--all", "-n", NAMESPACE, "--ignore-not-found", "--wait=true",
                check=False, timeout=180)
    helm = tool("helm")
    run([helm, "--kubeconfig", KUBECONFIG, "uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "3m"],
        check=False, timeout=240)
    kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
    # A namespace that does not finish says why in its conditions (content or finalizers remaining).
    deadline = time.monotonic() + 420
    while (namespace := kube_json("namespace", NAMESPACE)) is not None:
        assert time.monotonic() < deadline, \
            f"namespace {NAMESPACE} is still terminating: {namespace['status'].get('conditions')}"
        time.sleep(3)
    others = _foreign_objects()
    names = _crd_names()
    if names and not others:
        kubectl("delete", "crd", *names, "--ignore-not-found", "--wait=true", check=False, timeout=180)
    return others


def _deployed_operator() -> bool:
    """Whether the CRDs are those of `make deploy`: the local inventory's operator release."""
    listed = run([tool("helm"), "--kubeconfig", KUBECONFIG, "list", "--all", "-n", LOCAL_NAMESPACE, "-o", "json"],
                 check=False)
    return listed.returncode == 0 and any(r["name"] == LOCAL_RELEASE for r in json.loads(listed.stdout or "[]"))


def _set_aside_deployed_operator(saved: Path) -> None:
    """Saves every monitoring.coreos.com object of the cluster to `saved`, then removes them, the
    local inventory's operator release and the CRDs, so that the tests start from none."""
    names = _crd_names()
    items = json.loads(kubectl("get", ",".join(names), "-A", "-o", "json").stdout)["items"]
    kept = [{"apiVersion": i["apiVersion"], "kind": i["kind"], "spec": i.get("spec", {}),
             "metadata": {key: i["metadata"][key] for key in ("name", "namespace", "labels", "annotations")
                          if key in i["metadata"]}} for i in items]
    saved.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": kept}))
    # While the operator runs, so that it removes the finalizers it put on them.
    kubectl("delete", ",".join(names), "--all", "-A", "--wait=true", timeout=300)
    run([tool("helm"), "--kubeconfig", KUBECONFIG, "uninstall", LOCAL_RELEASE, "-n", LOCAL_NAMESPACE, "--wait",
         "--timeout", "3m"], timeout=240)
    kubectl("delete", "crd", *names, "--wait=true", timeout=180)
    print(f"set aside for these tests: the {LOCAL_RELEASE} release of {LOCAL_NAMESPACE} and {len(kept)} "
          f"{CRD_GROUP} objects, saved in {saved}")


def _put_back_deployed_operator(saved: Path, user: str, password: str) -> None:
    """The local inventory's operator installed again as `make deploy` installs it, and the saved
    objects (the backend releases' ServiceMonitors and rules among them) applied again."""
    Playbook(saved.parent, {}, user, password, playbook=ROOT / "playbooks" / "monitoring.yml")()
    kubectl("apply", "-f", str(saved), timeout=120)
    print(f"put back: the {LOCAL_RELEASE} release of {LOCAL_NAMESPACE} and the objects of {saved}")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    require_cluster()
    user, password = require_registry()
    require_go_or_cache()
    require_no_namespace(NAMESPACE)
    deployed = kube_json("crd", PROMETHEUS_CRD) is not None
    if deployed and not _deployed_operator():
        skip(f"the cluster already has the {CRD_GROUP} CRDs of another Prometheus Operator (not the "
             f"{LOCAL_RELEASE} release of {LOCAL_NAMESPACE} that `make deploy` installs): these tests would "
             "replace and then delete them")

    started = time.monotonic()
    build = run(["bash", str(SCRIPT), "all"], timeout=3600)
    print(f"scripts/operator-chart.sh all: {time.monotonic() - started:.0f}s\n{build.stderr[-1500:]}")

    tmp = tmp_path_factory.mktemp("operator")
    saved = tmp / "monitoring-objects.json"
    base = fixture_vars()
    base.update({
        "backend_monitoring_namespace": NAMESPACE,
        "prometheus_operator_release_name": RELEASE,
        # a fresh chart cache: every session pulls from the registry
        "prometheus_operator_chart_cache_dir": str(tmp / "charts"),
        "prometheus_operator_timeout": "5m",
    })
    playbook = Playbook(tmp, base, user, password)
    try:
        if deployed:
            _set_aside_deployed_operator(saved)
        yield playbook
    finally:
        try:
            others = _cleanup()
            assert kube_json("namespace", NAMESPACE) is None, f"namespace {NAMESPACE} is still there"
            if others:
                print(f"NOTE: the {CRD_GROUP} CRDs were left in place: objects of others use them: "
                      + ", ".join(others[:10]), file=sys.stderr)
            else:
                assert not _crd_names(), f"the {CRD_GROUP} CRDs are still there"
        finally:
            if saved.exists():
                _put_back_deployed_operator(saved, user, password)


def test_images_are_minimal_and_nonroot(env):
    """One layer: the static binary, /etc/passwd and /etc/group; USER 65534."""
    images = CACHE / "prometheus-operator-v0.93.1" / "images"
    for name in ("operator", "prometheus-config-reloader", "prometheus", "alertmanager", "victoria-logs", "otelcol"):
        (tar_path,) = sorted((images / name).glob("*.tar"))
        with tarfile.open(tar_path) as tar:
            def blob(digest):
                return tar.extractfile("blobs/sha256/" + digest.split(":", 1)[1]).read()
            index = json.loads(tar.extractfile("index.json").read())
            manifest = json.loads(blob(index["manifests"][0]["digest"]))
            config = json.loads(blob(manifest["config"]["digest"]))
            assert config["config"]["User"] == "65534:65534", name
            assert len(manifest["layers"]) == 1, name
            layer = tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(manifest["layers"][0]["digest"]))))
            files = sorted(m.name for m in layer if m.isfile())
            assert files == [f"bin/{name}", "etc/group", "etc/passwd"], files
            binary = layer.extractfile(f"bin/{name}").read()
            assert binary[:4] == b"\x7fELF"
            assert b"/lib64/ld-linux" not in binary[:4096], f"{name} is not static"


def test_wrong_registry_password_fails_cleanly(env):
    bad = "wrong-" + "x" * 12
    result = env({"prometheus_operator_chart_cache_dir": str(env.tmp / "charts-bad")}, expect_rc=2,
                 env={"LARAVEL_OPS_REGISTRY_PASSWORD": bad}, verbose=True)
    assert "Pull the chart" in result.output
    assert "401" in result.output or "unauthorized" in result.output.lower(), result.output[-3000:]
    assert bad not in result.output, "the registry password was printed"
    assert not list((env.tmp / "tmpdir").glob("*helm-registry*")), "the registry login was left on disk"
    assert kube_json("crd", PROMETHEUS_CRD) is None, "a failed pull must not touch the cluster"


def test_first_run_installs(env):
    result = env(verbose=True)
    assert result.changed > 0
    assert env.password not in result.output, "the registry password was printed"
    assert not list((env.tmp / "tmpdir").glob("*helm-registry*")), "the registry login was left on disk"
    assert (env.tmp / "charts" / f"kube-prometheus-stack-{env.base_vars['prometheus_operator_chart_version']}"
            / "kube-prometheus-stack" / "Chart.yaml").is_file()

    # CRDs: all ten, applied server-side by the role's field manager
    names = _crd_names()
    assert len(names) == 10, names
    for name in names:
        crd = kube_json("crd", name, "--show-managed-fields")
        managers = {(f["manager"], f["operation"]) for f in crd["metadata"]["managedFields"]}
        assert (FIELD_MANAGER, "Apply") in managers, (name, managers)
        # installed with skip_crds: Helm owns none of them
        assert "meta.helm.sh/release-name" not in crd["metadata"].get("annotations", {}), name

    # the release, with the switches the role computed
    helm = tool("helm")
    (release,) = json.loads(run([helm, "--kubeconfig", KUBECONFIG, "list", "-n", NAMESPACE, "-o", "json"]).stdout)
    assert release["status"] == "deployed"
    assert release["chart"] == f"kube-prometheus-stack-{env.base_vars['prometheus_operator_chart_version']}"
    assert release["app_version"] == "v0.93.1"
    values = json.loads(run([helm, "--kubeconfig", KUBECONFIG, "get", "values", RELEASE, "-n", NAMESPACE,
                             "-o", "json"]).stdout)
    assert values["crds"] == {"enabled": False}
    # the switch, with the local inventory's prometheus_operator_values laid over it
    inventory_values = local_inventory()["prometheus_operator_values"]
    assert values["prometheus"] == {"enabled": True, **inventory_values["prometheus"]}

    # the operator pod is Ready, as nobody
    deployment = kube_json("deployment", OPERATOR, "-n", NAMESPACE)
    assert deployment["status"].get("readyReplicas") == 1
    pods = kube_json("pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/name=prometheus-operator")["items"]
    assert len(pods) == 1
    ready = {c["type"]: c["status"] for c in pods[0]["status"]["conditions"]}
    assert ready["Ready"] == "True"
    assert pods[0]["spec"]["securityContext"]["runAsUser"] == 65534

    # the operator has work: the Prometheus resource becomes a StatefulSet whose pod runs
    def available():
        prom = kube_json("prometheus", PROMETHEUS, "-n", NAMESPACE)
        conditions = {c["type"]: c["status"] for c in (prom or {}).get("status", {}).get("conditions", [])}
        return conditions if conditions.get("Reconciled") == "True" and conditions.get("Available") == "True" else None
    wait_for("the Prometheus resource to be Reconciled and Available", available, timeout=240)
    spec = kube_json("prometheus", PROMETHEUS, "-n", NAMESPACE)["spec"]
    wanted = inventory_values["prometheus"]["prometheusSpec"]
    assert (spec.get("scrapeInterval"), spec.get("evaluationInterval")) == (
        wanted["scrapeInterval"], wanted["evaluationInterval"]), spec
    assert kube_json("statefulset", f"prometheus-{PROMETHEUS}", "-n", NAMESPACE) is not None


def test_prometheus_scrapes_a_service_monitor(env):
    """The operator turns a ServiceMonitor into scrape configuration; Prometheus scrapes the operator."""
    kubectl("apply", "-f", "-", input_text=json.dumps({
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        # the label the chart's Prometheus selects by, as kube-prometheus-stack's does by default
        "metadata": {"name": SERVICE_MONITOR, "namespace": NAMESPACE, "labels": {"release": RELEASE}},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-operator",
                                              "app.kubernetes.io/instance": RELEASE}},
                 "endpoints": [{"port": "http", "interval": "5s"}]},
    }))
    path = (f"/api/v1/namespaces/{NAMESPACE}/services/prometheus-operated:9090/proxy/api/v1/targets?state=active")

    def target_up():
        result = kubectl("get", "--raw", path, check=False)
        if result.returncode != 0:
            return None
        targets = json.loads(result.stdout)["data"]["activeTargets"]
        pool = f"serviceMonitor/{NAMESPACE}/{SERVICE_MONITOR}/0"
        return [t for t in targets if t["scrapePool"] == pool and t["health"] == "up"] or None
    # the kubelet refreshes the mounted configuration Secret within about a minute
    wait_for("Prometheus to scrape the operator through the ServiceMonitor", target_up, timeout=240, interval=5)
    kubectl("delete", "servicemonitor", SERVICE_MONITOR, "-n", NAMESPACE)


def test_second_run_changes_nothing(env):
    before = {name: kube_json("crd", name)["metadata"]["resourceVersion"] for name in _crd_names()}
    result = env()
    assert result.changed == 0, result.changed_tasks()
    # chart version and values unchanged: neither the CRDs nor Helm are asked again
    assert "CRDs and release left as they are" in " ".join(result.output.split()), result.output[-3000:]
    after = {name: kube_json("crd", name)["metadata"]["resourceVersion"] for name in _crd_names()}
    assert before == after, "the CRDs were applied again"


def test_check_mode_reports_no_change(env):
    result = env(check_mode=True)
    assert result.changed == 0, result.changed_tasks()


def test_a_component_turned_off_stays_off(env):
    off = {"prometheus_operator_components": {"prometheus": False, "alertmanager": True, "grafana": False,
                                               "node_exporter": True, "kube_state_metrics": True}}
    check = env(off, check_mode=True)
    assert check.changed > 0, "check mode must report the pending change"
    assert kube_json("prometheus", PROMETHEUS, "-n", NAMESPACE) is not None, "check mode changed the cluster"

    result = env(off)
    assert result.changed > 0
    assert kube_json("prometheus", PROMETHEUS, "-n", NAMESPACE) is None
    wait_for("the operator to remove Prometheus's StatefulSet",
             lambda: kube_json("statefulset", f"prometheus-{PROMETHEUS}", "-n", NAMESPACE) is None, timeout=120)

    again = env(off)
    assert again.changed == 0, again.changed_tasks()
    assert kube_json("prometheus", PROMETHEUS, "-n", NAMESPACE) is None
    assert env(off, check_mode=True).changed == 0


def _release_gone_check(env, expected_reason: str):
    before = {name: kube_json("crd", name)["metadata"]["resourceVersion"] for name in _crd_names()}
    for check_mode in (True, False):
        result = env(check_mode=check_mode)
        assert result.changed == 0, result.changed_tasks()
        assert "This role changes nothing" in result.output
        assert expected_reason in result.output, result.output[-3000:]
    after = {name: kube_json("crd", name)["metadata"]["resourceVersion"] for name in _crd_names()}
    assert before == after, "the CRDs were touched"
    assert kube_json("deployment", OPERATOR, "-n", NAMESPACE) is None, "an operator was installed"
    helm = tool("helm")
    listed = json.loads(run([helm, "--kubeconfig", KUBECONFIG, "list", "-n", NAMESPACE, "-o", "json"]).stdout)
    assert listed == [], listed


def test_release_gone_crds_left_changes_nothing(env):
    """The release uninstalled (or a failed first install rolled back), the role's CRDs left."""
    helm = tool("helm")
    run([helm, "--kubeconfig", KUBECONFIG, "uninstall", RELEASE, "-n", NAMESPACE, "--wait"], timeout=240)
    _release_gone_check(env, f"the CRDs were applied by this role (field manager {FIELD_MANAGER})")


def test_operator_managed_elsewhere_changes_nothing(env, tmp_path):
    """CRDs applied by another tool and no release: an operator managed elsewhere."""
    chart_dir = Path(env.base_vars["prometheus_operator_chart_cache_dir"]) / (
        f"kube-prometheus-stack-{env.base_vars['prometheus_operator_chart_version']}") / "kube-prometheus-stack"
    crd_files = sorted((chart_dir / "charts" / "crds" / "crds").glob("*.yaml"))
    assert len(crd_files) == 10
    kubectl("delete", "crd", *_crd_names(), "--wait=true", timeout=180)
    for crd_file in crd_files:
        kubectl("apply", "--server-side", "--field-manager=other-tool", "-f", str(crd_file), timeout=120)
    _release_gone_check(env, "an operator managed elsewhere is in place (CRD field managers: ")
    result = env(check_mode=True)
    assert "other-tool" in result.output and f"field manager {FIELD_MANAGER}" not in result.output


def test_force_installs_again(env):
    result = env({"prometheus_operator_force": True})
    assert result.changed > 0
    deployment = kube_json("deployment", OPERATOR, "-n", NAMESPACE)
    assert deployment["status"].get("readyReplicas") == 1
    for name in _crd_names():
        managers = {f["manager"] for f in kube_json("crd", name, "--show-managed-fields")["metadata"]["managedFields"]}
        assert {FIELD_MANAGER, "other-tool"} <= managers, (name, managers)
    assert env().changed == 0


def test_a_chart_without_crds_fails_clearly(env):
    # new values, so that the role reads the chart again
    result = env({"prometheus_operator_crds_glob": "no/such/dir/*.yaml",
                  "prometheus_operator_values": {"laravelOpsTest": "crds-glob"}}, expect_rc=2)
    assert "No CRD manifest matches" in result.output, result.output[-3000:]
    assert kube_json("deployment", OPERATOR, "-n", NAMESPACE)["status"].get("readyReplicas") == 1
