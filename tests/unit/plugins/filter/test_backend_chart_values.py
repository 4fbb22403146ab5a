# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventory checks and the chart values, through the filters the roles call."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import copy
import json
import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.laravel_ops.k8s.plugins.filter.backend_chart_values import FilterModule as ValuesFilters
from ansible_collections.laravel_ops.k8s.plugins.filter.backend_inventory_check import FilterModule as CheckFilters
from ansible_collections.laravel_ops.k8s.plugins.module_utils import _schema_errors, chart_values
from ansible_collections.laravel_ops.k8s.plugins.module_utils._mapping import deep_merge, source_variable
from ansible_collections.laravel_ops.k8s.plugins.module_utils._settings import SETTINGS

APP_KEY = 'base64:' + base64.b64encode(b'0123456789abcdef0123456789ABCDEF').decode('ascii')
DB_PASSWORD = 'Sup3r-S3cret-DB-Passw0rd'
BAD_APP_KEY = 'base64:dG9vLXNob3J0LXNlY3JldA=='  # 'too-short-secret', 16 bytes
PHP_DIGEST = 'sha256:' + 'a' * 64
NGINX_DIGEST = 'sha256:' + 'b' * 64
SECRETS = (APP_KEY, DB_PASSWORD, BAD_APP_KEY)

backend_chart_values = ValuesFilters().filters()['backend_chart_values']
backend_inventory_check = CheckFilters().filters()['backend_inventory_check']


def staging(**changes):
    inventory = dict(
        backend_environment='staging',
        backend_namespace='backend-staging',
        backend_release_name='backend',
        backend_app_env='staging',
        backend_app_debug=False,
        backend_log_level='info',
        backend_app_url='https://api.staging.example.com',
        backend_replicas_min=2,
        backend_replicas_max=4,
        backend_ingress_host='api.staging.example.com',
        backend_ingress_class='nginx',
        backend_ingress_tls_secret='api-staging-tls',
        backend_php_image=dict(registry='registry.example.com:5000', repository='acme/backend-php', tag='1.2.3',
                               digest=PHP_DIGEST),
        backend_nginx_image=dict(registry='registry.example.com:5000', repository='acme/backend-nginx', tag='1.2.3',
                                 digest=NGINX_DIGEST),
        backend_database=dict(host='postgres.db.svc.cluster.local', port=5432, name='laravel', username='laravel'),
        backend_database_sslmode='verify-full',
        backend_database_ca=dict(config_map='database-ca'),
        backend_app_key=APP_KEY,
        backend_database_password=DB_PASSWORD,
        backend_migrations_mode='hooks',
        backend_seed=True,
        backend_metrics_enabled=True,
    )
    inventory.update(changes)
    return dict((k, v) for k, v in inventory.items() if v is not Ellipsis)


def prod(**changes):
    inventory = staging(backend_environment='prod', backend_namespace='backend-prod', backend_app_env='production',
                        backend_log_level='warning', backend_replicas_min=3, backend_replicas_max=10,
                        backend_migrations_mode='job', backend_seed=False, backend_ingress_host='api.example.com',
                        backend_app_url='https://api.example.com')
    inventory.update(changes)
    return dict((k, v) for k, v in inventory.items() if v is not Ellipsis)


def problems_of(inventory, **kwargs):
    with pytest.raises(AnsibleFilterError) as info:
        backend_inventory_check(inventory, **kwargs)
    return str(info.value)


def assert_no_secret(message):
    for secret in SECRETS:
        assert secret not in message
    assert APP_KEY[len('base64:'):] not in message
    assert BAD_APP_KEY[len('base64:'):] not in message


# ---------------------------------------------------------------------------------------------
# one case per rule: each names the variable and what is allowed, never a secret

ERROR_CASES = [
    ('env-unknown', dict(backend_environment='production'), "backend_environment: 'production' is not a valid choice",
     'local, dev, staging, prod'),
    ('env-missing', dict(backend_environment=None), 'backend_environment: missing', 'local, dev, staging, prod'),
    ('namespace-missing', dict(backend_namespace=Ellipsis), 'backend_namespace: missing', 'a DNS label'),
    ('namespace-upper', dict(backend_namespace='Backend'), "backend_namespace: 'Backend' is not valid", 'a DNS label'),
    ('release-name-long', dict(backend_release_name='a' * 54), 'backend_release_name', '53 characters at most'),
    ('log-level', dict(backend_log_level='verbose'), "backend_log_level: 'verbose'",
     'debug, info, notice, warning, error, critical, alert, emergency'),
    ('replicas-min-zero', dict(backend_replicas_min=0), 'backend_replicas_min: 0 is below 1', 'an integer >= 1'),
    ('replicas-min-string', dict(backend_replicas_min='2'), "backend_replicas_min: '2' is not an integer",
     'an integer >= 1'),
    ('replicas-max-bool', dict(backend_replicas_max=True), 'backend_replicas_max: true is not an integer',
     'an integer >= 1'),
    ('replicas-max-below-min', dict(backend_replicas_min=5, backend_replicas_max=3),
     'backend_replicas_max: 3 is below', 'an integer >= backend_replicas_min (5)'),
    ('migrations-mode', dict(backend_migrations_mode='always'), "backend_migrations_mode: 'always'", 'hooks, job, off'),
    ('migrations-mode-missing', dict(backend_migrations_mode=None), 'backend_migrations_mode: missing', 'hooks, job'),
    ('app-debug-string', dict(backend_app_debug='yes'), "backend_app_debug: 'yes' is not a boolean", 'true or false'),
    ('seed-string', dict(backend_seed='no'), "backend_seed: 'no' is not a boolean", 'true or false'),
    ('metrics-int', dict(backend_metrics_enabled=1), 'backend_metrics_enabled: 1 is not a boolean', 'true or false'),
    ('approval-word', dict(backend_migrations_approved='sure'), "backend_migrations_approved: 'sure' is not an approval",
     'true or false, or the survey answers yes or no'),
    ('approval-capitalised', dict(backend_migrations_approved='Yes'), "backend_migrations_approved: 'Yes'",
     'the survey answers yes or no'),
    ('pgbouncer-string', dict(backend_pgbouncer_enabled='yes'), "backend_pgbouncer_enabled: 'yes' is not a boolean",
     'true or false'),
    ('pgbouncer-image-missing', dict(backend_pgbouncer_enabled=True),
     'backend_pgbouncer_image: missing while backend_pgbouncer_enabled is true', 'a mapping'),
    ('postgresql-image-missing', dict(backend_database_in_cluster=True),
     'backend_postgresql_image: missing while backend_database_in_cluster is true', 'a mapping'),
    ('pgbouncer-image-unknown-key', dict(backend_pgbouncer_image=dict(repository='acme/pgbouncer', version='1.26')),
     'backend_pgbouncer_image.version: unknown key', 'registry, repository, tag, digest'),
    ('pgbouncer-image-tag', dict(backend_pgbouncer_image=dict(repository='acme/pgbouncer', tag='bad tag!')),
     "backend_pgbouncer_image.tag: 'bad tag!' is not valid", 'a Docker tag'),
    ('image-unknown-key', dict(backend_php_image=dict(repository='acme/php', name='x')),
     'backend_php_image.name: unknown key', 'registry, repository, tag, digest'),
    ('image-not-mapping', dict(backend_php_image='acme/php:1.0'), "backend_php_image: 'acme/php:1.0' is not a mapping",
     'a mapping with keys registry, repository, tag, digest'),
    ('image-no-repository', dict(backend_php_image=dict(registry='registry.example.com')),
     'backend_php_image.repository: missing', 'a repository path'),
    ('image-digest', dict(backend_php_image=dict(repository='acme/php', digest='sha256:abc')),
     "backend_php_image.digest: 'sha256:abc' is not valid", 'sha256: followed by 64 lower-case hex digits'),
    ('image-digest-upper', dict(backend_nginx_image=dict(repository='acme/nginx', digest='sha256:' + 'A' * 64)),
     'backend_nginx_image.digest', 'sha256: followed by 64 lower-case hex digits'),
    ('image-tag', dict(backend_nginx_image=dict(repository='acme/nginx', tag='bad tag!')),
     "backend_nginx_image.tag: 'bad tag!' is not valid", 'a Docker tag'),
    ('image-tag-leading-dot', dict(backend_nginx_image=dict(repository='acme/nginx', tag='.hidden')),
     'backend_nginx_image.tag', 'not starting with . or -'),
    ('image-repository', dict(backend_php_image=dict(repository='Acme/Backend')),
     "backend_php_image.repository: 'Acme/Backend'", 'lower-case components'),
    ('image-registry', dict(backend_php_image=dict(registry='bad registry', repository='acme/php')),
     'backend_php_image.registry', 'a registry host with an optional port'),
    ('image-registry-with-path', dict(backend_php_image=dict(registry='registry.example.com/team', repository='php')),
     "backend_php_image.registry: 'registry.example.com/team' is not valid", 'a registry host'),
    ('database-port-range', dict(backend_database=dict(host='db', port=70000)), 'backend_database.port: 70000',
     'an integer from 1 to 65535'),
    ('database-port-string', dict(backend_database=dict(host='db', port='5432')), "backend_database.port: '5432'",
     'an integer from 1 to 65535'),
    ('database-unknown-key', dict(backend_database=dict(host='db', user='x')), 'backend_database.user: unknown key',
     'host, port, name, username'),
    ('database-host', dict(backend_database=dict(host='db host')), "backend_database.host: 'db host'",
     'a DNS name (RFC 1123) or an IP address'),
    ('sslmode', dict(backend_database_sslmode='strict'), "backend_database_sslmode: 'strict' is not a valid choice",
     'disable, allow, prefer, require, verify-ca, verify-full'),
    ('ca-not-mapping', dict(backend_database_ca='database-ca'), "backend_database_ca: 'database-ca' is not a mapping",
     'either config_map or secret'),
    ('ca-both-sources', dict(backend_database_ca=dict(config_map='a', secret='b')),
     'backend_database_ca: both config_map and secret given', 'exactly one of config_map and secret'),
    ('ca-no-source', dict(backend_database_ca=dict(key='ca.crt')),
     'backend_database_ca: neither config_map nor secret given', 'exactly one of'),
    ('ca-unknown-key', dict(backend_database_ca=dict(configmap='database-ca')),
     'backend_database_ca.configmap: unknown key', 'config_map, secret, key'),
    ('ca-bad-name', dict(backend_database_ca=dict(secret='Database_CA')),
     "backend_database_ca.secret: 'Database_CA' is not valid", 'RFC 1123 subdomain'),
    ('ca-bad-key', dict(backend_database_ca=dict(secret='db-ca', key='ca/crt')),
     "backend_database_ca.key: 'ca/crt' is not valid", 'letters, digits, -, _ and .'),
    ('verify-without-ca', dict(backend_database_ca=None),
     'backend_database_ca: missing while backend_database_sslmode is verify-full', 'either config_map or secret'),
    ('verify-without-pgbouncer-tls', dict(backend_pgbouncer_enabled=True,
                                          backend_pgbouncer_image=dict(registry='r.example.com', repository='pgb')),
     'backend_pgbouncer_tls_secret: missing while backend_pgbouncer_enabled is true and backend_database_sslmode is '
     'verify-full', 'RFC 1123 subdomain'),
    ('secrets-both-forms', dict(backend_existing_secret='backend-secrets'),
     'backend_existing_secret: set together with', 'either backend_existing_secret'),
    ('secrets-half-form', dict(backend_database_password=None),
     'backend_database_password: missing while backend_app_key is set', 'both backend_app_key and backend_database_password'),
    ('secrets-none', dict(backend_app_key=None, backend_database_password=None),
     'backend_existing_secret: no secret given', 'either backend_existing_secret'),
    ('app-key-format', dict(backend_app_key=BAD_APP_KEY), 'backend_app_key: <hidden> is not a Laravel application key',
     "'base64:' followed by 32 random bytes"),
    ('app-key-no-prefix', dict(backend_app_key='0123456789abcdef0123456789abcdef'), 'backend_app_key: <hidden>',
     "'base64:' followed by 32"),
    ('db-password-type', dict(backend_database_password=123456789), 'backend_database_password: <hidden> is not a string',
     'a string'),
    ('existing-secret-name', dict(backend_app_key=None, backend_database_password=None,
                                  backend_existing_secret='Backend_Secrets'),
     "backend_existing_secret: 'Backend_Secrets' is not valid", 'RFC 1123 subdomain'),
    ('ingress-host-upper', dict(backend_ingress_host='API.Example.com'), "backend_ingress_host: 'API.Example.com'",
     'a DNS name (RFC 1123'),
    ('ingress-host-underscore', dict(backend_ingress_host='bad_host.example.com'), 'backend_ingress_host',
     'a DNS name (RFC 1123'),
    ('ingress-host-label-too-long', dict(backend_ingress_host='a' * 64 + '.example.com'), 'backend_ingress_host',
     'a DNS name (RFC 1123'),
    ('ingress-class', dict(backend_ingress_class='Nginx Class'), "backend_ingress_class: 'Nginx Class'",
     'RFC 1123 subdomain'),
    ('tls-without-host', dict(backend_ingress_host=''), 'backend_ingress_tls_secret',
     'empty when backend_ingress_host is empty'),
    ('app-url-scheme', dict(backend_app_url='ftp://files.example.com'), "backend_app_url: 'ftp://files.example.com'",
     'an http:// or https:// URL'),
    ('app-url-no-scheme', dict(backend_app_url='api.example.com'), "backend_app_url: 'api.example.com'",
     'an http:// or https:// URL'),
    ('app-url-bad-port', dict(backend_app_url='https://api.example.com:99999/'), 'backend_app_url',
     'an http:// or https:// URL'),
    ('app-url-user', dict(backend_app_url='https://user@api.example.com/'), 'backend_app_url', 'an http://'),
    ('app-env-type', dict(backend_app_env=5), 'backend_app_env: 5 is not a string', 'a non-empty string'),
    ('app-env-empty', dict(backend_app_env=''), 'backend_app_env: empty string', 'a non-empty string'),
    ('app-env-spaces', dict(backend_app_env='prod env'), "backend_app_env: 'prod env' is not valid",
     'letters, digits, _ . -'),
    ('flavour', dict(backend_image_flavour='ubuntu'), "backend_image_flavour: 'ubuntu' is not a valid choice",
     'alpine, debian'),
    ('chart-values-list', dict(backend_chart_values=['a']), 'backend_chart_values: a list is not a mapping',
     'a mapping of chart values'),
    ('prometheus-release-name', dict(backend_prometheus_release='Kube_Prometheus'),
     "backend_prometheus_release: 'Kube_Prometheus' is not valid", 'a Helm release name'),
    ('alerts-not-mapping', dict(backend_alerts=['errorRate']), 'backend_alerts: a list is not a mapping',
     'a mapping by rule'),
    ('alerts-unknown-rule', dict(backend_alerts=dict(errorRatio=dict(threshold=0.1))),
     'backend_alerts.errorRatio: unknown alert rule', 'errorRate, latencyP95'),
    ('alerts-ratio-above-one', dict(backend_alerts=dict(errorRate=dict(threshold=1.5))),
     'backend_alerts.errorRate.threshold: 1.5 is not valid', 'a ratio above 0 and at most 1'),
    ('alerts-ratio-zero', dict(backend_alerts=dict(errorRate=dict(threshold=0))),
     'backend_alerts.errorRate.threshold: 0 is not valid', 'a ratio above 0 and at most 1'),
    ('alerts-negative-latency', dict(backend_alerts=dict(latencyP95=dict(thresholdSeconds=-0.5))),
     'backend_alerts.latencyP95.thresholdSeconds: -0.5 is not valid', 'seconds above 0'),
    ('alerts-duration-words', dict(backend_alerts=dict(databaseDown={'for': '5 minutes'})),
     "backend_alerts.databaseDown.for: '5 minutes' is not valid", 'a Prometheus duration'),
    ('alerts-duration-order', dict(backend_alerts=dict(hpaMaxedOut={'for': '30m1h'})),
     "backend_alerts.hpaMaxedOut.for: '30m1h' is not valid", 'largest first'),
    ('alerts-duration-number', dict(backend_alerts=dict(podRestarts={'for': 5})),
     'backend_alerts.podRestarts.for: 5 is not valid', 'a Prometheus duration'),
    ('alerts-negative-count', dict(backend_alerts=dict(podRestarts=dict(restarts=-1))),
     'backend_alerts.podRestarts.restarts: -1 is not valid', 'an integer >= 0'),
    ('alerts-count-not-int', dict(backend_alerts=dict(pgbouncerSaturated=dict(waitingClients=0.5))),
     'backend_alerts.pgbouncerSaturated.waitingClients: 0.5 is not valid', 'an integer >= 0'),
    ('alerts-threshold-of-another-rule', dict(backend_alerts=dict(databaseDown=dict(threshold=1))),
     'backend_alerts.databaseDown.threshold: unknown key', 'enabled, for, severity'),
    ('alerts-enabled-string', dict(backend_alerts=dict(errorRate=dict(enabled='no'))),
     "backend_alerts.errorRate.enabled: 'no' is not valid", 'true or false'),
    ('unknown-variable', dict(backend_replica_min=3),
     'backend_replica_min: unknown inventory variable (did you mean backend_replicas_min?)',
     'docs/inventory-variables.md'),
]


@pytest.mark.parametrize('changes, expected, allowed', [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_each_rule(changes, expected, allowed):
    message = problems_of(staging(**changes))
    assert expected in message
    assert 'allowed: ' in message
    assert allowed in message
    assert_no_secret(message)


def test_every_problem_at_once_in_table_order():
    inventory = staging(backend_environment='qa', backend_log_level='loud', backend_replicas_min='x', backend_seed='yes',
                        backend_app_key=BAD_APP_KEY, backend_php_image=dict(digest='md5:1'),
                        backend_database=dict(port=0), backend_bogus=1)
    message = problems_of(inventory)
    assert message.startswith('laravel_ops.k8s.backend_inventory_check: 10 problems in the inventory:\n')
    lines = message.split('\n')[1:]
    assert [line.split(':')[0] for line in lines] == [
        'backend_environment', 'backend_log_level', 'backend_replicas_min', 'backend_php_image.digest',
        'backend_php_image.repository', 'backend_database.port', 'backend_app_key', 'backend_seed', 'backend_bogus',
        'backend_php_image.registry']
    assert all('; allowed: ' in line for line in lines)
    assert_no_secret(message)


def test_single_problem_wording():
    assert problems_of(staging(backend_log_level='loud')).startswith(
        'laravel_ops.k8s.backend_inventory_check: 1 problem in the inventory:\n')


def test_input_and_flag_types():
    assert 'inventory: a list is not a mapping' in problems_of(['backend_environment'])
    message = problems_of(staging(), for_deploy='yes', require_digest='no')
    assert "for_deploy: 'yes' is not a boolean; allowed: true or false" in message
    assert "require_digest: 'no' is not a boolean" in message
    assert "role: 'images' is not a role that reads the inventory" in problems_of(staging(), role='images')


def test_secret_values_never_shown_even_when_misplaced():
    message = problems_of(staging(backend_app_env=APP_KEY + ' x', backend_log_level=DB_PASSWORD))
    assert 'backend_app_env' in message and 'backend_log_level' in message
    assert '<hidden>' in message
    assert_no_secret(message)


def test_valid_inventory_and_empty_strings_meaning_unset():
    assert backend_inventory_check(staging()) == staging()
    inventory = staging(backend_app_key='', backend_database_password='', backend_existing_secret='backend-secrets',
                        backend_app_url='', backend_ingress_class='')
    values = backend_chart_values(inventory)
    assert values['secrets'] == {'existingSecret': 'backend-secrets'}
    assert 'url' not in values['app'] and 'className' not in values['ingress']


def test_wildcard_ingress_host_and_ip_database_host_accepted():
    backend_inventory_check(staging(backend_ingress_host='*.staging.example.com',
                                    backend_database=dict(host='10.0.0.5', port=5432)))


# ---------------------------------------------------------------------------------------------
# a role checks what it reads

def test_a_role_checks_only_its_variables():
    inventory = staging(backend_log_level='loud', backend_php_image=dict(repository='Acme'), backend_namespace='X')
    image = problems_of(inventory, role='image')
    assert 'backend_php_image.repository' in image and 'backend_log_level' not in image
    assert 'backend_namespace' not in image
    rollback = problems_of(inventory, role='rollback')
    assert 'backend_namespace' in rollback and 'backend_php_image' not in rollback
    assert backend_inventory_check({'backend_namespace': 'backend', 'backend_release_name': 'b'}, role='rollback')


def test_the_image_role_needs_a_registry_to_push_to():
    inventory = staging(backend_php_image=dict(repository='acme/php'))
    assert 'backend_php_image.registry: missing, but the image role pushes the image there' in problems_of(
        inventory, role='image')
    assert 'backend_php_image.registry' in problems_of(inventory)
    backend_inventory_check(inventory, role='release')
    backend_inventory_check(staging(backend_php_image=dict(repository='acme/php', tag='1'), backend_build_image=False))


# ---------------------------------------------------------------------------------------------
# environment policy

PROD_CASES = [
    ('debug', dict(backend_app_debug=True), 'backend_app_debug: true is not allowed in prod', 'false (prod policy)'),
    ('log-debug', dict(backend_log_level='debug'), "backend_log_level: 'debug' is not allowed in prod",
     'info, notice, warning, error, critical, alert, emergency (prod policy)'),
    ('hooks', dict(backend_migrations_mode='hooks'), "backend_migrations_mode: 'hooks' is not allowed in prod "
     '(hook Jobs run after the new pods start)', 'job, off (prod policy)'),
    ('seed', dict(backend_seed=True), 'backend_seed: true is not allowed in prod', 'false (prod policy)'),
    ('one-replica', dict(backend_replicas_min=1, backend_replicas_max=1),
     'backend_replicas_min: 1 is not allowed in prod (one pod is no redundancy)', 'an integer >= 2 (prod policy)'),
    ('php-no-digest', dict(backend_php_image=dict(registry='r.example.com', repository='acme/php', tag='1.2.3')),
     'backend_php_image.digest: missing in prod', 'sha256: followed by 64 lower-case hex digits (prod policy)'),
    ('nginx-empty-digest', dict(backend_nginx_image=dict(registry='r.example.com', repository='acme/nginx', digest='')),
     'backend_nginx_image.digest: missing in prod', 'sha256: followed by 64'),
    ('pgbouncer-no-digest', dict(backend_pgbouncer_enabled=True, backend_pgbouncer_tls_secret='pgbouncer-tls',
                                 backend_pgbouncer_image=dict(registry='r.example.com', repository='pgbouncer')),
     'backend_pgbouncer_image.digest: missing in prod', 'sha256:'),
    ('sslmode-prefer', dict(backend_database_sslmode='prefer'),
     "backend_database_sslmode: 'prefer' is not allowed in prod (prefer falls back to plaintext",
     'verify-ca, verify-full (prod policy)'),
    ('sslmode-require', dict(backend_database_sslmode='require'), "backend_database_sslmode: 'require'",
     'verify-ca, verify-full (prod policy)'),
    ('sslmode-unset', dict(backend_database_sslmode=None), 'backend_database_sslmode: missing in prod',
     'verify-ca, verify-full (prod policy)'),
]


@pytest.mark.parametrize('changes, expected, allowed', [c[1:] for c in PROD_CASES], ids=[c[0] for c in PROD_CASES])
def test_prod_policy(changes, expected, allowed):
    message = problems_of(prod(**changes))
    assert expected in message
    assert allowed in message
    assert_no_secret(message)


def test_staging_verifies_the_database_server_as_prod_does():
    assert "backend_database_sslmode: 'require' is not allowed in staging" in problems_of(
        staging(backend_database_sslmode='require'))
    assert 'backend_database_sslmode: missing in staging' in problems_of(staging(backend_database_sslmode=None))
    for environment in ('local', 'dev'):
        backend_inventory_check(staging(backend_environment=environment, backend_database_sslmode=None))


@pytest.mark.parametrize('environment', ['local', 'dev', 'staging'])
def test_the_other_rules_are_prods_only(environment):
    inventory = staging(backend_environment=environment, backend_app_debug=True, backend_log_level='debug',
                        backend_seed=True, backend_replicas_min=1, backend_replicas_max=1,
                        backend_php_image=dict(registry='r.example.com', repository='acme/php', tag='dev'))
    values = backend_chart_values(inventory)
    assert values['app']['debug'] is True
    assert values['commonLabels'] == {'app.kubernetes.io/environment': environment}


def test_an_unused_image_is_not_held_to_the_digest_policy():
    backend_inventory_check(prod(backend_pgbouncer_image=dict(registry='r.example.com', repository='pgbouncer')))


def test_prod_valid_inventory_passes():
    values = backend_chart_values(prod())
    assert values['migrations'] == {'enabled': False, 'seed': {'enabled': False}}
    assert values['php']['image']['digest'] == PHP_DIGEST


def test_for_deploy_false_skips_digest_and_secret_requirements():
    inventory = prod(backend_php_image=dict(registry='r.example.com', repository='acme/php', tag='1.2.3'),
                     backend_app_key=None, backend_database_password=None)
    values = backend_chart_values(inventory, for_deploy=False)
    assert 'digest' not in values['php']['image']
    assert values['secrets'] == {'existingSecret': 'backend-app-secrets'}
    message = problems_of(prod(backend_app_debug=True, backend_php_image=dict(registry='r.example.com',
                                                                              repository='acme/php')), for_deploy=False)
    assert 'backend_app_debug' in message
    assert 'digest' not in message


def test_require_digest_false_checks_secrets_but_not_digests():
    """The deploy's first play: secrets must be there, the digests come later from the image role."""
    undigested = dict(backend_php_image=dict(registry='r.example.com', repository='acme/php', tag='1.2.3'),
                      backend_nginx_image=dict(registry='r.example.com', repository='acme/nginx'))
    values = backend_chart_values(prod(**undigested), require_digest=False)
    assert 'digest' not in values['php']['image']
    message = problems_of(prod(backend_app_key=None, backend_database_password=None, **undigested),
                          require_digest=False)
    assert 'backend_existing_secret' in message
    assert 'digest' not in message
    assert 'backend_php_image.digest' in problems_of(prod(**undigested))


def test_for_deploy_false_still_rejects_both_secret_forms():
    assert 'both secret forms' in problems_of(staging(backend_existing_secret='backend-secrets'), for_deploy=False)


OVERRIDE_POLICY_CASES = [
    ({'app': {'debug': True}}, 'backend_chart_values.app.debug: true is not allowed in prod'),
    ({'app': {'logLevel': 'debug'}}, "backend_chart_values.app.logLevel: 'debug' is not allowed in prod"),
    ({'migrations': {'enabled': True}}, 'backend_chart_values.migrations.enabled: true is not allowed in prod'),
    ({'migrations': {'seed': {'enabled': True}}}, 'backend_chart_values.migrations.seed.enabled'),
    ({'autoscaling': {'minReplicas': 1}}, 'backend_chart_values.autoscaling.minReplicas: 1 is not allowed in prod'),
    ({'replicaCount': 1}, 'backend_chart_values.replicaCount: 1'),
    ({'php': {'image': {'digest': ''}}}, "backend_chart_values.php.image.digest: '' is not allowed in prod"),
    ({'database': {'sslmode': 'prefer'}}, "backend_chart_values.database.sslmode: 'prefer' is not allowed in prod"),
]


@pytest.mark.parametrize('overrides, expected', OVERRIDE_POLICY_CASES)
def test_prod_policy_holds_for_overrides(overrides, expected):
    message = problems_of(prod(backend_chart_values=overrides))
    assert expected in message
    assert '(prod policy' in message


def test_override_policy_names_the_variable_it_stands_for():
    message = problems_of(prod(backend_chart_values={'migrations': {'enabled': True}}))
    assert 'allowed: false (prod policy of backend_migrations_mode)' in message


def test_override_digest_policy_only_for_deploy():
    values = backend_chart_values(prod(backend_chart_values={'php': {'image': {'digest': ''}}}), for_deploy=False)
    assert values['php']['image']['digest'] == ''


# ---------------------------------------------------------------------------------------------
# mapping

def test_mapping_of_every_variable():
    values = backend_chart_values(staging(backend_seed=False))
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
        'database': {'host': 'postgres.db.svc.cluster.local', 'port': 5432, 'name': 'laravel', 'username': 'laravel',
                     'sslmode': 'verify-full', 'ca': {'configMapName': 'database-ca', 'secretName': '', 'key': 'ca.crt'}},
        'secrets': {'existingSecret': 'backend-app-secrets'},
        'migrations': {'enabled': True, 'seed': {'enabled': False}},
        'metrics': {'enabled': True},
    }


MINIMAL = dict(backend_environment='dev', backend_namespace='backend', backend_release_name='api',
               backend_existing_secret='ext', backend_migrations_mode='off',
               backend_php_image=dict(repository='a/php'), backend_nginx_image=dict(repository='a/nginx'))
MINIMAL_VALUES = {'commonLabels': {'app.kubernetes.io/environment': 'dev'}, 'secrets': {'existingSecret': 'ext'},
                  'migrations': {'enabled': False}, 'php': {'image': {'repository': 'a/php'}},
                  'nginx': {'image': {'repository': 'a/nginx'}}}


@pytest.mark.parametrize('name, value, expected', [
    ('backend_app_env', 'local', {'app': {'env': 'local'}}),
    ('backend_app_debug', True, {'app': {'debug': True}}),
    ('backend_log_level', 'error', {'app': {'logLevel': 'error'}}),
    ('backend_app_url', 'http://localhost:8080', {'app': {'url': 'http://localhost:8080'}}),
    ('backend_replicas_min', 3, {'autoscaling': {'minReplicas': 3}, 'replicaCount': 3}),
    ('backend_replicas_max', 7, {'autoscaling': {'maxReplicas': 7}}),
    ('backend_ingress_host', 'api.dev.example.com', {'ingress': {'enabled': True, 'host': 'api.dev.example.com'}}),
    ('backend_ingress_host', '', {'ingress': {'enabled': False}}),
    ('backend_ingress_class', 'traefik', {'ingress': {'className': 'traefik'}}),
    ('backend_ingress_tls_secret', 'tls', {'ingress': {'tls': {'enabled': True, 'secretName': 'tls'}}}),
    ('backend_ingress_tls_secret', '', {'ingress': {'tls': {'enabled': False}}}),
    ('backend_php_image', {'repository': 'a/php', 'tag': None}, {}),
    ('backend_nginx_image', {'repository': 'a/nginx', 'digest': NGINX_DIGEST},
     {'nginx': {'image': {'repository': 'a/nginx', 'digest': NGINX_DIGEST}}}),
    ('backend_database', {'host': 'db', 'port': 6432, 'name': None}, {'database': {'host': 'db', 'port': 6432}}),
    ('backend_database_sslmode', 'require', {'database': {'sslmode': 'require'}}),
    ('backend_database_ca', {'secret': 'rds-ca', 'key': 'bundle.pem'},
     {'database': {'ca': {'configMapName': '', 'secretName': 'rds-ca', 'key': 'bundle.pem'}}}),
    ('backend_pgbouncer_tls_secret', 'pgbouncer-tls', {'pgbouncer': {'tls': {'secretName': 'pgbouncer-tls'}}}),
    ('backend_pgbouncer_tls_secret', '', {}),
    ('backend_existing_secret', 'external', {'secrets': {'existingSecret': 'external'}}),
    ('backend_migrations_mode', 'hooks', {'migrations': {'enabled': True}}),
    ('backend_migrations_mode', 'job', {'migrations': {'enabled': False}}),
    ('backend_seed', True, {'migrations': {'seed': {'enabled': True}}}),
    ('backend_metrics_enabled', False, {'metrics': {'enabled': False}}),
    ('backend_pgbouncer_enabled', False, {'pgbouncer': {'enabled': False}}),
    ('backend_chart_values', {'php': {'image': {'pullPolicy': 'Always'}}},
     {'php': {'image': {'repository': 'a/php', 'pullPolicy': 'Always'}}}),
    ('backend_database_in_cluster', False, {}),
    ('backend_migrations_approved', True, {}),
    ('backend_namespace', 'elsewhere', {}),
    ('backend_prometheus_release', 'prometheus', {'metrics': {'prometheusRelease': 'prometheus'}}),
    ('backend_prometheus_release', '', {'metrics': {'prometheusRelease': ''}}),
    ('backend_alerts', {'errorRate': {'threshold': 0.02, 'for': '2m'}, 'hpaMaxedOut': {'enabled': False},
                        'latencyP95': None},
     {'metrics': {'prometheusRule': {'rules': {'errorRate': {'threshold': 0.02, 'for': '2m'},
                                               'hpaMaxedOut': {'enabled': False}}}}}),
    # a null field keeps the chart's default, as an unset one
    ('backend_alerts', {'errorRate': {'threshold': None, 'for': '1m'}},
     {'metrics': {'prometheusRule': {'rules': {'errorRate': {'for': '1m'}}}}}),
])
def test_mapping_of_each_variable_alone(name, value, expected):
    assert backend_chart_values(dict(MINIMAL, **{name: value})) == deep_merge(MINIMAL_VALUES, expected)


def test_the_release_s_own_secret_is_named_after_the_release():
    inventory = dict(MINIMAL, backend_existing_secret='', backend_app_key=APP_KEY, backend_database_password='pw')
    assert backend_chart_values(inventory)['secrets'] == {'existingSecret': 'api-app-secrets'}


def test_unset_variables_leave_the_chart_defaults():
    assert backend_chart_values(MINIMAL) == MINIMAL_VALUES


def test_the_values_never_carry_a_secret():
    values = backend_chart_values(staging())
    assert_no_secret(json.dumps(values))
    assert values['secrets'] == {'existingSecret': 'backend-app-secrets'}


def test_inventory_not_mutated():
    inventory = staging(backend_chart_values={'php': {'image': {'pullPolicy': 'Always'}}})
    before = copy.deepcopy(inventory)
    values = backend_chart_values(inventory)
    values['php']['image']['repository'] = 'changed'
    assert inventory == before


def test_every_chart_variable_is_mapped_and_named_back():
    for setting in SETTINGS:
        for path, transform in setting.get('chart', ()):
            if transform in ('merge',):
                continue
            assert source_variable(path) == setting['name'], path


# ---------------------------------------------------------------------------------------------
# the images of a build, laid over the inventory

def test_built_images_are_laid_over_the_inventory():
    built = {'backend_php_image': {'registry': 'registry.example.com:5000', 'repository': 'acme/backend-php',
                                   'tag': 'abc', 'digest': 'sha256:' + 'c' * 64}}
    inventory = chart_values.with_images(prod(), built)
    assert inventory['backend_php_image']['digest'] == 'sha256:' + 'c' * 64
    assert inventory['backend_php_image']['tag'] == 'abc'
    assert backend_chart_values(inventory)['php']['image']['tag'] == 'abc'


def test_images_of_unknown_variables_are_refused():
    with pytest.raises(chart_values.InputProblems, match="images: unknown image variable 'backend_image'"):
        chart_values.with_images(staging(), {'backend_image': {}})
    with pytest.raises(chart_values.InputProblems, match='images: a list is not a mapping'):
        chart_values.with_images(staging(), [])


def test_a_role_does_not_see_images_whose_switch_is_off():
    inventory = staging(backend_pgbouncer_image=dict(registry='r.example.com', repository='pgbouncer'))
    assert 'backend_pgbouncer_image' not in chart_values.with_images(inventory, {}, role='image')
    inventory['backend_pgbouncer_enabled'] = True
    assert 'backend_pgbouncer_image' in chart_values.with_images(inventory, {}, role='image')


@pytest.mark.parametrize('answer, approved', [('yes', True), ('no', False), (True, True), (False, False),
                                              (None, False)])
def test_a_survey_answer_is_read_as_the_approval_it_stands_for(answer, approved):
    inventory = prod(backend_migrations_approved=answer)
    backend_inventory_check(inventory)
    assert chart_values.with_defaults(inventory, role='migrations')['backend_migrations_approved'] is approved


def test_reading_a_role_s_variables_with_defaults():
    names = chart_values.inventory_names(['backend_environment', 'backend_php_image', 'backend_typo', 'other'], 'image')
    assert names == ['backend_php_image']
    assert chart_values.inventory_names(['backend_environment', 'backend_typo', 'other']) == [
        'backend_environment', 'backend_typo']
    assert chart_values.with_defaults({}, 'image') == {
        'backend_pgbouncer_enabled': False, 'backend_database_in_cluster': False, 'backend_image_flavour': 'alpine'}
    assert chart_values.with_defaults({'backend_image_flavour': 'debian'}, 'image')['backend_image_flavour'] == 'debian'


# ---------------------------------------------------------------------------------------------
# deep merge

def test_deep_merge_semantics():
    base = {'a': {'b': 1, 'c': [1, 2], 'd': {'e': 'x'}}, 'f': 'keep', 'g': {'h': 1}}
    override = {'a': {'b': 2, 'c': [3], 'd': {'z': True}}, 'g': 'scalar', 'new': {'k': 'v'}, 'f': None}
    merged = deep_merge(base, override)
    assert merged == {'a': {'b': 2, 'c': [3], 'd': {'e': 'x', 'z': True}}, 'f': None, 'g': 'scalar',
                      'new': {'k': 'v'}}
    assert base == {'a': {'b': 1, 'c': [1, 2], 'd': {'e': 'x'}}, 'f': 'keep', 'g': {'h': 1}}
    merged['new']['k'] = 'changed'
    assert override['new'] == {'k': 'v'}
    assert deep_merge({'a': 1, 'b': [1]}, {'a': {'x': 1}, 'b': {'y': 2}}) == {'a': {'x': 1}, 'b': {'y': 2}}


def test_overrides_merged_last():
    values = backend_chart_values(staging(backend_chart_values={
        'autoscaling': {'maxReplicas': 6, 'targetCPUUtilizationPercentage': 60},
        'ingress': {'annotations': {'a': 'b'}}}))
    assert values['autoscaling'] == {'minReplicas': 2, 'maxReplicas': 6, 'targetCPUUtilizationPercentage': 60}
    assert values['ingress']['host'] == 'api.staging.example.com'
    assert values['ingress']['annotations'] == {'a': 'b'}


# ---------------------------------------------------------------------------------------------
# schema errors, with a small inline schema

INLINE_SCHEMA = {
    '$schema': 'http://json-schema.org/draft-07/schema#',
    'type': 'object',
    'additionalProperties': False,
    'required': ['app', 'php'],
    'properties': {
        'commonLabels': {'type': 'object', 'additionalProperties': {'type': 'string'}},
        'replicaCount': {'anyOf': [{'type': 'integer', 'minimum': 1}, {'enum': ['auto']}]},
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
            'properties': {'existingSecret': {'type': 'string', 'minLength': 30},
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
                'type': 'object', 'additionalProperties': False, 'required': ['tag'],
                'properties': {'registry': {'type': 'string'}, 'repository': {'type': 'string'},
                               'tag': {'type': 'string'}, 'digest': {'type': 'string'},
                               'pullPolicy': {'type': 'string', 'enum': ['Always', 'IfNotPresent', 'Never']}},
            }},
        },
    },
}


def schema_errors_of(inventory):
    with pytest.raises(AnsibleFilterError) as info:
        backend_chart_values(inventory, schema=INLINE_SCHEMA)
    return str(info.value)


def test_schema_ignores_required_of_partial_values():
    values = backend_chart_values(staging(backend_existing_secret='a' * 30, backend_app_key=None,
                                          backend_database_password=None), schema=INLINE_SCHEMA)
    assert values['php']['image']['tag'] == '1.2.3'


def test_schema_errors_name_the_inventory_variable():
    message = schema_errors_of(staging(backend_replicas_max=50, backend_log_level='critical',
                                       backend_app_url='http://api.staging.example.com'))
    assert 'backend_replicas_max -> autoscaling.maxReplicas: 50 is out of range; allowed: <= 20' in message
    assert ("backend_log_level -> app.logLevel: 'critical' is not one of the allowed values; "
            'allowed: "debug", "info", "warning", "error"') in message
    assert ("backend_app_url -> app.url: 'http://api.staging.example.com' does not match the pattern; "
            'allowed: pattern ^https://') in message
    assert "backend_existing_secret -> secrets.existingSecret: 'backend-app-secrets' has the wrong length" in message


def test_schema_errors_from_overrides():
    message = schema_errors_of(staging(backend_chart_values={
        'app': {'debgu': True}, 'extra': 1, 'php': {'image': {'pullPolicy': 'Sometimes'}}, 'replicaCount': 'many'}))
    assert "backend_chart_values.app.debgu -> app.debgu: unknown key 'debgu'; allowed: debug, env, logLevel, url" \
        in message
    assert "backend_chart_values.extra -> extra: unknown key 'extra'; allowed:" in message
    assert "backend_chart_values.php.image.pullPolicy -> php.image.pullPolicy: 'Sometimes'" in message
    assert ("backend_chart_values.replicaCount -> replicaCount: 'many' matches none of the allowed forms; "
            'allowed: type integer >= 1 | one of "auto"') in message
    assert message.startswith('laravel_ops.k8s.backend_chart_values: 5 problems in the inventory:')


def test_schema_errors_never_show_secrets():
    message = schema_errors_of(staging(backend_chart_values={'secrets': {'dbPassword': DB_PASSWORD}}))
    assert 'backend_chart_values.secrets.dbPassword -> secrets.dbPassword: <hidden>' in message
    assert_no_secret(message)


def test_schema_unknown_top_level_key_from_a_variable():
    schema = copy.deepcopy(INLINE_SCHEMA)
    del schema['properties']['commonLabels']
    with pytest.raises(AnsibleFilterError, match="backend_environment -> commonLabels: unknown key 'commonLabels'"):
        backend_chart_values(staging(), schema=schema)


def test_invalid_schema_and_missing_library(monkeypatch):
    lines = _schema_errors.schema_problems({}, {'type': 'no-such-type'})
    assert len(lines) == 1 and lines[0].startswith('backend_chart_values: the chart schema itself is invalid')
    monkeypatch.setattr(_schema_errors, 'HAS_JSONSCHEMA', False)
    with pytest.raises(AnsibleFilterError, match='jsonschema is missing on the controller'):
        backend_chart_values(staging(), schema=INLINE_SCHEMA)
    assert backend_chart_values(staging())['app']['env'] == 'staging'


def test_schema_that_is_no_mapping():
    with pytest.raises(AnsibleFilterError, match="schema: 'values.schema.json' is not a mapping"):
        backend_chart_values(staging(), schema='values.schema.json')


def test_source_variable_names():
    assert source_variable(('autoscaling', 'maxReplicas')) == 'backend_replicas_max'
    assert source_variable(('php', 'image', 'tag')) == 'backend_php_image.tag'
    assert source_variable(('database', 'port')) == 'backend_database.port'
    assert source_variable(('database', 'sslmode')) == 'backend_database_sslmode'
    assert source_variable(('database', 'ca', 'key')) == 'backend_database_ca.key'
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
# the real chart schema

@pytest.fixture(scope='module')
def chart_schema():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
    with open(os.path.join(root, 'charts', 'backend', 'values.schema.json')) as handle:
        return json.load(handle)


@pytest.mark.parametrize('inventory', [
    staging(),
    staging(backend_environment='local', backend_app_env='local', backend_app_debug=True, backend_log_level='debug',
            backend_ingress_host='', backend_ingress_tls_secret='', backend_replicas_min=1, backend_replicas_max=1,
            backend_metrics_enabled=False),
    prod(),
    prod(backend_app_key=None, backend_database_password=None, backend_existing_secret='backend-secrets',
         backend_migrations_mode='off'),
    staging(backend_pgbouncer_enabled=True, backend_pgbouncer_tls_secret='pgbouncer-tls',
            backend_pgbouncer_image=dict(registry='127.0.0.1:5000', repository='laravel-ops/pgbouncer', tag='0123abcd')),
], ids=['staging', 'local', 'prod', 'prod-existing-secret', 'pgbouncer'])
def test_real_chart_schema_accepts_valid_inventories(chart_schema, inventory):
    values = backend_chart_values(inventory, schema=chart_schema)
    assert values['commonLabels']['app.kubernetes.io/environment'] == inventory['backend_environment']


def test_real_chart_schema_is_strict(chart_schema):
    assert chart_schema.get('additionalProperties') is False
    with pytest.raises(AnsibleFilterError) as info:
        backend_chart_values(staging(backend_chart_values={'replicaCuont': 3}), schema=chart_schema)
    message = str(info.value)
    assert "backend_chart_values.replicaCuont -> replicaCuont: unknown key 'replicaCuont'" in message
    assert 'replicaCount' in message.split('allowed:')[1]


def test_real_chart_schema_rejects_wrong_types(chart_schema):
    with pytest.raises(AnsibleFilterError) as info:
        backend_chart_values(staging(backend_pgbouncer_enabled=True, backend_pgbouncer_tls_secret='pgbouncer-tls',
                                     backend_pgbouncer_image=dict(
            registry='r.example.com', repository='pgbouncer'), backend_chart_values={
            'autoscaling': {'maxReplicas': 'ten'}, 'pgbouncer': {'defaultPoolSize': 0}}), schema=chart_schema)
    message = str(info.value)
    assert "backend_chart_values.autoscaling.maxReplicas -> autoscaling.maxReplicas: 'ten'" in message
    assert 'backend_chart_values.pgbouncer.defaultPoolSize -> pgbouncer.defaultPoolSize: 0 is out of range' in message


def test_valid_alert_tuning_passes():
    alerts = {'errorRate': {'threshold': 1, 'for': '0', 'severity': 'page'},
              'latencyP95': {'thresholdSeconds': 0.25, 'for': '1h30m'},
              'phpFpmSaturated': {'listenQueue': 0, 'enabled': True}, 'databaseDown': {'for': '30s'},
              'pgbouncerSaturated': {'waitingClients': 5}, 'podRestarts': {'restarts': 0, 'for': '1d2h3m4s5ms'},
              'hpaMaxedOut': {'enabled': False}}
    assert backend_chart_values(dict(MINIMAL, backend_alerts=alerts))['metrics']['prometheusRule']['rules'] == alerts


def test_the_release_label_defaults_to_the_operator_role_s_release_name():
    """The release role reads the table's default; it is the name the prometheus_operator role
    installs kube-prometheus-stack under, so its Prometheus selects the backend's objects."""
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
    with open(os.path.join(root, 'roles', 'prometheus_operator', 'defaults', 'main.yml')) as handle:
        defaults = yaml.safe_load(handle)
    setting = next(s for s in SETTINGS if s['name'] == 'backend_prometheus_release')
    assert setting['default'] == defaults['prometheus_operator_release_name']
    filled = chart_values.with_defaults(MINIMAL, 'release')
    assert backend_chart_values(filled)['metrics'] == {'prometheusRelease': defaults['prometheus_operator_release_name']}

