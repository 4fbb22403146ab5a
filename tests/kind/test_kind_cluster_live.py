"""The kind cluster cluster/kind/up.sh brings up (one control plane, two workers, the node image
built here): its nodes, the pod network between the workers, NetworkPolicy enforced across them,
an image pulled from the local registry through the nodes' mirror with its credentials, the
metrics API, Pod Security admission, and HTTPS through Traefik's Ingress to a pod on the other
worker. Needs the cluster up (make test brings it up first)."""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
import time

# kind_helpers first: it puts tests/operator, tests/image and tests/live on the path
from kind_helpers import CLUSTER, WORKERS, ingress_get, kube_json, kubectl
from image_helpers import require_registry  # pylint: disable=wrong-import-order
from live_helpers import is_ready  # pylint: disable=wrong-import-order
from operator_helpers import CACHE, ROOT, run, skip  # pylint: disable=wrong-import-order

TEST_IMAGE = "laravel-ops.local/debian:bookworm-minbase"
REGISTRY = "127.0.0.1:5000"


def versions() -> dict:
    pins = {}
    for line in (ROOT / "cluster" / "versions.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            pins[key] = value
    return pins


def pod(name: str, node: str, command: list[str], image: str = TEST_IMAGE, labels: dict | None = None) -> dict:
    """A restricted pod pinned to NODE."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "nodeName": node, "restartPolicy": "Never",
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "main", "image": image, "command": command,
                "imagePullPolicy": "Never" if image == TEST_IMAGE else "IfNotPresent",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }


def create(namespace: str, *objects: dict) -> None:
    kubectl("-n", namespace, "apply", "-f", "-", input_text=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def finished(namespace: str, name: str, timeout: float = 120) -> tuple[str, str]:
    """Waits for pod NAME to end; returns its phase and its logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        phase = kube_json("-n", namespace, "pod", name)["status"].get("phase")
        if phase in ("Succeeded", "Failed"):
            return phase, kubectl("-n", namespace, "logs", name).stdout
        time.sleep(2)
    raise AssertionError(f"pod {name} did not finish in {timeout}s: {kubectl('-n', namespace, 'describe', 'pod', name).stdout[-3000:]}")


def test_three_nodes_of_the_pinned_kubernetes(cluster):
    pins = versions()
    nodes = kube_json("nodes")["items"]
    for node in nodes:
        info = node["status"]["nodeInfo"]
        ready = next(c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready")
        print(f"{node['metadata']['name']:28} Ready={ready} {info['kubeletVersion']} {info['containerRuntimeVersion']} {info['osImage']}")
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted([f"{CLUSTER}-control-plane", *WORKERS])
    for node in nodes:
        info = node["status"]["nodeInfo"]
        assert info["kubeletVersion"] == pins["KUBERNETES_VERSION"]
        assert info["containerRuntimeVersion"].startswith("containerd://")
        assert is_ready(node), node["metadata"]["name"]
    control_plane = next(n for n in nodes if n["metadata"]["name"].endswith("control-plane"))
    assert any(t["key"] == "node-role.kubernetes.io/control-plane" for t in control_plane["spec"].get("taints", []))


def test_pods_on_two_workers_reach_each_other_and_policy_is_enforced_between_them(namespace):
    server = pod("server", WORKERS[0], ["testbox", "serve", "-addr", ":8080"])
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "server"},
               "spec": {"selector": {"app": "server"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    create(namespace, server, service)
    kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod/server", "--timeout=120s")
    address = kube_json("-n", namespace, "pod", "server")["status"]["podIP"]
    fqdn = f"server.{namespace}.svc.cluster.local"
    create(namespace, pod("client", WORKERS[1], ["sh", "-c", f"testbox get -tries 10 http://{address}:8080/ && "
                                                 f"testbox get -tries 10 http://server/ && testbox lookup -tries 10 {fqdn}"]))
    phase, logs = finished(namespace, "client")
    print(f"server {address} on {WORKERS[0]}, client on {WORKERS[1]}: {logs.strip()}")
    assert phase == "Succeeded", logs
    assert logs.count("hello from server") == 2, logs
    assert fqdn in logs, logs

    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-to-server"},
            "spec": {"podSelector": {"matchLabels": {"app": "server"}}, "policyTypes": ["Ingress"]}}
    create(namespace, deny)
    create(namespace, pod("denied", WORKERS[1], ["testbox", "get", "-tries", "3", f"http://{address}:8080/"]))
    phase, logs = finished(namespace, "denied")
    print(f"with the deny policy: {phase}: {logs.strip()}")
    assert phase == "Failed" and "hello from server" not in logs, logs


def test_an_image_is_pulled_from_the_local_registry_with_its_credentials(namespace):
    user, password = require_registry()
    rootfs = CACHE / "rootfs-bookworm-minbase.tar"
    if not rootfs.exists():
        skip(f"{rootfs} is missing (cluster/images.sh rootfs makes it)")
    image = f"{REGISTRY}/laravel-ops/kind-pull-test:{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory() as config:
        docker = ["docker", "--config", config]
        run([*docker, "import", str(rootfs), image])
        run([*docker, "login", "--username", user, "--password-stdin", REGISTRY], input_text=password)
        try:
            run([*docker, "push", image], timeout=300)
        finally:
            subprocess.run([*docker, "rmi", image], capture_output=True, check=False)
    create(namespace, pod("pulled", WORKERS[0], ["cat", "/etc/debian_version"], image=image))
    phase, logs = finished(namespace, "pulled", timeout=180)
    events = kubectl("-n", namespace, "get", "events", "--field-selector", "involvedObject.name=pulled", "-o",
                     "jsonpath={range .items[*]}{.reason}: {.message}{'\\n'}{end}").stdout
    print(events)
    assert phase == "Succeeded", events
    assert logs.strip().startswith("12."), logs
    assert "Successfully pulled image" in events, events


def test_metrics_api_reports_every_node(cluster):
    deadline = time.monotonic() + 120
    while True:
        result = kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes", check=False)
        reported = json.loads(result.stdout)["items"] if result.returncode == 0 else []
        if len(reported) == 3 or time.monotonic() > deadline:
            break
        time.sleep(5)
    for item in reported:
        print(f"{item['metadata']['name']:28} cpu {item['usage']['cpu']:>12} memory {item['usage']['memory']}")
    assert sorted(i["metadata"]["name"] for i in reported) == sorted([f"{CLUSTER}-control-plane", *WORKERS]), result.stderr


def test_pod_security_admission_refuses_a_root_pod(namespace):
    root = pod("root", WORKERS[0], ["true"])
    root["spec"]["securityContext"] = {}
    root["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    result = kubectl("-n", namespace, "apply", "--dry-run=server", "-f", "-", input_text=json.dumps(root), check=False)
    print(result.stderr.strip())
    assert result.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in result.stderr


def test_https_through_traefik_reaches_a_pod_on_the_other_worker_behind_a_policy_that_admits_only_traefik(namespace):
    controllers = kube_json("-n", "traefik", "pods", "-l", "app.kubernetes.io/component=ingress-controller")["items"]
    assert controllers, "no Traefik pod in namespace traefik"
    traefik_node = controllers[0]["spec"]["nodeName"]
    web_node = next(w for w in WORKERS if w != traefik_node)
    host = f"web-{namespace}.localtest.me"
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
               "spec": {"ingressClassName": "traefik", "rules": [{"host": host, "http": {"paths": [
                   {"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]}}
    only_traefik = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "only-traefik"},
                    "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                             "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}},
                                                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}}}]}]}}
    create(namespace, pod("web", web_node, ["testbox", "serve", "-addr", ":8080"], labels={"app": "web"}),
           service, ingress, only_traefik)
    kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod/web", "--timeout=120s")
    address = kube_json("-n", namespace, "pod", "web")["status"]["podIP"]
    create(namespace, pod("outsider", traefik_node, ["testbox", "get", "-tries", "3", f"http://{address}:8080/"]))

    # Traefik's NodePort, which the control plane's container publishes on this machine's loopback
    # (cluster/kind/up.sh): the request goes to a Traefik pod, and from it to the other worker.
    deadline = time.monotonic() + 60
    while True:  # until Traefik has read the Ingress
        status, _, body = ingress_get(host, "/")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(2)
    phase, logs = finished(namespace, "outsider")
    print(f"https://{host}/ through Traefik on {traefik_node} to a pod on {web_node}: "
          f"HTTP {status} {body.strip()!r}; "
          f"a pod of the test namespace on Traefik's node, straight to the pod: {phase}")
    assert status == 200 and b"hello from web" in body, body
    assert phase == "Failed" and "hello from web" not in logs, logs
