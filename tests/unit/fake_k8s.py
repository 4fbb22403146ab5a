# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An in-memory stand-in for the bits of the Kubernetes API the Job runner touches.

``FakeCluster`` keeps Jobs and Pods and moves a Job to Complete or Failed after a number of
status reads. ``FakeJobApi`` exposes it with the runner's small API; ``FakeK8sClient`` exposes
it the way kubernetes.core's K8SClient and the dynamic client do, so DynamicJobApi and the
module are exercised too. This tests the plugin's own logic, not Kubernetes.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json

from ansible_collections.laravel_ops.k8s.plugins.module_utils.job_runner import JobApiError

START = '2025-01-01T10:00:00Z'
END = '2025-01-01T10:00:12Z'


class FakeClock(object):
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeCluster(object):
    """outcome: 'Complete', 'Failed' or None (never finishes); after `finish_after` status reads."""

    def __init__(self, outcome='Complete', finish_after=2, logs=None, pods_per_job=1):
        self.outcome = outcome
        self.finish_after = finish_after
        self.logs = logs if logs is not None else {'migrate': 'Migrating: 2024_01_01_create_users\nMigrated: ok\n'}
        self.pods_per_job = pods_per_job
        self.jobs = {}
        self.pods = {}
        self.reads = {}
        self.created = []
        self.deleted = []
        self.log_requests = []
        self._uid = 0

    # -- state changes ------------------------------------------------------------------
    def add_job(self, definition, outcome=None, ran=True):
        """Put a Job in place, optionally already finished with `outcome`."""
        job = copy.deepcopy(definition)
        self._uid += 1
        uid = 'uid-%d' % self._uid
        namespace = job['metadata'].get('namespace', 'default')
        job['metadata'].update(uid=uid, namespace=namespace, creationTimestamp=START)
        job.setdefault('spec', {})['selector'] = {'matchLabels': {'batch.kubernetes.io/controller-uid': uid}}
        job['status'] = {'startTime': START, 'active': 1}
        self.jobs[(namespace, job['metadata']['name'])] = job
        self.reads[(namespace, job['metadata']['name'])] = 0
        if ran:
            containers = job['spec']['template']['spec']
            for index in range(self.pods_per_job):
                name = '%s-%d' % (job['metadata']['name'], index)
                self.pods[(namespace, name)] = {
                    'metadata': {'name': name, 'namespace': namespace,
                                 'creationTimestamp': '2025-01-01T10:00:%02dZ' % index,
                                 'labels': {'batch.kubernetes.io/controller-uid': uid}},
                    'spec': copy.deepcopy(containers),
                }
        if outcome:
            self._finish(job, outcome)
        return job

    def _finish(self, job, outcome):
        status = job['status']
        status.pop('active', None)
        status['conditions'] = [{'type': outcome, 'status': 'True', 'lastTransitionTime': END,
                                 'reason': 'BackoffLimitExceeded' if outcome == 'Failed' else None,
                                 'message': 'Job has reached the specified backoff limit'
                                 if outcome == 'Failed' else None}]
        if outcome == 'Complete':
            status['completionTime'] = END
            status['succeeded'] = 1
        else:
            status['failed'] = self.pods_per_job

    def read_job(self, namespace, name):
        job = self.jobs.get((namespace, name))
        if job is None:
            return None
        key = (namespace, name)
        self.reads[key] += 1
        if self.outcome and not job['status'].get('conditions') and self.reads[key] > self.finish_after:
            self._finish(job, self.outcome)
        return copy.deepcopy(job)

    def create(self, namespace, definition):
        if (namespace, definition['metadata']['name']) in self.jobs:
            raise JobApiError('creating Job: already exists', 409)
        self.created.append(copy.deepcopy(definition))
        return self.add_job(dict(definition, metadata=dict(definition['metadata'], namespace=namespace)))

    def delete(self, namespace, name):
        self.deleted.append(name)
        job = self.jobs.pop((namespace, name), None)
        if job is None:
            return False
        uid = job['metadata']['uid']
        for key in [k for k, p in self.pods.items() if p['metadata']['labels'].get('batch.kubernetes.io/controller-uid') == uid]:
            del self.pods[key]
        return True

    def pods_for(self, namespace, selector):
        wanted = dict(part.split('=', 1) for part in selector.split(','))
        return [copy.deepcopy(p) for (ns, _n), p in sorted(self.pods.items(), reverse=True)
                if ns == namespace and all(p['metadata']['labels'].get(k) == v for k, v in wanted.items())]

    def log(self, namespace, pod, container, tail_lines=None):
        self.log_requests.append((pod, container, tail_lines))
        if container not in self.logs:
            raise JobApiError('reading logs of %s/%s: container "%s" is waiting to start' % (pod, container, container),
                              400)
        lines = self.logs[container].splitlines()
        if tail_lines:
            lines = lines[-tail_lines:]
        return ''.join(line + '\n' for line in lines)


class FakeJobApi(object):
    """The runner's API over a FakeCluster."""

    def __init__(self, cluster):
        self.cluster = cluster

    def get_job(self, namespace, name):
        return self.cluster.read_job(namespace, name)

    def create_job(self, namespace, definition):
        return self.cluster.create(namespace, definition)

    def delete_job(self, namespace, name):
        self.cluster.delete(namespace, name)

    def list_pods(self, namespace, selector):
        return self.cluster.pods_for(namespace, selector)

    def read_log(self, namespace, pod, container, tail_lines=None):
        return self.cluster.log(namespace, pod, container, tail_lines)


# -- the dynamic-client shape ------------------------------------------------------------------

class FakeApiException(Exception):
    """Shaped like kubernetes' ApiException / dynamic exceptions: status, reason, body."""

    def __init__(self, status, message):
        super(FakeApiException, self).__init__(message)
        self.status = status
        self.reason = 'Not Found' if status == 404 else 'Error'
        self.body = json.dumps({'kind': 'Status', 'message': message}).encode('utf-8')


class FakeInstance(object):
    def __init__(self, data):
        self._data = data

    def to_dict(self):
        return copy.deepcopy(self._data)


class FakeResponse(object):
    def __init__(self, text):
        self.data = text.encode('utf-8')


class FakeLogSubresource(object):
    def __init__(self, cluster):
        self.cluster = cluster

    def get(self, name=None, namespace=None, serialize=True, query_params=None):
        assert serialize is False
        params = dict(query_params or [])
        try:
            text = self.cluster.log(namespace, name, params['container'], params.get('tailLines'))
        except JobApiError as exc:
            raise FakeApiException(exc.status, str(exc))
        return FakeResponse(text)


class FakeResource(object):
    def __init__(self, kind, api_version, cluster):
        self.kind = kind
        self.api_version = api_version
        if kind == 'Pod':
            self.log = FakeLogSubresource(cluster)


class FakeK8sClient(object):
    """Shaped like kubernetes.core's K8SClient: resource(), get(), create(), delete()."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.resources_asked = []

    def resource(self, kind, api_version):
        self.resources_asked.append((kind, api_version))
        return FakeResource(kind, api_version, self.cluster)

    def get(self, resource, name=None, namespace=None, label_selector=None):
        if resource.kind == 'Job':
            job = self.cluster.read_job(namespace, name)
            if job is None:
                raise FakeApiException(404, 'jobs.batch "%s" not found' % name)
            return FakeInstance(job)
        if resource.kind == 'Pod':
            return FakeInstance({'kind': 'PodList', 'items': self.cluster.pods_for(namespace, label_selector)})
        raise AssertionError('unexpected kind %s' % resource.kind)

    def create(self, resource, definition, namespace=None):
        assert resource.kind == 'Job' and resource.api_version == 'batch/v1'
        try:
            return FakeInstance(self.cluster.create(namespace, definition))
        except JobApiError as exc:
            raise FakeApiException(exc.status, str(exc))

    def delete(self, resource, name=None, namespace=None, propagation_policy=None):
        assert propagation_policy == 'Background'
        if not self.cluster.delete(namespace, name):
            raise FakeApiException(404, 'jobs.batch "%s" not found' % name)
        return FakeInstance({'kind': 'Status'})


def job_definition(name='backend-migrate-4f53cda18c', namespace=None, containers=('migrate',), command='migrate'):
    definition = {
        'apiVersion': 'batch/v1',
        'kind': 'Job',
        'metadata': {'name': name, 'labels': {'app.kubernetes.io/component': 'migrations'}},
        'spec': {
            'backoffLimit': 0,
            'template': {'spec': {
                'restartPolicy': 'Never',
                'containers': [{'name': c, 'image': 'registry.example.com/acme/php@sha256:' + 'a' * 64,
                                'command': ['php', 'artisan', command, '--force'],
                                'env': [{'name': 'DB_PASSWORD',
                                         'valueFrom': {'secretKeyRef': {'name': 'backend', 'key': 'DB_PASSWORD'}}}]}
                               for c in containers],
            }},
        },
    }
    if namespace:
        definition['metadata']['namespace'] = namespace
    return definition
