"""Image references (digest over tag) and the Secret / existingSecret paths."""

from __future__ import annotations

import base64

from chart_helpers import APP_KEY, FULLNAME, container, kinds, one, pod_specs, render

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "0123456789abcdef" * 4


def _images(docs):
    out = {}
    for where, spec in pod_specs(docs):
        for c in spec["containers"]:
            out[f"{where}/{c['name']}"] = c["image"]
    return out


def test_default_tag_is_app_version(default_docs):
    images = _images(default_docs)
    assert images[f"Deployment/{FULLNAME}/php-fpm"] == "laravel-ops/backend-php:1.0.0"
    assert images[f"Deployment/{FULLNAME}/nginx"] == "laravel-ops/backend-nginx:1.0.0"
    assert images[f"Job/{FULLNAME}-migrate/migrate"] == "laravel-ops/backend-php:1.0.0"
    assert images[f"Pod/{FULLNAME}-test-connection/test-connection"] == "laravel-ops/backend-php:1.0.0"


def test_registry_and_tag():
    docs = render({"php": {"image": {"registry": "registry.local:5000", "tag": "2.3.4"}},
                   "nginx": {"image": {"registry": "registry.local:5000", "tag": "2.3.5"}}})
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert container(spec, "php-fpm")["image"] == "registry.local:5000/laravel-ops/backend-php:2.3.4"
    assert container(spec, "nginx")["image"] == "registry.local:5000/laravel-ops/backend-nginx:2.3.5"


def test_numeric_tag_from_set():
    docs = render(sets=["php.image.tag=20260101"])
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert container(spec, "php-fpm")["image"] == "laravel-ops/backend-php:20260101"


def _app_version(docs):
    env = container(one(docs, "Deployment")["spec"]["template"]["spec"], "php-fpm")["env"]
    return next(e["value"] for e in env if e["name"] == "APP_VERSION")


def test_app_version_names_the_php_image_tag(default_docs):
    assert _app_version(default_docs) == "1.0.0"
    assert _app_version(render(sets=["php.image.tag=20260101"])) == "20260101"
    # a digest pins the image; the tag still names the version
    assert _app_version(render({"php": {"image": {"tag": "b-2", "digest": DIGEST_A}}})) == "b-2"


def test_digest_wins_over_tag():
    docs = render({"php": {"image": {"registry": "r.example", "tag": "ignored", "digest": DIGEST_A}},
                   "nginx": {"image": {"tag": "ignored", "digest": DIGEST_B}}})
    images = _images(docs)
    php_ref = f"r.example/laravel-ops/backend-php@{DIGEST_A}"
    assert images[f"Deployment/{FULLNAME}/php-fpm"] == php_ref
    assert images[f"Job/{FULLNAME}-migrate/migrate"] == php_ref
    assert images[f"Pod/{FULLNAME}-test-connection/test-connection"] == php_ref
    assert images[f"Deployment/{FULLNAME}/nginx"] == f"laravel-ops/backend-nginx@{DIGEST_B}"
    assert not any("ignored" in ref for ref in images.values())


def test_pull_policy():
    docs = render({"php": {"image": {"pullPolicy": "Always"}}})
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert container(spec, "php-fpm")["imagePullPolicy"] == "Always"
    assert container(spec, "nginx")["imagePullPolicy"] == "IfNotPresent"


def test_chart_secret(default_docs):
    secret = one(default_docs, "Secret", FULLNAME)
    assert secret["type"] == "Opaque"
    assert set(secret["data"]) == {"APP_KEY", "DB_PASSWORD"}
    assert base64.b64decode(secret["data"]["APP_KEY"]).decode() == APP_KEY
    assert base64.b64decode(secret["data"]["DB_PASSWORD"]).decode() == "test-only"


def test_existing_secret_renders_no_secret_and_is_referenced():
    docs = render({"secrets": {"existingSecret": "vault-backend"}}, base=False)
    assert not kinds(docs, "Secret")
    specs = dict(pod_specs(docs))
    assert specs, "no workloads rendered"
    for where, spec in specs.items():
        if where.startswith("Pod/"):
            continue  # the helm test pod needs no app secrets
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["app-secrets"]["secret"]["secretName"] == "vault-backend", where
    annotations = one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/secret" not in annotations
    assert "checksum/config" in annotations
