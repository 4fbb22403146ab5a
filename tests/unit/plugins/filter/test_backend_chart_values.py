# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import copy
import json
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.laravel_ops.k8s.plugins.filter.backend_chart_values import FilterModule
from ansible_collections.laravel_ops.k8s.plugins.module_utils import chart_values
from ansible_collections.laravel_ops.k8s.plugins.module_utils.chart_values import (
    ChartValuesError,
    build_chart_values,
    deep_merge,
    relax_schema,
    settings_to_values,
    source_variable,
    validate_against_schema,
    validate_settings,
)

APP_KEY = 'base64:' + base64.b64encode(b'0123456789abcdef0123456789ABCDEF').decode('ascii')
DB_PASSWORD = 'Sup3r-S3cret-DB-Passw0rd'
BAD_APP_KEY = 'base64:dG9vLXNob3J0LXNlY3JldA=='  # 'too-short-secret', 16 bytes
PHP_DIGEST = 'sha256:' + 'a' * 64
NGINX_DIGEST = 'sha256:' + 'b' * 64
SECRETS = (APP_KEY, DB_PASSWORD, BAD_APP_KEY)

backend_chart_values = FilterModule().filters()['backend_chart_values']


def staging_settings(**changes):
    settings = dict(
        environment='staging',
        app_env='staging',
        app_debug=False,
        log_level='info',
        app_url='https://api.staging.example.com',
        replicas_min=2,
        replicas_max=4,
        ingress_host='api.staging.example.com',
        ingress_class='nginx',
        ingress_tls_secret='api-staging-tls',
        php_image=dict(registry='registry.example.com:5000', repository='acme/backend-php', tag='1.2.3',
                       digest=PHP_DIGEST),
        nginx_image=dict(registry='registry.example.com:5000', repository='acme/backend-nginx', tag='1.2.3',
                         digest=NGINX_DIGEST),
        database=dict(host='postgres.db.svc.cluster.local', port=5432, name='laravel', username='laravel'),
        existing_secret=None,
        app_key=APP_KEY,
        database_password=DB_PASSWORD,
        migrations_mode='hooks',
        seed=True,
        metrics_enabled=True,
    )
    settings.update(changes)
    return settings


def prod_settings(**changes):
    base = staging_settings(environment='prod', app_env='production', log_level='warning', replicas_min=3,
                            replicas_max=10, migrations_mode='job', seed=False,
                            ingress_host='api.example.com', app_url='https://api.example.com')
    base.update(changes)
    return base


def errors_of(settings, **kwargs):
    with pytest.raises(AnsibleFilterError) as info:
        backend_chart_values(settings, **kwargs)
    return str(info.value)


def assert_no_secret(message):
    for secret in SECRETS:
        assert secret not in message
    # not even the part after the prefix
    assert APP_KEY[len('base64:'):] not in message
    assert BAD_APP_KEY[len('base64:'):] not in message


# ---------------------------------------------------------------------------------------------
# validation: one case per rule; each names the variable and what is allowed, never a secret

ERROR_CASES = [
    ('env-unknown', dict(environment='production'), 'backend_environment', 'local, dev, staging, prod'),
    ('env-missing', dict(environment=None), 'backend_environment: missing', 'local, dev, staging, prod'),
    ('log-level', dict(log_level='verbose'), "backend_log_level: 'verbose'",
     'debug, info, notice, warning, error, critical, alert, emergency'),
    ('replicas-min-zero', dict(replicas_min=0), 'backend_replicas_min: 0', 'an integer >= 1'),
    ('replicas-min-string', dict(replicas_min='2'), "backend_replicas_min: '2' is not an integer", 'an integer >= 1'),
    ('replicas-max-bool', dict(replicas_max=True), 'backend_replicas_max: true is not an integer', 'an integer >= 1'),
    ('replicas-max-below-min', dict(replicas_min=5, replicas_max=3), 'backend_replicas_max: 3 is below',
     'an integer >= backend_replicas_min (5)'),
    ('migrations-mode', dict(migrations_mode='always'), "backend_migrations_mode: 'always'", 'hooks, job, off'),
    ('app-debug-string', dict(app_debug='yes'), "backend_app_debug: 'yes' is not a boolean", 'true or false'),
    ('seed-string', dict(seed='no'), "backend_seed: 'no' is not a boolean", 'true or false'),
    ('metrics-int', dict(metrics_enabled=1), 'backend_metrics_enabled: 1 is not a boolean', 'true or false'),
    ('pgbouncer-string', dict(pgbouncer_enabled='yes'), "backend_pgbouncer_enabled: 'yes' is not a boolean",
     'true or false'),
    ('pgbouncer-image-unknown-key', dict(pgbouncer_image=dict(repository='acme/pgbouncer', version='1.26')),
     'backend_pgbouncer_image.version: unknown key', 'registry, repository, tag, digest'),
    ('pgbouncer-image-tag', dict(pgbouncer_image=dict(repository='acme/pgbouncer', tag='bad tag!')),
     "backend_pgbouncer_image.tag: 'bad tag!' is not valid", 'a Docker tag'),
    ('image-unknown-key', dict(php_image=dict(repository='acme/php', name='x')), 'backend_php_image.name: unknown key',
     'registry, repository, tag, digest'),
    ('image-not-mapping', dict(php_image='acme/php:1.0'), "backend_php_image: 'acme/php:1.0' is not a mapping",
     'a mapping with keys registry, repository, tag, digest'),
    ('image-digest', dict(php_image=dict(repository='acme/php', digest='sha256:abc')),
     "backend_php_image.digest: 'sha256:abc' is not valid", 'sha256: followed by 64 lower-case hex digits'),
    ('image-digest-upper', dict(nginx_image=dict(repository='acme/nginx', digest='sha256:' + 'A' * 64)),
     'backend_nginx_image.digest', 'sha256: followed by 64 lower-case hex digits'),
    ('image-tag', dict(nginx_image=dict(repository='acme/nginx', tag='bad tag!')),
     "backend_nginx_image.tag: 'bad tag!' is not valid", 'a Docker tag'),
    ('image-tag-leading-dot', dict(nginx_image=dict(repository='acme/nginx', tag='.hidden')),
     'backend_nginx_image.tag', 'not starting with . or -'),
    ('image-repository', dict(php_image=dict(repository='Acme/Backend')), "backend_php_image.repository: 'Acme/Backend'",
     'lower-case components'),
    ('image-registry', dict(php_image=dict(registry='bad registry', repository='acme/php')),
     'backend_php_image.registry', 'a registry host with an optional port'),
    ('database-port-range', dict(database=dict(host='db', port=70000)), 'backend_database.port: 70000',
     'an integer from 1 to 65535'),
    ('database-port-string', dict(database=dict(host='db', port='5432')), "backend_database.port: '5432'",
     'an integer from 1 to 65535'),
    ('database-unknown-key', dict(database=dict(host='db', user='x')), 'backend_database.user: unknown key',
     'host, port, name, username'),
    ('database-host', dict(database=dict(host='db host')), "backend_database.host: 'db host'",
     'a DNS name (RFC 1123) or an IP address'),
    ('secrets-both-forms', dict(existing_secret='backend-secrets'), 'backend_existing_secret: set together with',
     'either backend_existing_secret'),
    ('secrets-half-form', dict(database_password=None), 'backend_database_password: missing while backend_app_key is set',
     'both backend_app_key and backend_database_password'),
    ('secrets-none', dict(app_key=None, database_password=None), 'backend_existing_secret: no secret given',
     'either backend_existing_secret'),
    ('app-key-format', dict(app_key=BAD_APP_KEY), 'backend_app_key: <hidden> is not a Laravel application key',
     "'base64:' followed by 32 random bytes"),
    ('app-key-no-prefix', dict(app_key='0123456789abcdef0123456789abcdef'), 'backend_app_key: <hidden>',
     "'base64:' followed by 32"),
    ('db-password-type', dict(database_password=123456789), 'backend_database_password: <hidden> is not a string',
     'a string'),
    ('existing-secret-name', dict(app_key=None, database_password=None, existing_secret='Backend_Secrets'),
     "backend_existing_secret: 'Backend_Secrets' is not valid", 'the name of a Secret (RFC 1123 subdomain)'),
    ('ingress-host-upper', dict(ingress_host='API.Example.com'), "backend_ingress_host: 'API.Example.com'",
     'a DNS name (RFC 1123'),
    ('ingress-host-underscore', dict(ingress_host='bad_host.example.com'), 'backend_ingress_host', 'a DNS name (RFC 1123'),
    ('ingress-host-label-too-long', dict(ingress_host='a' * 64 + '.example.com'), 'backend_ingress_host',
     'a DNS name (RFC 1123'),
    ('ingress-class', dict(ingress_class='Nginx Class'), "backend_ingress_class: 'Nginx Class'", 'an IngressClass name'),
    ('tls-without-host', dict(ingress_host=''), 'backend_ingress_tls_secret', 'empty when backend_ingress_host is empty'),
    ('app-url-scheme', dict(app_url='ftp://files.example.com'), "backend_app_url: 'ftp://files.example.com'",
     'an http:// or https:// URL'),
    ('app-url-no-scheme', dict(app_url='api.example.com'), "backend_app_url: 'api.example.com'", 'an http:// or https:// URL'),
    ('app-url-bad-port', dict(app_url='https://api.example.com:99999/'), 'backend_app_url', 'an http:// or https:// URL'),
    ('app-env-type', dict(app_env=5), 'backend_app_env: 5 is not a string', 'a non-empty string'),
    ('app-env-spaces', dict(app_env='prod env'), "backend_app_env: 'prod env' is not valid", 'letters, digits, _ . -'),
    ('unknown-setting', dict(replicas=3), "settings key 'replicas' (backend_replicas): unknown setting",
     'environment, app_env, app_debug, log_level, app_url, replicas_min, replicas_max'),
]


@pytest.mark.parametrize('changes, expected, allowed', [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_validation_error(changes, expected, allowed):
    message = errors_of(staging_settings(**changes))
    assert expected in message
    assert 'allowed: ' in message
    assert allowed in message
    assert_no_secret(message)


def test_every_error_line_has_the_format():
    settings = staging_settings(environment='qa', log_level='loud', replicas_min='x', seed='yes', app_key=BAD_APP_KEY,
                                php_image=dict(digest='md5:1'), database=dict(port=0), bogus=1)
    with pytest.raises(ChartValuesError) as info:
        build_chart_values(settings)
    lines = info.value.errors
    assert len(lines) == 8
    for line in lines:
        name, rest = line.split(': ', 1)
        assert name.startswith('backend_') or name.startswith("settings key 'bogus'")
        assert '; allowed: ' in rest
    assert_no_secret(str(info.value))


def test_all_errors_reported_together_in_one_filter_error():
    message = errors_of(staging_settings(environment='qa', log_level='loud', migrations_mode='sometimes'))
    assert message.startswith('laravel_ops.k8s.backend_chart_values: 3 problems in the backend_* settings:')
    body = message.split('\n')[1:]
    assert [line.split(':')[0] for line in body] == ['backend_environment', 'backend_log_level', 'backend_migrations_mode']


def test_single_problem_wording():
    message = errors_of(staging_settings(log_level='loud'))
    assert message.startswith('laravel_ops.k8s.backend_chart_values: 1 problem in the backend_* settings:\n')


def test_settings_must_be_a_mapping():
    message = errors_of(['environment', 'dev'])
    assert 'settings: a list is not a mapping' in message
    assert 'environment, app_env' in message


def test_overrides_and_schema_and_for_deploy_types():
    message = errors_of(staging_settings(), overrides=['x'], schema='values.schema.json', for_deploy='yes')
    assert "for_deploy: 'yes' is not a boolean; allowed: true or false" in message
    assert 'backend_chart_values: a list is not a mapping' in message
    assert "schema: 'values.schema.json' is not a mapping" in message


def test_secret_values_never_echoed_even_when_misplaced():
    # The key lands in a non-secret variable by mistake: the message still hides it.
    message = errors_of(staging_settings(app_env=APP_KEY, log_level=DB_PASSWORD))
    assert 'backend_app_env' in message or 'backend_log_level' in message
    assert '<hidden>' in message
    assert_no_secret(message)


def test_valid_app_key_accepted_and_empty_strings_mean_unset():
    assert validate_settings(staging_settings()) == []
    settings = staging_settings(app_key='', database_password='', existing_secret='backend-secrets',
                                app_url='', ingress_class='')
    assert validate_settings(settings) == []
    values = settings_to_values(settings)
    assert values['secrets'] == {'existingSecret': 'backend-secrets'}
    assert 'url' not in values['app'] and 'className' not in values['ingress']


def test_wildcard_ingress_host_and_ip_database_host_accepted():
    settings = staging_settings(ingress_host='*.staging.example.com', database=dict(host='10.0.0.5', port=5432))
    assert validate_settings(settings) == []


# ---------------------------------------------------------------------------------------------
# prod policy

PROD_CASES = [
    ('debug', dict(app_debug=True), 'backend_app_debug: true is not allowed in prod', 'false (prod policy)'),
    ('log-debug', dict(log_level='debug'), "backend_log_level: 'debug' is not allowed in prod",
     'info, notice, warning, error, critical, alert, emergency (prod policy)'),
    ('hooks', dict(migrations_mode='hooks'), "backend_migrations_mode: 'hooks' is not allowed in prod", 'job, off'),
    ('seed', dict(seed=True), 'backend_seed: true is not allowed in prod', 'false (prod policy)'),
    ('one-replica', dict(replicas_min=1, replicas_max=1), 'backend_replicas_min: 1 is too low for prod',
     'an integer >= 2 (prod policy)'),
    ('php-no-digest', dict(php_image=dict(repository='acme/php', tag='1.2.3')), 'backend_php_image.digest: missing in prod',
     'sha256: followed by 64 lower-case hex digits'),
    ('nginx-empty-digest', dict(nginx_image=dict(repository='acme/nginx', digest='')),
     'backend_nginx_image.digest: missing in prod', 'sha256: followed by 64'),
    ('nginx-image-missing', dict(nginx_image=None), 'backend_nginx_image.digest: missing in prod', 'sha256:'),
]


@pytest.mark.parametrize('changes, expected, allowed', [c[1:] for c in PROD_CASES], ids=[c[0] for c in PROD_CASES])
def test_prod_policy(changes, expected, allowed):
    message = errors_of(prod_settings(**changes))
    assert expected in message
    assert allowed in message
    assert_no_secret(message)


@pytest.mark.parametrize('env', ['local', 'dev', 'staging'])
def test_policy_only_applies_to_prod(env):
    settings = staging_settings(environment=env, app_debug=True, log_level='debug', migrations_mode='hooks', seed=True,
                                replicas_min=1, replicas_max=1, php_image=dict(repository='acme/php', tag='dev'))
    values = backend_chart_values(settings)
    assert values['app']['debug'] is True
    assert values['commonLabels'] == {'app.kubernetes.io/environment': env}


def test_prod_valid_settings_pass():
    values = backend_chart_values(prod_settings())
    assert values['migrations'] == {'enabled': False, 'seed': {'enabled': False}}
    assert values['php']['image']['digest'] == PHP_DIGEST


def test_for_deploy_false_skips_digest_and_secret_requirements():
    settings = prod_settings(php_image=dict(repository='acme/php', tag='1.2.3'), nginx_image=None,
                             app_key=None, database_password=None)
    values = backend_chart_values(settings, for_deploy=False)
    assert 'digest' not in values['php']['image']
    assert 'secrets' not in values
    # the rest of the policy still holds
    message = errors_of(prod_settings(app_debug=True, php_image=dict(repository='acme/php')), for_deploy=False)
    assert 'backend_app_debug' in message
    assert 'digest' not in message


def test_require_digest_false_checks_secrets_but_not_digests():
    """The deploy's first play: secrets must be there, the digests come later from the image role."""
    undigested = dict(php_image=dict(repository='acme/php', tag='1.2.3'), nginx_image=dict(repository='acme/nginx'))
    values = backend_chart_values(prod_settings(**undigested), require_digest=False)
    assert 'digest' not in values['php']['image']
    message = errors_of(prod_settings(app_key=None, database_password=None, **undigested), require_digest=False)
    assert 'backend_existing_secret' in message
    assert 'digest' not in message
    assert 'backend_php_image.digest' in errors_of(prod_settings(**undigested))
    assert 'require_digest' in errors_of(prod_settings(), require_digest='no')


def test_for_deploy_false_still_rejects_both_secret_forms():
    message = errors_of(staging_settings(existing_secret='backend-secrets'), for_deploy=False)
    assert 'both secret forms' in message


OVERRIDE_POLICY_CASES = [
    ({'app': {'debug': True}}, 'backend_chart_values.app.debug: true is not allowed in prod'),
    ({'app': {'logLevel': 'debug'}}, "backend_chart_values.app.logLevel: 'debug' is not allowed in prod"),
    ({'migrations': {'enabled': True}}, 'backend_chart_values.migrations.enabled: true is not allowed in prod'),
    ({'migrations': {'seed': {'enabled': True}}}, 'backend_chart_values.migrations.seed.enabled'),
    ({'autoscaling': {'minReplicas': 1}}, 'backend_chart_values.autoscaling.minReplicas: 1 is not allowed in prod'),
    ({'replicaCount': 1}, 'backend_chart_values.replicaCount: 1'),
    ({'php': {'image': {'digest': ''}}}, "backend_chart_values.php.image.digest: '' is not allowed in prod"),
]


@pytest.mark.parametrize('overrides, expected', OVERRIDE_POLICY_CASES)
def test_prod_policy_holds_for_overrides(overrides, expected):
    message = errors_of(prod_settings(), overrides=overrides)
    assert expected in message
    assert '(prod policy)' in message


def test_override_digest_policy_only_for_deploy():
    values = backend_chart_values(prod_settings(), overrides={'php': {'image': {'digest': ''}}}, for_deploy=False)
    assert values['php']['image']['digest'] == ''


# ---------------------------------------------------------------------------------------------
# mapping

def test_mapping_of_every_setting():
    settings = staging_settings(seed=False)
    values = backend_chart_values(settings)
    assert values == {
        'commonLabels': {'app.kubernetes.io/environment': 'staging'},
        'app': {'env': 'staging', 'debug': False, 'logLevel': 'info', 'url': 'https://api.staging.example.com'},
        'replicaCount': 2,
        'autoscaling': {'minReplicas': 2, 'maxReplicas': 4},
        'ingress': {'enabled': True, 'host': 'api.staging.example.com', 'className': 'nginx',
                    'tls': {'enabled': True, 'secretName': 'api-staging-tls'}},
        'php': {'image': {'registry': 'registry.example.com:5000', 'repository': 'acme/backend-php', 'tag': '1.2.3',
                          'digest': PHP_DIGEST}},
        'nginx': {'image': {'registry': 'registry.example.com:5000', 'repository': 'acme/backend-nginx',
                            'tag': '1.2.3', 'digest': NGINX_DIGEST}},
        'database': {'host': 'postgres.db.svc.cluster.local', 'port': 5432, 'name': 'laravel', 'username': 'laravel'},
        'secrets': {'appKey': APP_KEY, 'dbPassword': DB_PASSWORD},
        'migrations': {'enabled': True, 'seed': {'enabled': False}},
        'metrics': {'enabled': True},
    }
    # every settings key is covered by the mapping table
    assert set(chart_values.SETTINGS_KEYS) == set(key for _path, key in chart_values.VALUE_SOURCES)


@pytest.mark.parametrize('key, value, expected', [
    ('environment', 'dev', {'commonLabels': {'app.kubernetes.io/environment': 'dev'}}),
    ('app_env', 'local', {'app': {'env': 'local'}}),
    ('app_debug', True, {'app': {'debug': True}}),
    ('log_level', 'error', {'app': {'logLevel': 'error'}}),
    ('app_url', 'http://localhost:8080', {'app': {'url': 'http://localhost:8080'}}),
    ('replicas_min', 3, {'autoscaling': {'minReplicas': 3}, 'replicaCount': 3}),
    ('replicas_max', 7, {'autoscaling': {'maxReplicas': 7}}),
    ('ingress_host', 'api.dev.example.com', {'ingress': {'enabled': True, 'host': 'api.dev.example.com'}}),
    ('ingress_host', '', {'ingress': {'enabled': False}}),
    ('ingress_class', 'traefik', {'ingress': {'className': 'traefik'}}),
    ('ingress_tls_secret', 'tls', {'ingress': {'tls': {'enabled': True, 'secretName': 'tls'}}}),
    ('ingress_tls_secret', '', {'ingress': {'tls': {'enabled': False}}}),
    ('php_image', {'repository': 'a/php', 'tag': None}, {'php': {'image': {'repository': 'a/php'}}}),
    ('nginx_image', {'digest': NGINX_DIGEST}, {'nginx': {'image': {'digest': NGINX_DIGEST}}}),
    ('database', {'port': 6432}, {'database': {'port': 6432}}),
    ('existing_secret', 'ext', {'secrets': {'existingSecret': 'ext'}}),
    ('app_key', APP_KEY, {'secrets': {'appKey': APP_KEY}}),
    ('database_password', DB_PASSWORD, {'secrets': {'dbPassword': DB_PASSWORD}}),
    ('migrations_mode', 'hooks', {'migrations': {'enabled': True}}),
    ('migrations_mode', 'job', {'migrations': {'enabled': False}}),
    ('migrations_mode', 'off', {'migrations': {'enabled': False}}),
    ('seed', True, {'migrations': {'seed': {'enabled': True}}}),
    ('metrics_enabled', False, {'metrics': {'enabled': False}}),
    ('pgbouncer_enabled', True, {'pgbouncer': {'enabled': True}}),
    ('pgbouncer_image', {'registry': '127.0.0.1:5000', 'repository': 'laravel-ops/pgbouncer', 'tag': '0123abcd',
                         'digest': None},
     {'pgbouncer': {'image': {'registry': '127.0.0.1:5000', 'repository': 'laravel-ops/pgbouncer',
                              'tag': '0123abcd'}}}),
])
def test_mapping_of_each_setting_alone(key, value, expected):
    values = settings_to_values({key: value})
    assert values == expected


def test_missing_and_null_settings_leave_chart_defaults():
    settings = dict((key, None) for key in chart_values.SETTINGS_KEYS)
    settings.update(environment='dev', existing_secret='backend-secrets')
    values = backend_chart_values(settings)
    assert values == {'commonLabels': {'app.kubernetes.io/environment': 'dev'},
                      'secrets': {'existingSecret': 'backend-secrets'}}


def test_settings_not_mutated():
    settings = staging_settings()
    before = copy.deepcopy(settings)
    overrides = {'php': {'image': {'pullPolicy': 'Always'}}}
    values = backend_chart_values(settings, overrides=overrides)
    values['php']['image']['repository'] = 'changed'
    assert settings == before
    assert overrides == {'php': {'image': {'pullPolicy': 'Always'}}}


# ---------------------------------------------------------------------------------------------
# deep merge

def test_deep_merge_semantics():
    base = {'a': {'b': 1, 'c': [1, 2], 'd': {'e': 'x'}}, 'f': 'keep', 'g': {'h': 1}}
    override = {'a': {'b': 2, 'c': [3], 'd': {'z': True}}, 'g': 'scalar', 'new': {'k': 'v'}, 'f': None}
    merged = deep_merge(base, override)
    assert merged == {'a': {'b': 2, 'c': [3], 'd': {'e': 'x', 'z': True}}, 'f': None, 'g': 'scalar',
                      'new': {'k': 'v'}}
    # inputs untouched, result independent of them
    assert base == {'a': {'b': 1, 'c': [1, 2], 'd': {'e': 'x'}}, 'f': 'keep', 'g': {'h': 1}}
    merged['new']['k'] = 'changed'
    assert override['new'] == {'k': 'v'}


def test_deep_merge_dict_replaces_scalar_and_list():
    assert deep_merge({'a': 1, 'b': [1]}, {'a': {'x': 1}, 'b': {'y': 2}}) == {'a': {'x': 1}, 'b': {'y': 2}}


def test_overrides_merged_last_over_settings():
    values = backend_chart_values(staging_settings(), overrides={
        'autoscaling': {'maxReplicas': 6, 'targetCPUUtilizationPercentage': 60},
        'ingress': {'annotations': {'a': 'b'}},
    })
    assert values['autoscaling'] == {'minReplicas': 2, 'maxReplicas': 6, 'targetCPUUtilizationPercentage': 60}
    assert values['ingress']['host'] == 'api.staging.example.com'
    assert values['ingress']['annotations'] == {'a': 'b'}


# ---------------------------------------------------------------------------------------------
# schema validation, inline schema

INLINE_SCHEMA = {
    '$schema': 'http://json-schema.org/draft-07/schema#',
    'type': 'object',
    'additionalProperties': False,
    'required': ['app', 'php'],
    'properties': {
        'commonLabels': {'type': 'object', 'additionalProperties': {'type': 'string'}},
        'replicaCount': {'type': 'integer', 'minimum': 1},
        'app': {
            'type': 'object', 'additionalProperties': False, 'required': ['env', 'key'],
            'properties': {
                'env': {'type': 'string'},
                'debug': {'type': 'boolean'},
                'logLevel': {'type': 'string', 'enum': ['debug', 'info', 'warning', 'error']},
                'url': {'type': 'string', 'pattern': '^https://'},
            },
        },
        'autoscaling': {
            'type': 'object', 'additionalProperties': False,
            'properties': {'enabled': {'type': 'boolean'},
                           'minReplicas': {'type': 'integer', 'minimum': 1},
                           'maxReplicas': {'type': 'integer', 'minimum': 1, 'maximum': 20}},
        },
        'php': {'$ref': '#/definitions/container'},
        'nginx': {'$ref': '#/definitions/container'},
        'secrets': {
            'type': 'object', 'additionalProperties': False,
            'properties': {'existingSecret': {'type': 'string'},
                           'appKey': {'type': 'string', 'pattern': '^base64:'},
                           'dbPassword': {'type': 'string', 'minLength': 40}},
        },
        'ingress': {'type': 'object'},
        'database': {'type': 'object'},
        'migrations': {'type': 'object'},
        'metrics': {'type': 'object'},
    },
    'definitions': {
        'container': {
            'type': 'object', 'additionalProperties': False,
            'properties': {'image': {
                'type': 'object', 'additionalProperties': False,
                'oneOf': [{'required': ['tag']}, {'required': ['digest']}],
                'properties': {'registry': {'type': 'string'}, 'repository': {'type': 'string'},
                               'tag': {'type': 'string'}, 'digest': {'type': 'string'},
                               'pullPolicy': {'type': 'string', 'enum': ['Always', 'IfNotPresent', 'Never']}},
            }},
        },
    },
}


def inline_settings(**changes):
    settings = staging_settings(app_url='https://api.staging.example.com')
    settings.update(changes)
    return settings


def test_inline_schema_accepts_valid_partial_values():
    # `required` would reject these values (no app.key); `oneOf` would reject tag+digest together.
    values = backend_chart_values(inline_settings(database_password='x' * 40), schema=INLINE_SCHEMA)
    assert values['php']['image']['tag'] == '1.2.3'


def test_schema_error_mapped_to_inventory_variable():
    message = errors_of(inline_settings(replicas_max=50), schema=INLINE_SCHEMA)
    assert 'backend_replicas_max -> autoscaling.maxReplicas: 50 is out of range; allowed: <= 20' in message


def test_schema_enum_error_from_settings():
    message = errors_of(inline_settings(log_level='critical'), schema=INLINE_SCHEMA)
    assert ("backend_log_level -> app.logLevel: 'critical' is not one of the allowed values; "
            'allowed: "debug", "info", "warning", "error"') in message


def test_schema_pattern_error_from_settings():
    message = errors_of(inline_settings(app_url='http://api.staging.example.com'), schema=INLINE_SCHEMA)
    assert "backend_app_url -> app.url: 'http://api.staging.example.com' does not match the pattern; allowed: pattern ^https://" \
        in message


def test_schema_unknown_key_from_overrides():
    message = errors_of(inline_settings(), overrides={'app': {'debgu': True}, 'extra': 1}, schema=INLINE_SCHEMA)
    assert "backend_chart_values.app.debgu -> app.debgu: unknown key 'debgu'; allowed: debug, env, logLevel, url" in message
    assert "backend_chart_values.extra -> extra: unknown key 'extra'; allowed:" in message


def test_schema_type_error_from_overrides():
    message = errors_of(inline_settings(), overrides={'php': {'image': {'pullPolicy': 'Sometimes'}},
                                                      'replicaCount': 'two'}, schema=INLINE_SCHEMA)
    assert "backend_chart_values.php.image.pullPolicy -> php.image.pullPolicy: 'Sometimes'" in message
    assert '"Always", "IfNotPresent", "Never"' in message
    assert "backend_chart_values.replicaCount -> replicaCount: 'two' is not of type integer; allowed: type integer" \
        in message


def test_schema_unknown_top_level_key_from_settings():
    schema = copy.deepcopy(INLINE_SCHEMA)
    del schema['properties']['commonLabels']
    message = errors_of(inline_settings(), schema=schema)
    assert "backend_environment -> commonLabels: unknown key 'commonLabels'" in message


def test_schema_errors_never_show_secrets():
    message = errors_of(inline_settings(), schema=INLINE_SCHEMA)
    assert 'backend_database_password -> secrets.dbPassword: <hidden> has the wrong length; allowed: minLength 40' \
        in message
    assert_no_secret(message)
    message = errors_of(inline_settings(), overrides={'secrets': {'dbPassword': DB_PASSWORD}}, schema=INLINE_SCHEMA)
    assert 'backend_chart_values.secrets.dbPassword -> secrets.dbPassword: <hidden>' in message
    assert_no_secret(message)


def test_schema_errors_all_reported():
    message = errors_of(inline_settings(replicas_max=50, log_level='critical'),
                        overrides={'nope': 1}, schema=INLINE_SCHEMA)
    lines = message.split('\n')[1:]
    assert len(lines) == 4  # maxReplicas, logLevel, nope, dbPassword
    assert all(' -> ' in line and '; allowed: ' in line for line in lines)


def test_schema_any_of_described():
    schema = {'type': 'object', 'properties': {'replicaCount': {'anyOf': [{'type': 'integer'}, {'enum': ['auto']}]}}}
    lines = validate_against_schema({'replicaCount': 'many'}, schema)
    assert lines == ["backend_replicas_min -> replicaCount: 'many' matches none of the allowed forms; "
                     'allowed: type integer | one of "auto"']


def test_invalid_schema_reported():
    lines = validate_against_schema({}, {'type': 'no-such-type'})
    assert len(lines) == 1
    assert lines[0].startswith('backend_chart_values: the chart schema itself is invalid')


def test_missing_jsonschema_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(chart_values, 'HAS_JSONSCHEMA', False)
    message = errors_of(inline_settings(), schema=INLINE_SCHEMA)
    assert 'jsonschema is missing on the controller' in message
    assert 'backend_chart_values: ' in message
    assert 'allowed: install jsonschema' in message
    # without a schema it is not needed
    assert backend_chart_values(inline_settings())['app']['env'] == 'staging'


def test_relax_schema_keeps_constraints_and_drops_presence():
    schema = {
        'required': ['a'], 'minProperties': 2, 'dependentRequired': {'a': ['b']},
        'dependencies': {'x': ['y'], 'z': {'required': ['w'], 'properties': {'w': {'type': 'string'}}}},
        'properties': {'required': {'type': 'object', 'required': ['q']}},
        'oneOf': [{'required': ['a']}, {'required': ['b']}],
        'if': {'required': ['a']}, 'then': {'required': ['c'], 'properties': {'c': {'enum': [1]}}},
        'not': {'required': ['n']},
        'additionalProperties': False,
    }
    relaxed = relax_schema(schema)
    assert relaxed == {
        'dependencies': {'z': {'properties': {'w': {'type': 'string'}}}},
        'properties': {'required': {'type': 'object'}},
        'anyOf': [{}, {}],
        'if': {'required': ['a']}, 'then': {'properties': {'c': {'enum': [1]}}},
        'not': {'required': ['n']},
        'additionalProperties': False,
    }
    assert schema['required'] == ['a']  # input untouched


def test_source_variable_names():
    assert source_variable(('autoscaling', 'maxReplicas')) == 'backend_replicas_max'
    assert source_variable(('php', 'image', 'tag')) == 'backend_php_image.tag'
    assert source_variable(('database', 'port')) == 'backend_database.port'
    assert source_variable(('pgbouncer', 'image', 'tag')) == 'backend_pgbouncer_image.tag'
    assert source_variable(('pgbouncer', 'defaultPoolSize')) == 'backend_chart_values.pgbouncer.defaultPoolSize'
    assert source_variable(('ingress',)) == ' / '.join(['backend_ingress_host', 'backend_ingress_class',
                                                        'backend_ingress_tls_secret'])
    assert source_variable(('resources', 'limits')) == 'backend_chart_values.resources.limits'
    assert source_variable(('autoscaling', 'maxReplicas'), {'autoscaling': {'maxReplicas': 3}}) == \
        'backend_chart_values.autoscaling.maxReplicas'
    assert source_variable(('autoscaling', 'maxReplicas'), {'autoscaling': {'enabled': True}}) == 'backend_replicas_max'
    assert source_variable(()) == 'backend_chart_values'


# ---------------------------------------------------------------------------------------------
# the real chart schema, when the chart is there

def load_chart_schema(repo_root):
    path = os.path.join(repo_root, 'charts', 'backend', 'values.schema.json')
    if not os.path.exists(path):
        reason = 'charts/backend/values.schema.json is absent in %s; the real-schema checks did not run' % repo_root
        print(reason)
        pytest.skip(reason)
    with open(path) as handle:
        return json.load(handle)


@pytest.mark.parametrize('settings', [
    staging_settings(),
    staging_settings(environment='local', app_env='local', app_debug=True, log_level='debug', ingress_host='',
                     ingress_tls_secret='', replicas_min=1, replicas_max=1, metrics_enabled=False),
    prod_settings(),
    prod_settings(app_key=None, database_password=None, existing_secret='backend-secrets', migrations_mode='off'),
    staging_settings(pgbouncer_enabled=True,
                     pgbouncer_image=dict(registry='127.0.0.1:5000', repository='laravel-ops/pgbouncer', tag='0123abcd')),
], ids=['staging', 'local', 'prod', 'prod-existing-secret', 'pgbouncer'])
def test_real_chart_schema_accepts_valid_settings(repo_root, settings):
    schema = load_chart_schema(repo_root)
    values = backend_chart_values(settings, schema=schema)
    assert values['commonLabels']['app.kubernetes.io/environment'] == settings['environment']


def test_real_chart_schema_rejects_unknown_override(repo_root):
    schema = load_chart_schema(repo_root)
    if schema.get('additionalProperties', True) is not False:
        pytest.skip('the chart schema allows unknown top-level keys (additionalProperties is not false)')
    message = errors_of(staging_settings(), overrides={'replicaCuont': 3}, schema=schema)
    assert "backend_chart_values.replicaCuont -> replicaCuont: unknown key 'replicaCuont'" in message
    assert 'replicaCount' in message.split('allowed:')[1]


def test_real_chart_schema_rejects_wrong_type(repo_root):
    schema = load_chart_schema(repo_root)
    message = errors_of(staging_settings(), overrides={'autoscaling': {'maxReplicas': 'ten'}}, schema=schema)
    assert "backend_chart_values.autoscaling.maxReplicas -> autoscaling.maxReplicas: 'ten'" in message
    assert 'integer' in message


def test_real_chart_schema_checks_pgbouncer_overrides(repo_root):
    schema = load_chart_schema(repo_root)
    message = errors_of(staging_settings(pgbouncer_enabled=True), overrides={'pgbouncer': {'defaultPoolSize': 0}},
                        schema=schema)
    assert 'backend_chart_values.pgbouncer.defaultPoolSize -> pgbouncer.defaultPoolSize: 0 is out of range' in message
