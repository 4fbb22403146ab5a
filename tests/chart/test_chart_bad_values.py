"""Bad values fail `helm template`, and the message names the value (schema or template check)."""

from __future__ import annotations

import pytest

import json

from chart_helpers import CHART, helm_template, render_error

# (id, values, --set's, base (dummy secret), substrings the error must contain)
CASES = [
    ("typo-top-level-key", {"autoscalling": {"enabled": True}}, [], True,
     ["Additional property autoscalling is not allowed"]),
    ("typo-nested-key", {}, ["php.resources.limits.cpuu=1"], True,
     ["php.resources.limits", "cpuu"]),
    ("typo-probe-key", {"nginx": {"readinessProbe": {"periodSecond": 3}}}, [], True,
     ["nginx.readinessProbe", "periodSecond"]),
    ("wrong-type", {"autoscaling": {"maxReplicas": "ten"}}, [], True,
     ["autoscaling.maxReplicas", "integer"]),
    ("wrong-type-bool", {"app": {"debug": "yes"}}, [], True,
     ["app.debug", "boolean"]),
    ("bad-enum-log-level", {"app": {"logLevel": "verbose"}}, [], True,
     ["app.logLevel", "debug"]),
    ("bad-enum-pull-policy", {"nginx": {"image": {"pullPolicy": "Sometimes"}}}, [], True,
     ["nginx.image.pullPolicy"]),
    ("bad-enum-service-type", {"service": {"type": "ExternalName"}}, [], True,
     ["service.type"]),
    ("bad-digest", {"php": {"image": {"digest": "sha256:1234"}}}, [], True,
     ["php.image.digest", "sha256"]),
    ("digest-without-algorithm", {"nginx": {"image": {"digest": "a" * 64}}}, [], True,
     ["nginx.image.digest"]),
    ("bad-memory-quantity", {"nginx": {"resources": {"limits": {"memory": "256MB"}}}}, [], True,
     ["nginx.resources.limits.memory"]),
    ("negative-replicas", {}, ["replicaCount=-1"], True,
     ["replicaCount", "greater than or equal to 0"]),
    ("negative-grace", {"terminationGracePeriodSeconds": 0}, [], True,
     ["terminationGracePeriodSeconds"]),
    ("label-not-string", {}, ["commonLabels.tier=1"], True,
     ["commonLabels.tier", "string"]),
    ("extra-env-bad-name", {"app": {"extraEnv": {"bad-name": "x"}}}, [], True,
     ["app.extraEnv"]),
    ("bad-cidr", {"networkPolicy": {"database": {"ipBlock": "10.0.0.0"}}}, [], True,
     ["networkPolicy.database.ipBlock"]),
    ("bad-duration", {"metrics": {"serviceMonitor": {"interval": "30 seconds"}}}, [], True,
     ["metrics.serviceMonitor.interval"]),
    ("alert-ratio-above-one", {"metrics": {"prometheusRule": {"rules": {"errorRate": {"threshold": 1.5}}}}}, [], True,
     ["metrics.prometheusRule.rules.errorRate.threshold (1.5)", "at most 1"]),
    ("alert-negative-latency", {"metrics": {"prometheusRule": {"rules": {"latencyP95": {"thresholdSeconds": -0.2}}}}},
     [], True, ["metrics.prometheusRule.rules.latencyP95.thresholdSeconds (-0.2)", "above 0"]),
    ("alert-unparsable-for", {"metrics": {"prometheusRule": {"rules": {"databaseDown": {"for": "5 minutes"}}}}}, [],
     True, ['metrics.prometheusRule.rules.databaseDown.for ("5 minutes") is not a Prometheus duration']),
    ("alert-for-units-out-of-order", {"metrics": {"prometheusRule": {"rules": {"hpaMaxedOut": {"for": "30m1h"}}}}},
     [], True, ['metrics.prometheusRule.rules.hpaMaxedOut.for ("30m1h")', "largest first"]),
    ("alert-negative-count", {"metrics": {"prometheusRule": {"rules": {"podRestarts": {"restarts": -1}}}}}, [], True,
     ["metrics.prometheusRule.rules.podRestarts.restarts (-1) must be a count >= 0"]),
    ("alert-count-not-integer", {"metrics": {"prometheusRule": {"rules": {"pgbouncerSaturated":
                                                                          {"waitingClients": 0.5}}}}}, [], True,
     ["metrics.prometheusRule.rules.pgbouncerSaturated.waitingClients", "integer"]),
    ("release-label-not-a-name", {"metrics": {"prometheusRelease": "Kube Prometheus"}}, [], True,
     ["metrics.prometheusRelease"]),
    ("min-above-max", {"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}, [], True,
     ["autoscaling.minReplicas (5) must be <= autoscaling.maxReplicas (3)"]),
    ("grace-too-short", {"terminationGracePeriodSeconds": 45}, [], True,
     ["terminationGracePeriodSeconds (45)", "lifecycle.preStopSleepSeconds (5)",
      "php.fpm.processControlTimeout (40)"]),
    ("grace-vs-longer-prestop", {"lifecycle": {"preStopSleepSeconds": 25}}, [], True,
     ["terminationGracePeriodSeconds (60)", "lifecycle.preStopSleepSeconds (25)"]),
    ("process-control-below-request-terminate", {"php": {"fpm": {"requestTerminateTimeout": 50}}}, [], True,
     ["php.fpm.processControlTimeout (40) must be >= php.fpm.requestTerminateTimeout (50)"]),
    ("missing-secret", {}, [], False,
     ["secrets.appKey", "secrets.existingSecret"]),
    ("both-secret-forms", {"secrets": {"existingSecret": "vault-backend", "appKey": "base64:x"}}, [], False,
     ["secrets.existingSecret", "secrets.appKey"]),
    ("extra-env-shadows-chart", {"app": {"extraEnv": {"DB_HOST": "elsewhere"}}}, [], True,
     ["app.extraEnv.DB_HOST"]),
    ("extra-env-carries-secret", {"app": {"extraEnv": {"APP_KEY": "leak"}}}, [], True,
     ["app.extraEnv.APP_KEY"]),
    ("ingress-without-host", {"ingress": {"enabled": True}}, [], True,
     ["ingress.host"]),
    ("tls-without-secret", {"ingress": {"enabled": True, "host": "a.example.test", "tls": {"enabled": True}}}, [],
     True, ["ingress.tls.secretName"]),
    ("plain-job-without-suffix", {"migrations": {"hook": False}}, [], True,
     ["migrations.nameSuffix"]),
    ("hpa-without-metrics", {}, ["autoscaling.targetCPUUtilizationPercentage=null",
                                 "autoscaling.targetMemoryUtilizationPercentage=null"], True,
     ["autoscaling.targetCPUUtilizationPercentage", "autoscaling.targetMemoryUtilizationPercentage"]),
    # php-fpm listens on loopback only: the TCP healthcheck option is gone
    ("php-healthcheck-tcp-socket", {"php": {"healthcheck": {"type": "tcpSocket"}}}, [], True,
     ["php.healthcheck", "type"]),
    ("bad-topology-spread-mode", {"topologySpread": {"whenUnsatisfiable": "Sometimes"}}, [], True,
     ["topologySpread.whenUnsatisfiable"]),
    ("bad-size-limit", {"php": {"sizeLimits": {"tmp": "1 GB"}}}, [], True,
     ["php.sizeLimits.tmp"]),
    ("bad-pdb-max-unavailable", {"pdb": {"minAvailable": None, "maxUnavailable": "half"}}, [], True,
     ["pdb.maxUnavailable"]),
]

# Security contexts that would undo the restricted profile, for each container security context
# value (the Jobs and the test pod use php's), and the moving tag `latest` for each image value:
# refused by the schema, naming the field.
SECURITY_CONTEXTS = ["php.containerSecurityContext", "nginx.containerSecurityContext",
                     "pgbouncer.containerSecurityContext"]
REFUSED_CONTEXT_VALUES = [("runAsUser", 0), ("runAsNonRoot", False), ("allowPrivilegeEscalation", True),
                          ("privileged", True)]
IMAGES = ["php.image", "nginx.image", "pgbouncer.image"]


def _nested(path: str, value) -> dict:
    out = value
    for part in reversed(path.split(".")):
        out = {part: out}
    return out


CASES += [
    (f"{context}.{field}={str(value).lower()}", _nested(f"{context}.{field}", value), [], True,
     [f"{context}.{field}"])
    for context in SECURITY_CONTEXTS for field, value in REFUSED_CONTEXT_VALUES
]
CASES += [(f"{image}.tag=latest", _nested(f"{image}.tag", "latest"), [], True, [f"{image}.tag"]) for image in IMAGES]


@pytest.mark.parametrize("values, sets, base, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_values_fail_naming_the_field(values, sets, base, expected):
    error = render_error(values, sets, base=base)
    for fragment in expected:
        assert fragment in error, f"{fragment!r} not in:\n{error}"


def test_refused_values_are_refused_for_their_own_reason():
    """The same values one step away from the refused ones render: the refusals are that precise."""
    values = {"php": {"image": {"tag": "latest-build"}, "containerSecurityContext": {"runAsUser": 1000}},
              "nginx": {"image": {"tag": "v1-latest"}, "containerSecurityContext": {"privileged": False}}}
    error = helm_template(values)
    assert error.returncode == 0, error.stderr


def test_image_tag_pattern_unchanged():
    """The collection's image-reference parser test compares the tag pattern string itself."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    tag = schema["definitions"]["image"]["properties"]["tag"]
    assert tag["anyOf"][0]["pattern"] == "^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$"
    assert tag["not"] == {"const": "latest"}


def test_plain_job_check_holds_with_show_only():
    """The prod flow renders only the Job file: the invariants still apply."""
    error = render_error({"terminationGracePeriodSeconds": 10}, ["migrations.hook=false", "migrations.nameSuffix=3"],
                         show_only="templates/migrations-job.yaml")
    assert "terminationGracePeriodSeconds (10)" in error


def test_template_checks_report_every_problem_at_once():
    """Three broken invariants fail one render that names all three, not just the first."""
    values = {
        "secrets": {"existingSecret": "vault-backend", "appKey": "base64:x"},
        "autoscaling": {"minReplicas": 5, "maxReplicas": 3},
        "terminationGracePeriodSeconds": 10,
    }
    error = render_error(values, base=False)
    assert error.count("charts/backend: 3 problems in the values:") == 1, error
    expected = [
        'secrets.existingSecret ("vault-backend") and secrets.appKey/secrets.dbPassword are mutually exclusive',
        "autoscaling.minReplicas (5) must be <= autoscaling.maxReplicas (3)",
        "terminationGracePeriodSeconds (10) must be greater than lifecycle.preStopSleepSeconds (5)",
    ]
    for fragment in expected:
        assert error.count(fragment) == 1, f"{fragment!r} not exactly once in:\n{error}"
    # One message a line, right under the header.
    lines = error.splitlines()
    header = next(i for i, line in enumerate(lines) if line.endswith("3 problems in the values:"))
    listed = lines[header + 1:header + 4]
    assert all(line.startswith("- ") for line in listed), error
    assert [any(fragment in line for line in listed) for fragment in expected] == [True] * 3, error


def test_alert_rule_problems_are_collected_with_the_others():
    """Every out-of-range threshold and unparsable duration is listed in the same single failure."""
    values = {"autoscaling": {"minReplicas": 5, "maxReplicas": 3}, "metrics": {"prometheusRule": {"rules": {
        "errorRate": {"threshold": 2}, "latencyP95": {"thresholdSeconds": 0}, "podRestarts": {"for": "1 h"}}}}}
    error = render_error(values)
    assert error.count("charts/backend: 4 problems in the values:") == 1, error
    for fragment in ["autoscaling.minReplicas (5)", "rules.errorRate.threshold (2)",
                     "rules.latencyP95.thresholdSeconds (0)", 'rules.podRestarts.for ("1 h")']:
        assert fragment in error, f"{fragment!r} not in:\n{error}"
