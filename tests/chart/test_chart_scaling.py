"""HPA (autoscaling/v2) and PDB (policy/v1)."""

from __future__ import annotations

from chart_helpers import FULLNAME, kinds, one, render


def test_hpa_numbers_and_behaviour(default_docs):
    hpa = one(default_docs, "HorizontalPodAutoscaler", FULLNAME)
    assert hpa["apiVersion"] == "autoscaling/v2"
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": FULLNAME}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    # the php-fpm container's own usage against its own requests: nginx's share does not dilute it
    assert {m["type"] for m in spec["metrics"]} == {"ContainerResource"}
    assert {m["containerResource"]["container"] for m in spec["metrics"]} == {"php-fpm"}
    targets = {m["containerResource"]["name"]: m["containerResource"]["target"] for m in spec["metrics"]}
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 70},
        "memory": {"type": "Utilization", "averageUtilization": 80},
    }
    up, down = spec["behavior"]["scaleUp"], spec["behavior"]["scaleDown"]
    assert up["policies"] == [{"type": "Pods", "value": 2, "periodSeconds": 60}]
    assert down["policies"] == [{"type": "Percent", "value": 25, "periodSeconds": 60}]
    assert up["stabilizationWindowSeconds"] == 0
    assert down["stabilizationWindowSeconds"] == 300


def test_hpa_memory_metric_can_be_dropped():
    docs = render(sets=["autoscaling.targetMemoryUtilizationPercentage=null"])
    metrics = one(docs, "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert [m["containerResource"]["name"] for m in metrics] == ["cpu"]


def test_hpa_on_the_whole_pod():
    docs = render({"autoscaling": {"container": ""}})
    metrics = one(docs, "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert [(m["type"], m["resource"]["name"]) for m in metrics] == [("Resource", "cpu"), ("Resource", "memory")]


def test_hpa_behaviour_values():
    docs = render({"autoscaling": {"minReplicas": 3, "maxReplicas": 3,
                                   "behavior": {"scaleUp": {"pods": 4}, "scaleDown": {"percent": 50}}}})
    spec = one(docs, "HorizontalPodAutoscaler")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 3)
    assert spec["behavior"]["scaleUp"]["policies"][0]["value"] == 4
    assert spec["behavior"]["scaleDown"]["policies"][0]["value"] == 50


def test_pdb(default_docs, deployment):
    pdb = one(default_docs, "PodDisruptionBudget", FULLNAME)
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_pdb_percentage_and_off():
    assert one(render({"pdb": {"minAvailable": "50%"}}), "PodDisruptionBudget")["spec"]["minAvailable"] == "50%"
    assert not kinds(render({"pdb": {"enabled": False}}), "PodDisruptionBudget")
