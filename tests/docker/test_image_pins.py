"""Offline reading of the image definitions against upstream: base images pinned by digest
through build arguments, no OPcache rebuild, composer on the stage that has the runtime's
extensions, dependency manifests before code, the support images' UID/GID 10001 (and the
StatefulSet of roles/postgresql), the image role's composer.lock warning, and every inline
`# hadolint ignore=` justified where no pin can remove it.

Nothing here builds an image or talks to a registry: the Alpine image cannot be built on these
machines, so reading it is its test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from docker_helpers import (APP_DIR, DOCKER_DIR, REPO, Stage, base_chain, chained_instructions, global_args, instructions,
                            parse_stages, skip)

ALPINE = DOCKER_DIR / "Dockerfile"
DEBIAN = DOCKER_DIR / "Dockerfile.debian"
SUPPORT = {name: DOCKER_DIR / name / "Dockerfile" for name in ("postgresql", "pgbouncer")}
ALL_DOCKERFILES = [ALPINE, DEBIAN, *SUPPORT.values()]
README = DOCKER_DIR / "README.md"
VALIDATE = REPO / "roles" / "image" / "tasks" / "validate.yml"
IMAGE_DEFAULTS = REPO / "roles" / "image" / "defaults" / "main.yml"
POSTGRESQL_TEMPLATE = REPO / "roles" / "postgresql" / "templates" / "postgresql.yaml.j2"

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
SUPPORT_UID = 10001


def _runs(stages: dict[str, Stage], names: list[str]) -> str:
    return " ".join(args for name in names for keyword, args in stages[name] if keyword == "RUN")


@pytest.fixture(scope="module")
def alpine_text() -> str:
    return ALPINE.read_text()


@pytest.fixture(scope="module")
def alpine(alpine_text: str) -> dict[str, Stage]:
    return parse_stages(alpine_text)


# --- 1. base images: supported tags, pinned by digest through build arguments ------------------


def test_every_alpine_base_is_a_tag_pinned_by_digest(alpine_text: str):
    args = global_args(alpine_text)
    for name in ("PHP_IMAGE", "NGINX_IMAGE", "COMPOSER_IMAGE", "NODE_IMAGE"):
        value = args.get(name, "")
        assert DIGEST.search(value), f"ARG {name}={value}: pin the tag by digest (<tag>@sha256:<64 hex>)"
        assert ":" in value.split("@")[0], f"ARG {name}={value}: keep the tag beside the digest, for the reader"
    digests = [args[name].split("@")[1] for name in ("PHP_IMAGE", "NGINX_IMAGE", "COMPOSER_IMAGE", "NODE_IMAGE")]
    assert len(set(digests)) == len(digests), "one digest per image"


def test_alpine_base_tags_are_ones_upstream_still_builds(alpine_text: str):
    args = global_args(alpine_text)
    php = re.fullmatch(r"php:8\.(\d+)-fpm-alpine3\.(\d+)@\S+", args["PHP_IMAGE"])
    assert php, args["PHP_IMAGE"]
    # docker-library/php builds each PHP on the two newest Alpine releases; 3.22 was dropped.
    assert int(php.group(1)) >= 4 and int(php.group(2)) >= 23, f"{args['PHP_IMAGE']}: upstream no longer builds it"
    nginx = re.fullmatch(r"nginx:1\.(\d+)(?:\.\d+)?-alpine(?:3\.(\d+))?@\S+", args["NGINX_IMAGE"])
    assert nginx, args["NGINX_IMAGE"]
    minor = int(nginx.group(1))
    # The stable line (even minor) is 1.30 upstream; 1.28 is no longer built.
    assert minor % 2 == 0 and minor >= 30, f"{args['NGINX_IMAGE']}: not nginx's current stable line"
    assert re.fullmatch(r"composer:2(\.\d+)*@\S+", args["COMPOSER_IMAGE"]), args["COMPOSER_IMAGE"]
    assert re.fullmatch(r"node:\d+-alpine(3\.\d+)?@\S+", args["NODE_IMAGE"]), args["NODE_IMAGE"]


def test_every_from_is_a_pinned_argument_or_a_stage_of_the_file(alpine_text: str, alpine):
    args = global_args(alpine_text)
    seen: list[str] = []
    for name, stage in alpine.items():
        base = stage.base
        variable = re.fullmatch(r"\$\{(\w+)\}", base)
        if variable:
            assert DIGEST.search(args.get(variable.group(1), "")), f"FROM {base}: ARG {variable.group(1)} is not pinned"
        elif base.startswith("frontend-${"):
            # A stage chosen by BUILD_FRONTEND: every frontend-<value> stage must exist above.
            assert {"frontend-true", "frontend-false"} <= set(seen), base
        else:
            assert base in seen, f"FROM {base}: neither a pinned build argument nor an earlier stage"
        seen.append(name)


def test_readme_lists_the_pinned_bases(alpine_text: str):
    readme = README.read_text()
    for name in ("PHP_IMAGE", "NGINX_IMAGE", "COMPOSER_IMAGE", "NODE_IMAGE"):
        tag, digest = global_args(alpine_text)[name].split("@")
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row, f"docker/README.md: no row for {name} in the base image table"
        assert f"`{tag}`" in row and digest in row, f"docker/README.md row of {name} is not {tag}@{digest}"
        assert "repos/" in row and "/remote/" in row, f"{name}: say where the digest was read"


def test_debian_and_support_images_are_pinned_by_the_build_argument_the_project_passes():
    defaults = yaml.safe_load(IMAGE_DEFAULTS.read_text())
    passed = defaults["image_support_base_image"]
    assert re.fullmatch(r"laravel-ops/debian-sid-base:v\d+", passed), passed
    for dockerfile in (DEBIAN, *SUPPORT.values()):
        text = dockerfile.read_text()
        assert global_args(text).get("BASE_IMAGE") == passed, f"{dockerfile}: BASE_IMAGE != {passed} (the role's)"
        for keyword, args in instructions(text):
            if keyword == "FROM":
                assert args.split()[0] in ("${BASE_IMAGE}", "php-os"), f"{dockerfile}: FROM {args}"
        prose = " ".join(text.replace("#", " ").split())
        assert "no registry digest" in prose, f"{dockerfile}: say why the base is pinned by the argument"


# --- 2. OPcache: enabled by the php image, never rebuilt ---------------------------------------


def test_opcache_is_not_rebuilt(alpine):
    everything = _runs(alpine, list(alpine))
    for command in re.split(r"&&|;|\|\|", everything):
        if re.search(r"docker-php-ext-(install|enable|configure)|pecl\s+install", command):
            assert not re.search(r"\bopcache\b", command, re.IGNORECASE), (
                f"'{command.strip()}': the php image already has OPcache (8.5 compiles it in)")


def test_opcache_is_still_configured_and_checked(alpine):
    php_ini = (DOCKER_DIR / "php" / "php.ini").read_text()
    assert re.search(r"^opcache\.enable\s*=\s*1\s*$", php_ini, re.M)
    assert any(k == "COPY" and "docker/php/php.ini" in a for k, a in alpine["php"])
    assert "Zend OPcache" in _runs(alpine, ["php"]), "the php stage checks that OPcache is loaded"


# --- 3. composer runs where the runtime's extensions are -----------------------------------------


def _installed_extensions(stages: dict[str, Stage], names: list[str]) -> set[str]:
    runs = _runs(stages, names)
    found = set()
    for command in re.split(r"&&|;", runs):
        match = re.search(r"docker-php-ext-(?:install|enable)\s+(.*)", command)
        if match:
            found |= {word for word in match.group(1).split() if not word.startswith("-")}
        match = re.search(r"pecl install\s+(.*)", command)
        if match:
            found |= {re.split(r"-\d", word.strip("\"'"))[0] for word in match.group(1).split()}
    return found


def test_composer_stage_is_built_on_the_stage_with_the_extensions(alpine):
    chain = base_chain(alpine, "vendor-deps")
    installed = _installed_extensions(alpine, chain)
    assert {"pdo_pgsql", "apcu"} <= installed, (
        f"composer runs in {chain}, which installs {sorted(installed)}: an application requiring "
        "ext-pdo_pgsql fails composer's platform check there")
    # The runtime takes its extensions from a stage of that same chain: composer sees what runs.
    sources = {a.split()[0].split("=", 1)[1] for k, a in alpine["php"]
               if k == "COPY" and a.startswith("--from=") and "/extensions/" in a}
    assert sources and sources <= set(chain), (sources, chain)
    # Only the binary comes from the pinned composer image.
    copies = [a for k, a in alpine["vendor-deps"] if k == "COPY" and "--from=composer" in a]
    assert copies == ["--from=composer /usr/bin/composer /usr/local/bin/composer"], copies
    assert alpine["composer"].base == "${COMPOSER_IMAGE}"
    assert not alpine["composer"], "the composer stage only names the image"


def test_every_extension_the_example_app_names_is_there_for_composer(alpine):
    composer = json.loads((APP_DIR / "composer.json").read_text())
    named = {key[4:].lower() for section in ("require", "suggest") for key in composer.get(section, {})
             if key.startswith("ext-")}
    assert named, "the example names ext-pdo_pgsql / ext-apcu"
    installed = {ext.lower() for ext in _installed_extensions(alpine, base_chain(alpine, "vendor-deps"))}
    assert named <= installed, f"composer's stage lacks {sorted(named - installed)}"


# --- 4. dependency manifests before the application code -------------------------------------


def test_the_composer_chain_sees_only_the_manifests_before_installing(alpine):
    chain = base_chain(alpine, "vendor-deps")
    chained = chained_instructions(alpine, "vendor-deps")
    install = next(i for i, (k, a) in enumerate(chained) if k == "RUN" and "composer install" in a)
    copies = [(i, a) for i, (k, a) in enumerate(chained) if k == "COPY" and not a.startswith("--from=")]
    assert copies, "composer.json is copied"
    for position, args in copies:
        sources = args.split()[:-1]
        assert set(sources) <= {"app/composer.json", "app/composer.lock*"}, (
            f"COPY {args} in {chain}: only the manifests may come before composer install (layer cache)")
        assert position < install
    # The code comes in the next stage, after the installed vendor/ is a cached layer.
    assert alpine["vendor"].base == "vendor-deps"
    assert any(k == "COPY" and a.split()[0] in ("app/", "app") for k, a in alpine["vendor"])


# --- 4b. a fresh builder reuses the expensive stages: a registry cache of the stage under them ---

IMAGE_VARS = REPO / "roles" / "image" / "vars" / "main.yml"
IMAGE_BUILD = REPO / "roles" / "image" / "tasks" / "build.yml"


def _cache_stages() -> dict[str, str]:
    text = yaml.safe_load(IMAGE_VARS.read_text())["__image_cache_stage"]
    return dict(re.findall(r"'(\w+)': '([\w-]+)'", text))


@pytest.mark.parametrize("flavour, expensive", [
    ("alpine", ["php-extensions", "vendor-deps"]),  # compiled extensions, composer install
    ("debian", ["php-os"]),  # the Debian packages of PHP and Laravel
])
def test_the_cached_stage_carries_every_expensive_stage_of_its_dockerfile(flavour, expensive):
    stage = _cache_stages()[flavour]
    dockerfile = ALPINE if flavour == "alpine" else DEBIAN
    stages = parse_stages(dockerfile.read_text())
    chain = base_chain(stages, stage)
    # An inline cache holds the layers of the image it is exported with: the whole chain.
    assert set(expensive) <= set(chain), (stage, chain)
    # Code changes do not reach it (its tag is keyed by the manifests and docker/ only).
    copies = [a for name in chain for k, a in stages[name]
              if k == "COPY" and not a.startswith("--from=")]
    assert not [c for c in copies if c.split()[0] in ("app/", "app", ".")], copies


def test_the_stage_cache_is_pushed_with_an_inline_cache_and_read_by_every_build():
    tasks = {t["name"]: t for t in yaml.safe_load(IMAGE_BUILD.read_text())}
    stage = tasks["Describe the build of the stage cache the registry lacks"]["ansible.builtin.set_fact"][
        "__image_bake_targets"]
    assert "'target': __image_cache_stage" in stage
    assert "'args': {'BUILDKIT_INLINE_CACHE': '1'}" in stage
    assert "'output': ['type=image,push=true']" in stage
    final = tasks["Describe the build of each image the registry lacks"]
    assert "__image_stage_cache_ref" in final["vars"]["__image_cache_refs"]
    assert final["vars"]["__image_application_args"]["BUILDKIT_INLINE_CACHE"] == "1"
    assert "{'BASE_IMAGE': image_support_base_image}" in final["ansible.builtin.set_fact"]["__image_bake_targets"]
    # Every missing image, and the stage cache, in one build.
    bake = tasks["Build and push the images the registry lacks"]["ansible.builtin.command"]
    assert bake["argv"].startswith("{{ ['docker', 'buildx', 'bake'")
    assert "__image_bake_targets" in bake["stdin"]
    key = yaml.safe_load(IMAGE_VARS.read_text())["__image_stage_key"]
    assert "composer.json" in key and "composer.lock" in key and "image_docker_dir" in key


# --- 5. composer.lock: the example ships none (packagist unreachable); the role warns ------------


def test_missing_example_lock_is_explained():
    if (APP_DIR / "composer.lock").exists():
        data = json.loads((APP_DIR / "composer.lock").read_text())
        assert data.get("content-hash"), "a composer.lock written by composer"
        return
    readme = README.read_text()
    assert "ships no\n`composer.lock`" in readme or "ships no `composer.lock`" in readme
    assert "packagist" in readme


def _warning_task() -> dict:
    tasks = yaml.safe_load(VALIDATE.read_text())
    found = [task for task in tasks if "composer.lock" in task.get("name", "")]
    assert len(found) == 1, f"{VALIDATE}: one task warns about a missing composer.lock"
    return found[0]


def test_image_role_warns_about_a_missing_lock_in_its_style():
    task = _warning_task()
    modules = [key for key in task if key.startswith("ansible.builtin.")]
    assert modules == ["ansible.builtin.debug"], f"a non-failing message with a FQCN module: {list(task)}"
    message = task["ansible.builtin.debug"]["msg"]
    assert "{{ __image_source }}/composer.lock" in message, "the message names the path"
    conditions = " ".join(task["when"])
    assert "(__image_source ~ '/composer.json') is file" in conditions
    assert "(__image_source ~ '/composer.lock') is not file" in conditions


@pytest.mark.parametrize("with_lock", [False, True], ids=["without-lock", "with-lock"])
def test_image_role_warning_runs(tmp_path, with_lock):
    """validate.yml on the controller, with the variables the role would set; no cluster, no engine."""
    playbook_bin = Path(sys.executable).parent / "ansible-playbook"
    if not playbook_bin.exists():
        found = shutil.which("ansible-playbook")
        if not found:
            skip("ansible-playbook not installed")
        playbook_bin = Path(found)
    app = tmp_path / "app"
    app.mkdir()
    (app / "artisan").write_text("#!/usr/bin/env php\n")
    (app / "composer.json").write_text("{}\n")
    if with_lock:
        (app / "composer.lock").write_text("{}\n")
    playbook = tmp_path / "validate.yml"
    playbook.write_text(textwrap.dedent(f"""\
        - name: Validate like the image role
          hosts: localhost
          connection: local
          gather_facts: false
          vars:
            __image_source: {json.dumps(str(app))}
            __image_flavour: alpine
            __image_dockerfile: Dockerfile
            image_docker_dir: {json.dumps(str(DOCKER_DIR))}
            image_tag: ""
            image_version: ""
          tasks:
            - name: The role's checks
              ansible.builtin.import_tasks: {json.dumps(str(VALIDATE))}
        """))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_HOME=str(tmp_path / "ansible-home"))
    result = subprocess.run([str(playbook_bin), "-i", "localhost,", str(playbook)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    warned = f"{app}/composer.lock is missing" in " ".join(result.stdout.split())
    assert warned is not with_lock, result.stdout[-3000:]
    assert "failed=0" in result.stdout


# --- 6. hadolint: no ignore that a pin could remove, each with its reason beside it ------------

# What each ignorable rule needs said right above the ignore (no pin can remove these).
REASONS = {
    "DL3008": ("sid", "break"),      # apt version pins: sid keeps one version of each package
    "DL3018": ("Alpine", "break"),   # apk version pins: Alpine keeps the newest revision per branch
    "SC2086": ("split",),            # a list variable, split on purpose
    "DL3006": ("stage",),            # FROM <stage chosen by an ARG>: not an image, nothing to tag
}


@pytest.mark.parametrize("dockerfile", ALL_DOCKERFILES, ids=lambda p: str(p.relative_to(DOCKER_DIR)))
def test_hadolint_ignores_are_only_those_no_pin_can_remove(dockerfile: Path):
    lines = dockerfile.read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"\s*# hadolint ignore=(\S+)", line)
        if not match:
            continue
        codes = match.group(1).split(",")
        above = []
        for previous in reversed(lines[:number]):
            if not previous.startswith("#"):
                break
            above.insert(0, previous)
        reason = " ".join(above[-3:])
        following = next(item for item in lines[number + 1:] if item.strip() and not item.startswith("#"))
        for code in codes:
            assert code in REASONS, (
                f"{dockerfile.name}:{number + 1}: ignore={code} — a pin removes it, or it is not reviewed here")
            assert code in reason and all(word in reason for word in REASONS[code]), (
                f"{dockerfile.name}:{number + 1}: say right above why {code} cannot be fixed "
                f"(naming {code} and {', '.join(REASONS[code])}): {reason!r}")
            if code == "DL3006":
                stage = re.match(r"FROM\s+(\S+)", following)
                assert stage and "${" in stage.group(1) and not DIGEST.search(stage.group(1)), (
                    f"{dockerfile.name}:{number + 1}: DL3006 is ignored only on a FROM of a stage chosen by an ARG")
                prefix = stage.group(1).split("${")[0]
                assert re.search(rf"^FROM \S+ AS {re.escape(prefix)}\w+$", "\n".join(lines[:number]), re.M), (
                    f"{dockerfile.name}:{number + 1}: {stage.group(1)} does not name stages of this file")


# --- 7. support images run as 10001:10001, as the StatefulSet does -----------------------------


@pytest.mark.parametrize("name", sorted(SUPPORT))
def test_support_image_user_is_10001(name):
    text = SUPPORT[name].read_text()
    steps = instructions(text)
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users == [f"{SUPPORT_UID}:{SUPPORT_UID}"], f"{name}: USER {users}"
    run = " ".join(args for keyword, args in steps if keyword == "RUN")
    assert f"groupadd --system --gid {SUPPORT_UID} postgres" in run
    useradd = re.search(r"useradd ([^&]*) postgres", run)
    assert useradd, f"{name}: the postgres user is created before the packages"
    flags = useradd.group(1)
    assert f"--uid {SUPPORT_UID}" in flags and f"--gid {SUPPORT_UID}" in flags, flags
    assert "--no-log-init" in flags, "a high UID without --no-log-init grows /var/log/lastlog"
    assert run.index("useradd") < run.index("apt-get install"), "created before postgresql-common would pick one"
    assert not re.search(r"\b999\b", "\n".join(a for _, a in steps)), f"{name}: UID/GID 999 left"
    assert SUPPORT_UID >= 10000


def test_postgresql_statefulset_runs_as_the_image_user():
    text = POSTGRESQL_TEMPLATE.read_text()
    context = text.split("      securityContext:\n", 1)[1].split("      containers:", 1)[0]
    values = dict(re.findall(r"^\s+(runAsUser|runAsGroup|fsGroup):\s*(\d+)\s*$", context, re.M))
    assert values == {"runAsUser": str(SUPPORT_UID), "runAsGroup": str(SUPPORT_UID), "fsGroup": str(SUPPORT_UID)}, values
    assert "runAsNonRoot: true" in context
