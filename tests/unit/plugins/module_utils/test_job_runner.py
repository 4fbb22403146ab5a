# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import datetime

import pytest

from ansible_collections.laravel_ops.k8s.plugins.module_utils import _k8s_api
from ansible_collections.laravel_ops.k8s.plugins.module_utils.job_runner import (
    SPEC_HASH_ANNOTATION,
    DynamicJobApi,
    JobApiError,
    JobRunError,
    JobRunner,
    deadline_for,
    failure_reason,
    flatten_logs,
    job_duration_seconds,
    job_state,
    job_summary,
    next_poll_delay,
    parse_k8s_time,
    pod_containers,
    pod_selector,
    prepare_definition,
    remaining_seconds,
    spec_hash,
    tail,
)

from fake_k8s import FakeClock, FakeCluster, FakeJobApi, FakeK8sClient, job_definition

NS = 'backend'


def make_runner(cluster, interval=2):
    clock = FakeClock()
    runner = JobRunner(FakeJobApi(cluster), NS, poll_interval=interval, clock=clock, sleep=clock.sleep)
    return runner, clock


def prepared(**kwargs):
    job, _name, _ns = prepare_definition(job_definition(**kwargs), namespace=NS)
    return job


# ---------------------------------------------------------------------------------------------
# pure functions

@pytest.mark.parametrize('conditions, state', [
    (None, 'running'),
    ([], 'running'),
    ([{'type': 'Complete', 'status': 'True'}], 'succeeded'),
    ([{'type': 'Failed', 'status': 'True'}], 'failed'),
    ([{'type': 'Complete', 'status': 'False'}], 'running'),
    ([{'type': 'SuccessCriteriaMet', 'status': 'True'}], 'running'),  # pods not terminated yet
    ([{'type': 'FailureTarget', 'status': 'True'}], 'running'),
    ([{'type': 'Suspended', 'status': 'True'}, {'type': 'Failed', 'status': 'True'}], 'failed'),
])
def test_job_state(conditions, state):
    assert job_state({'status': {'conditions': conditions}}) == state


def test_job_state_of_nothing():
    assert job_state(None) == 'running'
    assert job_state({}) == 'running'


def test_failure_reason():
    job = {'status': {'conditions': [{'type': 'Failed', 'status': 'True', 'reason': 'DeadlineExceeded',
                                      'message': 'Job was active longer than specified deadline'}]}}
    assert failure_reason(job) == 'DeadlineExceeded: Job was active longer than specified deadline'
    assert failure_reason({'status': {'conditions': [{'type': 'Failed', 'status': 'True'}]}}) == 'Failed'
    assert failure_reason({'status': {}}) is None


def test_timing_arithmetic():
    assert deadline_for(100.0, 600) == 700.0
    assert deadline_for(100.0, -5) == 100.0
    assert remaining_seconds(650.0, 700.0) == 50.0
    assert remaining_seconds(750.0, 700.0) == 0.0
    assert next_poll_delay(100.0, 700.0, 2) == 2.0
    assert next_poll_delay(699.5, 700.0, 2) == 0.5
    assert next_poll_delay(700.0, 700.0, 2) == 0.0
    assert next_poll_delay(800.0, 700.0, 2) == 0.0
    assert next_poll_delay(100.0, 700.0, -1) == 0.0


@pytest.mark.parametrize('text, expected', [
    ('2025-01-01T10:00:00Z', datetime.datetime(2025, 1, 1, 10, 0, 0)),
    ('2025-01-01T10:00:00.250000Z', datetime.datetime(2025, 1, 1, 10, 0, 0, 250000)),
    ('2025-01-01T12:30:00+02:30', datetime.datetime(2025, 1, 1, 10, 0, 0)),
    ('2025-01-01T08:00:00-02:00', datetime.datetime(2025, 1, 1, 10, 0, 0)),
])
def test_parse_k8s_time(text, expected):
    assert parse_k8s_time(text) == expected.replace(tzinfo=datetime.timezone.utc)


def test_parse_k8s_time_rejects_garbage():
    assert parse_k8s_time(None) is None
    assert parse_k8s_time('') is None
    assert parse_k8s_time('yesterday') is None
    naive = datetime.datetime(2025, 1, 1)
    assert parse_k8s_time(naive).tzinfo is not None


def test_job_duration_seconds():
    done = {'status': {'startTime': '2025-01-01T10:00:00Z', 'completionTime': '2025-01-01T10:01:05Z'}}
    assert job_duration_seconds(done) == 65.0
    failed = {'status': {'startTime': '2025-01-01T10:00:00Z', 'conditions': [
        {'type': 'Failed', 'status': 'True', 'lastTransitionTime': '2025-01-01T10:00:30Z'}]}}
    assert job_duration_seconds(failed) == 30.0
    assert job_duration_seconds({'status': {'startTime': '2025-01-01T10:00:00Z'}}) is None
    assert job_duration_seconds({}) is None


def test_tail():
    lines = ['a', 'b', 'c']
    assert tail(lines, 2) == ['b', 'c']
    assert tail(lines, 10) == lines
    assert tail(lines, 0) == lines
    assert tail(lines, None) == lines
    assert tail(iter(lines), 1) == ['c']


def test_pod_selector_and_containers():
    job = {'metadata': {'name': 'j'}, 'spec': {'selector': {'matchLabels': {'b': '2', 'a': '1'}}}}
    assert pod_selector(job) == 'a=1,b=2'
    assert pod_selector({'metadata': {'name': 'j'}, 'spec': {}}) == 'job-name=j'
    pod = {'spec': {'initContainers': [{'name': 'wait-db'}], 'containers': [{'name': 'migrate'}, {'name': 'sidecar'}]}}
    assert pod_containers(pod) == ['wait-db', 'migrate', 'sidecar']
    assert pod_containers({}) == []


def test_flatten_logs_prefixes_only_with_several_sources():
    one = [{'pod': 'p', 'container': 'c', 'lines': ['x', 'y']}]
    assert flatten_logs(one) == ['x', 'y']
    two = one + [{'pod': 'p2', 'container': 'c', 'lines': ['z']}]
    assert flatten_logs(two) == ['[p/c] x', '[p/c] y', '[p2/c] z']
    assert flatten_logs([]) == []


def test_job_summary_never_returns_the_spec():
    job = {'apiVersion': 'batch/v1', 'kind': 'Job',
           'metadata': {'name': 'j', 'namespace': 'n', 'uid': 'u', 'annotations': {'a': 'b'}, 'managedFields': []},
           'spec': {'template': {'spec': {'containers': [{'env': [{'name': 'X', 'value': 'secret'}]}]}}},
           'status': {'succeeded': 1}}
    summary = job_summary(job)
    assert summary == {'apiVersion': 'batch/v1', 'kind': 'Job',
                       'metadata': {'name': 'j', 'namespace': 'n', 'uid': 'u'}, 'status': {'succeeded': 1}}
    assert 'secret' not in repr(summary)
    assert job_summary(None) == {}


def test_spec_hash_is_stable_and_sensitive():
    a = job_definition()
    b = copy.deepcopy(a)
    b['spec'] = dict(reversed(list(b['spec'].items())))  # key order does not matter
    assert spec_hash(a) == spec_hash(b)
    b['metadata']['labels']['x'] = 'y'  # metadata does not matter
    assert spec_hash(a) == spec_hash(b)
    assert spec_hash(a) != spec_hash(job_definition(command='db:seed'))


def test_prepare_definition():
    original = job_definition(namespace=NS)
    job, name, namespace = prepare_definition(original, name='backend-migrate-abc')
    assert (name, namespace) == ('backend-migrate-abc', NS)
    assert job['metadata']['name'] == 'backend-migrate-abc'
    assert job['metadata']['annotations'][SPEC_HASH_ANNOTATION] == spec_hash(original)
    assert 'annotations' not in original['metadata']  # input untouched


@pytest.mark.parametrize('mutate, namespace, expected', [
    (lambda d: d.update(kind='Pod'), NS, "kind 'Pod' (allowed: Job)"),
    (lambda d: d.update(apiVersion='batch/v1beta1'), NS, "apiVersion 'batch/v1beta1' (allowed: batch/v1)"),
    (lambda d: d['metadata'].pop('name'), NS, 'metadata.name None'),
    (lambda d: d['metadata'].update(name='Bad_Name'), NS, "metadata.name 'Bad_Name'"),
    (lambda d: d['metadata'].update(namespace='other'), NS, "metadata.namespace 'other' differs from namespace"),
    (lambda d: None, None, 'no namespace'),
    (lambda d: d['spec']['template']['spec'].pop('containers'), NS, 'spec.template.spec.containers missing'),
])
def test_prepare_definition_errors(mutate, namespace, expected):
    definition = job_definition()
    mutate(definition)
    with pytest.raises(JobRunError) as info:
        prepare_definition(definition, namespace=namespace)
    assert expected in str(info.value)
    assert str(info.value).startswith('definition: not a runnable Job')


def test_prepare_definition_not_a_mapping():
    with pytest.raises(JobRunError, match='definition: not a mapping'):
        prepare_definition(['x'], namespace=NS)


# ---------------------------------------------------------------------------------------------
# the runner against a fake cluster

def test_success_creates_waits_and_returns_logs():
    cluster = FakeCluster(outcome='Complete', finish_after=3)
    runner, clock = make_runner(cluster)
    result = runner.run(prepared(), wait_timeout=600)
    assert result['changed'] is True and result['created'] is True
    assert result['state'] == 'succeeded'
    assert result['logs'] == ['Migrating: 2024_01_01_create_users', 'Migrated: ok']
    assert result['pod_logs'] == [{'pod': 'backend-migrate-4f53cda18c-0', 'container': 'migrate',
                                   'lines': ['Migrating: 2024_01_01_create_users', 'Migrated: ok']}]
    assert result['duration_seconds'] == 12.0  # from the Job's status times
    assert result['job']['status']['succeeded'] == 1
    assert 'spec' not in result['job']
    assert clock.sleeps == [2, 2, 2]
    assert len(cluster.created) == 1
    assert cluster.created[0]['metadata']['annotations'][SPEC_HASH_ANNOTATION]


def test_failure_raises_with_last_log_lines():
    logs = {'migrate': ''.join('line %d\n' % i for i in range(30)) + 'SQLSTATE[08006] connection refused\n'}
    cluster = FakeCluster(outcome='Failed', finish_after=1, logs=logs, pods_per_job=2)
    runner, _clock = make_runner(cluster)
    with pytest.raises(JobRunError) as info:
        runner.run(prepared(), log_lines=0)
    message = str(info.value)
    assert message.startswith('Job backend/backend-migrate-4f53cda18c failed (BackoffLimitExceeded: '
                              'Job has reached the specified backoff limit). Last 20 log lines:')
    assert message.endswith('[backend-migrate-4f53cda18c-1/migrate] SQLSTATE[08006] connection refused')
    assert '[backend-migrate-4f53cda18c-0/migrate] line 0' not in message
    result = info.value.result
    assert result['state'] == 'failed' and result['changed'] is True
    assert len(result['logs']) == 62  # 31 lines from each of the two pods, oldest pod first
    assert result['logs'][0] == '[backend-migrate-4f53cda18c-0/migrate] line 0'


def test_timeout_leaves_job_and_reports():
    cluster = FakeCluster(outcome=None)
    runner, clock = make_runner(cluster, interval=3)
    with pytest.raises(JobRunError) as info:
        runner.run(prepared(), wait_timeout=10)
    assert sum(clock.sleeps) == 10
    assert clock.sleeps == [3, 3, 3, 1]
    message = str(info.value)
    assert 'did not finish within 10 seconds; it was left running' in message
    assert 'Migrated: ok' in message
    assert info.value.result['state'] == 'timeout'
    assert info.value.result['duration_seconds'] == 10.0  # measured, the status has no end time
    assert cluster.deleted == []


def test_zero_timeout_does_not_sleep():
    cluster = FakeCluster(outcome=None)
    runner, clock = make_runner(cluster)
    with pytest.raises(JobRunError, match='within 0 seconds'):
        runner.run(prepared(), wait_timeout=0)
    assert clock.sleeps == []


def test_existing_succeeded_job_with_same_spec_is_unchanged():
    cluster = FakeCluster()
    job = prepared()
    cluster.add_job(dict(job, metadata=dict(job['metadata'], namespace=NS)), outcome='Complete')
    runner, clock = make_runner(cluster)
    result = runner.run(job)
    assert result['changed'] is False and result['created'] is False
    assert result['state'] == 'succeeded'
    assert result['logs'] == ['Migrating: 2024_01_01_create_users', 'Migrated: ok']
    assert cluster.created == [] and cluster.deleted == [] and clock.sleeps == []


def test_existing_failed_job_with_same_spec_fails_without_rerun():
    cluster = FakeCluster()
    job = prepared()
    cluster.add_job(dict(job, metadata=dict(job['metadata'], namespace=NS)), outcome='Failed')
    runner, _clock = make_runner(cluster)
    with pytest.raises(JobRunError) as info:
        runner.run(job)
    assert 'already ran with this spec and failed' in str(info.value)
    assert 'replace_failed=true' in str(info.value)
    assert 'Migrated: ok' in str(info.value)
    assert info.value.result['changed'] is False
    assert cluster.created == []


def test_existing_failed_job_replaced_when_asked():
    cluster = FakeCluster(outcome='Complete', finish_after=0)
    job = prepared()
    cluster.add_job(dict(job, metadata=dict(job['metadata'], namespace=NS)), outcome='Failed')
    runner, _clock = make_runner(cluster)
    result = runner.run(job, replace_failed=True)
    assert cluster.deleted == ['backend-migrate-4f53cda18c']
    assert len(cluster.created) == 1
    assert result['state'] == 'succeeded' and result['changed'] is True


def test_finished_job_with_other_spec_is_replaced():
    cluster = FakeCluster(outcome='Complete', finish_after=0)
    old = prepared(command='old-command')
    cluster.add_job(dict(old, metadata=dict(old['metadata'], namespace=NS)), outcome='Complete')
    runner, _clock = make_runner(cluster)
    result = runner.run(prepared())
    assert cluster.deleted == ['backend-migrate-4f53cda18c']
    assert result['created'] is True and result['changed'] is True


def test_running_job_with_other_spec_is_an_error():
    cluster = FakeCluster(outcome=None)
    old = prepared(command='old-command')
    cluster.add_job(dict(old, metadata=dict(old['metadata'], namespace=NS)))
    runner, _clock = make_runner(cluster)
    with pytest.raises(JobRunError, match='still running with a different spec'):
        runner.run(prepared())
    assert cluster.deleted == []


def test_running_job_with_same_spec_is_waited_for():
    cluster = FakeCluster(outcome='Complete', finish_after=2)
    job = prepared()
    cluster.add_job(dict(job, metadata=dict(job['metadata'], namespace=NS)))
    runner, clock = make_runner(cluster)
    result = runner.run(job)
    assert result['state'] == 'succeeded'
    assert result['changed'] is False and result['created'] is False
    assert cluster.created == []
    assert clock.sleeps == [2]


def test_check_mode_creates_nothing():
    cluster = FakeCluster()
    runner, clock = make_runner(cluster)
    result = runner.run(prepared(), check_mode=True)
    assert result['changed'] is True
    assert result['created'] is False
    assert result['state'] is None
    assert 'would be created' in result['msg']
    assert cluster.created == [] and clock.sleeps == []


def test_check_mode_replacement_deletes_nothing():
    cluster = FakeCluster()
    old = prepared(command='old-command')
    cluster.add_job(dict(old, metadata=dict(old['metadata'], namespace=NS)), outcome='Complete')
    runner, _clock = make_runner(cluster)
    result = runner.run(prepared(), check_mode=True)
    assert result['changed'] is True and 'would be replaced' in result['msg']
    assert cluster.deleted == [] and cluster.created == []


def test_check_mode_with_running_job():
    cluster = FakeCluster(outcome=None)
    job = prepared()
    cluster.add_job(dict(job, metadata=dict(job['metadata'], namespace=NS)))
    runner, clock = make_runner(cluster)
    result = runner.run(job, check_mode=True)
    assert result['changed'] is False and result['state'] == 'running'
    assert clock.sleeps == []


def test_delete_on_success():
    cluster = FakeCluster(outcome='Complete', finish_after=0)
    runner, _clock = make_runner(cluster)
    result = runner.run(prepared(), delete_on_success=True)
    assert result['deleted'] is True
    assert cluster.deleted == ['backend-migrate-4f53cda18c']
    assert result['logs'] == ['Migrating: 2024_01_01_create_users', 'Migrated: ok']


def test_job_vanishing_while_waiting():
    cluster = FakeCluster(outcome=None)
    runner, clock = make_runner(cluster)

    def sleep_and_delete(seconds):
        clock.now += seconds
        cluster.jobs.clear()

    runner.sleep = sleep_and_delete
    with pytest.raises(JobRunError, match='disappeared while waiting'):
        runner.run(prepared())


def test_unreadable_container_log_is_noted_not_fatal():
    cluster = FakeCluster(outcome='Complete', finish_after=0, logs={'migrate': 'ok\n'})
    runner, _clock = make_runner(cluster)
    result = runner.run(prepared(containers=('wait-for-db', 'migrate')))
    assert result['logs'] == [
        '[backend-migrate-4f53cda18c-0/wait-for-db] (logs unavailable: reading logs of '
        'backend-migrate-4f53cda18c-0/wait-for-db: container "wait-for-db" is waiting to start)',
        '[backend-migrate-4f53cda18c-0/migrate] ok',
    ]


def test_log_lines_tail_is_passed_per_container():
    cluster = FakeCluster(outcome='Complete', finish_after=0, logs={'migrate': 'a\nb\nc\n'})
    runner, _clock = make_runner(cluster)
    result = runner.run(prepared(), log_lines=2)
    assert result['logs'] == ['b', 'c']
    assert cluster.log_requests == [('backend-migrate-4f53cda18c-0', 'migrate', 2)]


def test_replacement_that_never_goes_away():
    cluster = FakeCluster(outcome=None)
    old = prepared(command='old-command')
    cluster.add_job(dict(old, metadata=dict(old['metadata'], namespace=NS)), outcome='Complete')
    api = FakeJobApi(cluster)
    api.delete_job = lambda namespace, name: None  # a finalizer keeps it around
    clock = FakeClock()
    runner = JobRunner(api, NS, poll_interval=2, clock=clock, sleep=clock.sleep)
    with pytest.raises(JobRunError, match='was deleted to be replaced but is still there'):
        runner.run(prepared(), wait_timeout=5)


# ---------------------------------------------------------------------------------------------
# DynamicJobApi over a client shaped like kubernetes.core's K8SClient

def test_dynamic_api_round_trip():
    cluster = FakeCluster(outcome='Complete', finish_after=0)
    client = FakeK8sClient(cluster)
    api = DynamicJobApi(client)
    assert client.resources_asked == [('Job', 'batch/v1'), ('Pod', 'v1')]
    assert api.get_job(NS, 'missing') is None
    job = prepared()
    created = api.create_job(NS, job)
    assert created['metadata']['uid']
    pods = api.list_pods(NS, pod_selector(created))
    assert [p['metadata']['name'] for p in pods] == ['backend-migrate-4f53cda18c-0']
    assert api.read_log(NS, 'backend-migrate-4f53cda18c-0', 'migrate', 1) == 'Migrated: ok\n'
    api.delete_job(NS, job['metadata']['name'])
    api.delete_job(NS, job['metadata']['name'])  # already gone: fine
    assert api.get_job(NS, job['metadata']['name']) is None


def test_dynamic_api_errors_carry_the_api_message():
    cluster = FakeCluster()
    api = DynamicJobApi(FakeK8sClient(cluster))
    job = prepared()
    api.create_job(NS, job)
    with pytest.raises(JobApiError) as info:
        api.create_job(NS, job)
    assert info.value.status == 409
    assert str(info.value).startswith('creating Job backend/backend-migrate-4f53cda18c: ')
    with pytest.raises(JobApiError) as info:
        api.read_log(NS, 'nope', 'other', None)
    assert info.value.status == 400
    assert 'is waiting to start' in str(info.value)


def test_api_error_message_fallbacks():
    class Plain(Exception):
        pass

    class WithReason(Exception):
        reason = 'Forbidden'
        body = b'not json'

    assert _k8s_api.error_message(Plain('boom')) == 'boom'
    assert _k8s_api.error_message(WithReason('x')) == 'Forbidden'
