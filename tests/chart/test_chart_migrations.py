"""Migration and seed Jobs: Helm hooks, or a plain Job for the prod flow; and the helm test pod."""

from __future__ import annotations

from chart_helpers import FULLNAME, container, kinds, one, render

HOOK_KEYS = {"helm.sh/hook", "helm.sh/hook-weight", "helm.sh/hook-delete-policy"}


def _job_spec(job):
    return job["spec"]["template"]["spec"]


def test_migration_hook_job(default_docs, pod):
    job = one(default_docs, "Job", f"{FULLNAME}-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
    assert annotations["helm.sh/hook-weight"] == "0"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation"
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (0, 600, 3600)
    pod_spec = _job_spec(job)
    assert pod_spec["restartPolicy"] == "Never"
    assert pod_spec["automountServiceAccountToken"] is False
    assert pod_spec["securityContext"] == pod["securityContext"]
    migrate = container(pod_spec, "migrate")
    # args, not command: the image's entrypoint (which reads the *_FILE secrets) runs first
    assert migrate["args"] == ["php", "artisan", "migrate", "--force"]
    assert "command" not in migrate
    php = container(pod, "php-fpm")
    assert migrate["securityContext"] == php["securityContext"]
    assert migrate["securityContext"]["readOnlyRootFilesystem"] is True
    assert migrate["envFrom"] == php["envFrom"]  # same ConfigMap
    secret_env = {e["name"]: e["value"] for e in migrate["env"] if e["name"].endswith("_FILE")}
    assert secret_env == {e["name"]: e["value"] for e in php["env"] if e["name"].endswith("_FILE")}
    assert migrate["volumeMounts"] == php["volumeMounts"]
    assert migrate["image"] == php["image"]
    assert {v["name"]: v for v in pod_spec["volumes"]} == {v["name"]: v for v in pod["volumes"]
                                                          if not v["name"].startswith("nginx-")}
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migrations"


def test_plain_job_for_the_prod_flow():
    """What the migrations role runs: --show-only the Job, hooks off, a per-revision suffix."""
    docs = render(
        {"migrations": {"enabled": True}},
        sets=["migrations.hook=false", "migrations.nameSuffix=42"],
        show_only="templates/migrations-job.yaml",
    )
    assert [d["kind"] for d in docs] == ["Job"]
    job = docs[0]
    assert job["metadata"]["name"] == f"{FULLNAME}-migrate-42"
    assert not HOOK_KEYS & set(job["metadata"].get("annotations", {}))
    migrate = container(_job_spec(job), "migrate")
    # applied before the release upgrades the ConfigMap: the config is inline, the secret mounted
    assert "envFrom" not in migrate
    env = {e["name"]: e["value"] for e in migrate["env"]}
    assert env["DB_HOST"] == "postgresql" and env["DB_CONNECTION"] == "pgsql" and env["APP_ENV"] == "production"
    assert "APP_KEY" not in env and "DB_PASSWORD" not in env
    assert env["APP_KEY_FILE"] == "/run/secrets/backend/APP_KEY"
    volumes = {v["name"]: v for v in _job_spec(job)["volumes"]}
    assert volumes["app-secrets"]["secret"]["secretName"] == FULLNAME
    assert _job_spec(job)["serviceAccountName"] == "default"


def test_plain_job_name_stays_a_valid_label():
    docs = render({"fullnameOverride": "a" * 63},
                  sets=["migrations.hook=false", "migrations.nameSuffix=r1234567"],
                  show_only="templates/migrations-job.yaml")
    name = docs[0]["metadata"]["name"]
    assert len(name) <= 63
    assert name.endswith("-r1234567")


def test_migrations_disabled():
    docs = render({"migrations": {"enabled": False, "seed": {"enabled": True}}})
    assert not kinds(docs, "Job")


def test_seed_only_when_enabled(default_docs):
    assert [j["metadata"]["name"] for j in kinds(default_docs, "Job")] == [f"{FULLNAME}-migrate"]
    docs = render({"migrations": {"seed": {"enabled": True}}})
    seed = one(docs, "Job", f"{FULLNAME}-seed")
    migrate = one(docs, "Job", f"{FULLNAME}-migrate")
    assert container(_job_spec(seed), "seed")["args"] == ["php", "artisan", "db:seed", "--force"]
    assert seed["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert int(seed["metadata"]["annotations"]["helm.sh/hook-weight"]) > int(
        migrate["metadata"]["annotations"]["helm.sh/hook-weight"])


def test_custom_migration_command_and_limits():
    docs = render({"migrations": {"command": ["php", "artisan", "migrate", "--force", "--step"],
                                  "activeDeadlineSeconds": 120, "backoffLimit": 1}})
    job = one(docs, "Job")
    assert job["spec"]["activeDeadlineSeconds"] == 120 and job["spec"]["backoffLimit"] == 1
    assert container(_job_spec(job), "migrate")["args"][-1] == "--step"


def test_helm_test_pod(default_docs, pod):
    test_pod = one(default_docs, "Pod", f"{FULLNAME}-test-connection")
    assert test_pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    spec = test_pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    c = container(spec, "test-connection")
    assert c["image"] == container(pod, "php-fpm")["image"]
    assert c["command"][0] == "php"
    script = c["command"][-1]
    assert "/healthz" in script and "/readyz" in script
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["BACKEND_URL"] == f"http://{FULLNAME}:80"


def test_helm_test_pod_off():
    assert not kinds(render({"tests": {"enabled": False}}), "Pod")
