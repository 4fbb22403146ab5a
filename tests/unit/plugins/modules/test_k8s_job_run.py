# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import yaml

from ansible_collections.laravel_ops.k8s.plugins.module_utils import job_runner
from ansible_collections.laravel_ops.k8s.plugins.module_utils.job_runner import SPEC_HASH_ANNOTATION, JobRunError
from ansible_collections.laravel_ops.k8s.plugins.modules import k8s_job_run

from fake_k8s import FakeClock, FakeCluster, FakeK8sClient, job_definition

NS = 'backend'
NAME = 'backend-migrate-4f53cda18c'


@pytest.fixture
def cluster(monkeypatch):
    """A fake cluster behind get_api_client, and a fake clock behind the runner's waiting."""
    state = FakeCluster(outcome='Complete', finish_after=1)
    clock = FakeClock()
    monkeypatch.setattr(k8s_job_run, 'get_api_client', lambda module=None, **kwargs: FakeK8sClient(state))
    monkeypatch.setattr(job_runner.time, 'monotonic', clock)
    monkeypatch.setattr(job_runner.time, 'sleep', clock.sleep)
    state.clock = clock
    return state


def args(**kwargs):
    base = dict(definition=job_definition(), name=NAME, namespace=NS, wait_timeout=60)
    base.update(kwargs)
    return base


def test_success(run_module, cluster):
    status, result = run_module(k8s_job_run.main, args())
    assert status == 'exit'
    assert result['changed'] is True and result['created'] is True
    assert result['state'] == 'succeeded'
    assert result['logs'] == ['Migrating: 2024_01_01_create_users', 'Migrated: ok']
    assert result['duration_seconds'] == 12.0
    assert result['job']['metadata']['name'] == NAME
    assert 'spec' not in result['job']
    assert cluster.clock.sleeps == [2]
    created = cluster.created[0]
    assert created['metadata']['namespace'] == NS
    assert created['metadata']['annotations'][SPEC_HASH_ANNOTATION]


def test_second_run_is_unchanged(run_module, cluster):
    run_module(k8s_job_run.main, args())
    status, result = run_module(k8s_job_run.main, args())
    assert status == 'exit'
    assert result['changed'] is False
    assert result['logs'] == ['Migrating: 2024_01_01_create_users', 'Migrated: ok']
    assert len(cluster.created) == 1


def test_failure_with_logs(run_module, cluster):
    cluster.outcome = 'Failed'
    cluster.logs = {'migrate': 'Migrating: 2024_01_01_create_users\nSQLSTATE[42P07]: relation "users" already exists\n'}
    status, result = run_module(k8s_job_run.main, args())
    assert status == 'fail'
    assert result['msg'].startswith('Job backend/%s failed (BackoffLimitExceeded' % NAME)
    assert 'SQLSTATE[42P07]: relation "users" already exists' in result['msg']
    assert result['state'] == 'failed'
    assert result['changed'] is True
    assert result['logs'][-1] == 'SQLSTATE[42P07]: relation "users" already exists'


def test_timeout(run_module, cluster):
    cluster.outcome = None
    status, result = run_module(k8s_job_run.main, args(wait_timeout=7, wait_sleep=3))
    assert status == 'fail'
    assert 'did not finish within 7 seconds' in result['msg']
    assert result['state'] == 'timeout'
    assert cluster.clock.sleeps == [3, 3, 1]


def test_existing_succeeded_job_not_changed(run_module, cluster):
    job, _name, _ns = job_runner.prepare_definition(job_definition(), name=NAME, namespace=NS)
    cluster.add_job(job, outcome='Complete')
    status, result = run_module(k8s_job_run.main, args())
    assert status == 'exit'
    assert result['changed'] is False and result['created'] is False
    assert result['logs'] == ['Migrating: 2024_01_01_create_users', 'Migrated: ok']
    assert cluster.created == []


def test_check_mode(run_module, cluster):
    status, result = run_module(k8s_job_run.main, args(_ansible_check_mode=True))
    assert status == 'exit'
    assert result['changed'] is True
    assert result['created'] is False
    assert cluster.created == [] and cluster.jobs == {}


def test_yaml_string_definition_with_several_documents(run_module, cluster):
    documents = [{'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'x'}}, job_definition()]
    status, result = run_module(k8s_job_run.main, args(definition=yaml.safe_dump_all(documents)))
    assert status == 'exit'
    assert result['state'] == 'succeeded'


@pytest.mark.parametrize('definition, expected', [
    ('kind: ConfigMap\n', 'the YAML holds 0 Job documents; allowed: exactly one'),
    ('a: [b\n', 'definition: not valid YAML'),
    (42, 'definition: a int; allowed: a Job manifest'),
])
def test_bad_definitions(run_module, cluster, definition, expected):
    status, result = run_module(k8s_job_run.main, args(definition=definition))
    assert status == 'fail'
    assert expected in result['msg']


def test_namespace_mismatch(run_module, cluster):
    status, result = run_module(k8s_job_run.main, args(definition=job_definition(namespace='other')))
    assert status == 'fail'
    assert "metadata.namespace 'other' differs from namespace 'backend'" in result['msg']


def test_api_error_reported(run_module, cluster, monkeypatch):
    def broken(self, namespace, name):
        raise job_runner.JobApiError('reading Job backend/x: jobs.batch is forbidden', 403)

    monkeypatch.setattr(job_runner.DynamicJobApi, 'get_job', broken)
    status, result = run_module(k8s_job_run.main, args())
    assert status == 'fail'
    assert result['msg'] == 'reading Job backend/x: jobs.batch is forbidden'


def test_load_definition_passes_dicts_through():
    definition = job_definition()
    assert k8s_job_run.load_definition(definition) is definition
    with pytest.raises(JobRunError):
        k8s_job_run.load_definition(None)


def test_auth_options_come_from_kubernetes_core():
    spec = k8s_job_run.argspec()
    for option in ('kubeconfig', 'context', 'host', 'api_key', 'validate_certs', 'ca_cert', 'client_cert',
                   'client_key'):
        assert option in spec
    assert spec['api_key'].get('no_log') is True


@pytest.mark.parametrize('log_lines, expected', [(1, 1), (0, None), (-3, None)])
def test_log_lines_option(run_module, cluster, log_lines, expected):
    status, result = run_module(k8s_job_run.main, args(log_lines=log_lines))
    assert status == 'exit'
    assert cluster.log_requests == [(NAME + '-0', 'migrate', expected)]
