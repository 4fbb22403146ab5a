"""The backend's logs as the log_collector role ships them: the OpenTelemetry Collector runs on every
node, reads the pods' log files without root, turns each JSON line into the record's fields and
sends the records over OTLP/HTTP to the endpoint the local inventory names, VictoriaLogs. One request,
found by its request id through the store's LogsQL API, shows nginx's access line and Laravel's
record with their JSON fields intact."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid

from live_helpers import NAMESPACE, app_get, get, is_ready
from operator_helpers import kube_json, wait_for

COLLECTOR_NAMESPACE = "logging"
COLLECTOR_SELECTOR = "app.kubernetes.io/name=log-collector"
STORE_NAMESPACE = "victorialogs"
STORE_PORT = 9428


def store_query(logsql: str) -> list[dict]:
    """The records VictoriaLogs returns for a LogsQL query (one JSON object per line)."""
    service = kube_json("service", "-n", STORE_NAMESPACE, "victorialogs")
    assert service is not None, f"no VictoriaLogs Service in {STORE_NAMESPACE}: the local cluster's bring-up runs it"
    address = service["spec"]["clusterIP"]
    status, _, body = get(address, STORE_PORT, "/select/logsql/query?" + urllib.parse.urlencode({"query": logsql}),
                          timeout=15)
    assert status == 200, body[:300]
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def test_the_collector_runs_on_every_node_without_root(backend):
    pods = kube_json("pods", "-n", COLLECTOR_NAMESPACE, "-l", COLLECTOR_SELECTOR)["items"]
    nodes = {n["metadata"]["name"] for n in kube_json("nodes")["items"]}
    assert {p["spec"]["nodeName"] for p in pods if is_ready(p)} == nodes, [p["status"].get("phase") for p in pods]
    for pod in pods:
        context = pod["spec"]["securityContext"]
        container = pod["spec"]["containers"][0]
        assert context["runAsNonRoot"] and context["runAsUser"] != 0, context
        assert container["securityContext"]["readOnlyRootFilesystem"], container["securityContext"]
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], container["securityContext"]
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/var/log/pods")
        assert mount["readOnly"], mount
    print(f"collector ready on {sorted(nodes)} as uid {pods[0]['spec']['securityContext']['runAsUser']}, "
          f"image {pods[0]['spec']['containers'][0]['image']}")


def test_one_request_is_found_in_the_log_store_by_its_request_id(backend):
    request_id = f"live-logs-{uuid.uuid4().hex}"
    sent = time.monotonic()
    status, headers, _ = app_get("/error", headers={"X-Request-Id": request_id})
    assert status == 500 and headers.get("X-Request-Id") == request_id, headers

    def both_records():
        records = store_query(f'request_id:="{request_id}" OR context.request_id:="{request_id}"')
        nginx = [r for r in records if r.get("source") == "nginx"]
        laravel = [r for r in records if r.get("context.request_id") == request_id]
        return (nginx, laravel) if nginx and laravel else None

    nginx, laravel = wait_for(f"the request {request_id} in VictoriaLogs", both_records, timeout=60, interval=2)
    print(f"request id {request_id} found in VictoriaLogs {time.monotonic() - sent:.1f}s after the request: "
          f"{len(nginx)} nginx line(s), {len(laravel)} Laravel record(s)")
    access, record = nginx[0], laravel[0]
    # The JSON fields arrive as fields of their own, and the pod they came from is named.
    assert access["request_id"] == request_id and access["status"] == "500", access
    assert access["uri"].startswith("/error") and access["method"] == "GET", access
    assert access["k8s.namespace.name"] == NAMESPACE and access["k8s.container.name"] == "nginx", access
    assert record["level_name"] == "ERROR" and record["context.exception.class"].endswith("IntentionalFailure"), record
    assert record["k8s.namespace.name"] == NAMESPACE and record["k8s.container.name"] == "php-fpm", record
    # The line as written is kept whole beside its fields.
    assert json.loads(access["_msg"])["request_id"] == request_id, access["_msg"]
    print(f"nginx: status={access['status']} uri={access['uri']} request_time={access.get('request_time')} "
          f"pod={access['k8s.pod.name']}; Laravel: {record['level_name']} {record['message']!r} "
          f"pod={record['k8s.pod.name']}")
