# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run a Kubernetes Job to completion and collect its logs.

The Kubernetes calls sit behind a small API object (``DynamicJobApi`` wraps the client of
kubernetes.core); the decisions and the timing arithmetic are plain functions, tested directly.
Nothing here reads Secrets, and the Job's spec is never returned (it may carry env values).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import datetime
import hashlib
import json
import re
import time

from collections.abc import Mapping

from ansible_collections.laravel_ops.k8s.plugins.module_utils._k8s_api import ApiError as JobApiError
from ansible_collections.laravel_ops.k8s.plugins.module_utils._k8s_api import call, to_dict


SPEC_HASH_ANNOTATION = 'laravel-ops.k8s/spec-hash'
DEFAULT_FAILURE_LINES = 20
_NAME_RE = re.compile(r'^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$')

_UTC = datetime.timezone.utc

STATE_SUCCEEDED = 'succeeded'
STATE_FAILED = 'failed'
STATE_RUNNING = 'running'
STATE_TIMEOUT = 'timeout'


class JobRunError(Exception):
    """The Job could not be run to success; ``result`` holds what is known (logs, status)."""

    def __init__(self, message, result=None):
        super(JobRunError, self).__init__(message)
        self.result = result or {}


# ---------------------------------------------------------------------------------------------
# pure functions

def spec_hash(definition):
    """Stable hash of the Job's spec (including its pod template), stored as an annotation."""
    spec = (definition or {}).get('spec') or {}
    text = json.dumps(spec, sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


def job_state(job):
    """``succeeded``, ``failed`` or ``running`` from the Job's Complete/Failed conditions."""
    conditions = ((job or {}).get('status') or {}).get('conditions') or []
    for condition in conditions:
        if str(condition.get('status')) != 'True':
            continue
        if condition.get('type') == 'Complete':
            return STATE_SUCCEEDED
        if condition.get('type') == 'Failed':
            return STATE_FAILED
    return STATE_RUNNING


def failure_reason(job):
    """Reason and message of the Failed condition, e.g. ``BackoffLimitExceeded: Job has reached...``."""
    for condition in ((job or {}).get('status') or {}).get('conditions') or []:
        if condition.get('type') == 'Failed' and str(condition.get('status')) == 'True':
            parts = [p for p in (condition.get('reason'), condition.get('message')) if p]
            return ': '.join(parts) if parts else 'Failed'
    return None


def deadline_for(start, timeout):
    """Monotonic deadline ``timeout`` seconds after ``start`` (negative timeouts count as 0)."""
    return start + max(0, timeout)


def remaining_seconds(now, deadline):
    return max(0.0, deadline - now)


def next_poll_delay(now, deadline, interval):
    """Seconds to sleep before the next poll: the interval, cut short at the deadline."""
    return min(max(0.0, float(interval)), remaining_seconds(now, deadline))


def parse_k8s_time(value):
    """RFC 3339 time as the API server writes it (``2024-05-01T10:00:00Z``) -> aware datetime."""
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_UTC)
    text = str(value).strip()
    if text.endswith('Z') or text.endswith('z'):
        text = text[:-1] + '+00:00'
    match = re.match(r'^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}:\d{2})$', text)
    if not match:
        return None
    base, fraction, offset = match.groups()
    parsed = datetime.datetime.strptime(base.replace('t', 'T').replace(' ', 'T'), '%Y-%m-%dT%H:%M:%S')
    if fraction:
        parsed = parsed.replace(microsecond=int((fraction[1:] + '000000')[:6]))
    sign = 1 if offset[0] == '+' else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    delta = datetime.timedelta(hours=hours, minutes=minutes)
    return (parsed - sign * delta).replace(tzinfo=_UTC)


def job_duration_seconds(job):
    """Seconds from the Job's startTime to its completionTime (or to its Failed condition)."""
    status = (job or {}).get('status') or {}
    start = parse_k8s_time(status.get('startTime'))
    end = parse_k8s_time(status.get('completionTime'))
    if end is None:
        for condition in status.get('conditions') or []:
            if condition.get('type') == 'Failed' and str(condition.get('status')) == 'True':
                end = parse_k8s_time(condition.get('lastTransitionTime'))
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def tail(lines, count):
    """The last ``count`` lines; all of them when ``count`` is None or not positive."""
    lines = list(lines)
    if not count or count <= 0:
        return lines
    return lines[-count:]


def pod_selector(job):
    """Label selector of the Job's pods, from its spec.selector (set by the Job controller)."""
    selector = ((job.get('spec') or {}).get('selector') or {}).get('matchLabels') or {}
    if selector:
        return ','.join('%s=%s' % (k, selector[k]) for k in sorted(selector))
    return 'job-name=%s' % (job.get('metadata') or {}).get('name', '')


def pod_containers(pod):
    """Names of the pod's init containers then containers, in spec order."""
    spec = pod.get('spec') or {}
    names = []
    for key in ('initContainers', 'containers'):
        for container in spec.get(key) or []:
            if container.get('name'):
                names.append(container['name'])
    return names


def job_summary(job):
    """What the module returns about a Job: metadata identity and status, never the spec."""
    if not job:
        return {}
    metadata = job.get('metadata') or {}
    return {
        'apiVersion': job.get('apiVersion', 'batch/v1'),
        'kind': job.get('kind', 'Job'),
        'metadata': dict((k, metadata[k]) for k in ('name', 'namespace', 'uid', 'creationTimestamp', 'labels')
                         if k in metadata),
        'status': copy.deepcopy(job.get('status') or {}),
    }


def flatten_logs(pod_logs):
    """One list of lines; prefixed with ``[pod/container]`` when there is more than one source."""
    prefix = len(pod_logs) > 1
    lines = []
    for entry in pod_logs:
        for line in entry['lines']:
            lines.append('[%s/%s] %s' % (entry['pod'], entry['container'], line) if prefix else line)
    return lines


def prepare_definition(definition, name=None, namespace=None):
    """Validate a Job manifest and return ``(copy, name, namespace)`` with the spec hash annotated.

    Raises JobRunError when the manifest is not a usable batch/v1 Job.
    """
    if not isinstance(definition, Mapping):
        raise JobRunError('definition: not a mapping; allowed: a batch/v1 Job manifest')
    job = json.loads(json.dumps(definition, default=str))
    problems = []
    if job.get('apiVersion') != 'batch/v1':
        problems.append('apiVersion %r (allowed: batch/v1)' % job.get('apiVersion'))
    if job.get('kind') != 'Job':
        problems.append('kind %r (allowed: Job)' % job.get('kind'))
    metadata = job.setdefault('metadata', {}) or {}
    job['metadata'] = metadata
    if name:
        metadata['name'] = name
        metadata.pop('generateName', None)
    job_name = metadata.get('name')
    if not job_name or not _NAME_RE.match(str(job_name)):
        problems.append('metadata.name %r (allowed: a DNS label of 63 characters at most; generateName is not '
                        'supported because the Job is found again by name)' % job_name)
    if namespace and metadata.get('namespace') and metadata['namespace'] != namespace:
        problems.append('metadata.namespace %r differs from namespace %r' % (metadata['namespace'], namespace))
    job_namespace = namespace or metadata.get('namespace')
    if not job_namespace:
        problems.append('no namespace (set the namespace option or metadata.namespace)')
    template = (job.get('spec') or {}).get('template')
    if not isinstance(template, Mapping) or not (template.get('spec') or {}).get('containers'):
        problems.append('spec.template.spec.containers missing')
    if problems:
        raise JobRunError('definition: not a runnable Job: %s' % '; '.join(problems))
    metadata['namespace'] = job_namespace
    annotations = metadata.get('annotations') or {}
    annotations[SPEC_HASH_ANNOTATION] = spec_hash(job)
    metadata['annotations'] = annotations
    metadata.pop('resourceVersion', None)
    metadata.pop('uid', None)
    job.pop('status', None)
    return job, job_name, job_namespace


# ---------------------------------------------------------------------------------------------
# the Kubernetes side

class DynamicJobApi(object):
    """The few calls the runner needs, over kubernetes.core's K8SClient (dynamic client)."""

    def __init__(self, client):
        self._client = client
        self._jobs = client.resource('Job', 'batch/v1')
        self._pods = client.resource('Pod', 'v1')

    def get_job(self, namespace, name):
        try:
            return to_dict(call('reading Job %s/%s' % (namespace, name),
                                self._client.get, self._jobs, name=name, namespace=namespace))
        except JobApiError as exc:
            if exc.status == 404:
                return None
            raise

    def create_job(self, namespace, definition):
        return to_dict(call('creating Job %s/%s' % (namespace, definition['metadata']['name']),
                            self._client.create, self._jobs, definition, namespace=namespace))

    def delete_job(self, namespace, name):
        try:
            call('deleting Job %s/%s' % (namespace, name), self._client.delete, self._jobs,
                 name=name, namespace=namespace, propagation_policy='Background')
        except JobApiError as exc:
            if exc.status != 404:
                raise

    def list_pods(self, namespace, selector):
        result = to_dict(call('listing pods of %s' % selector, self._client.get, self._pods,
                              namespace=namespace, label_selector=selector))
        return list((result or {}).get('items') or [])

    def read_log(self, namespace, pod, container, tail_lines=None):
        query = [('container', container)]
        if tail_lines:
            query.append(('tailLines', int(tail_lines)))
        response = call('reading logs of %s/%s' % (pod, container), self._pods.log.get,
                        name=pod, namespace=namespace, serialize=False, query_params=query)
        data = getattr(response, 'data', response)
        if isinstance(data, bytes):
            data = data.decode('utf-8', 'replace')
        return data or ''


class JobRunner(object):
    """Runs one Job to completion: create (or find) it, wait, collect logs, decide."""

    def __init__(self, api, namespace, poll_interval=2, clock=None, sleep=None):
        self.api = api
        self.namespace = namespace
        self.poll_interval = poll_interval
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep

    # -- pieces -----------------------------------------------------------------------------
    def wait(self, name, deadline):
        """Poll until the Job succeeds or fails, or the deadline passes. Returns (job, state)."""
        while True:
            job = self.api.get_job(self.namespace, name)
            if job is None:
                raise JobRunError('Job %s/%s disappeared while waiting for it (deleted, or removed by '
                                  'ttlSecondsAfterFinished); its outcome is unknown' % (self.namespace, name))
            state = job_state(job)
            if state != STATE_RUNNING:
                return job, state
            delay = next_poll_delay(self.clock(), deadline, self.poll_interval)
            if delay <= 0:
                return job, STATE_TIMEOUT
            self.sleep(delay)

    def wait_deleted(self, name, deadline):
        while self.api.get_job(self.namespace, name) is not None:
            delay = next_poll_delay(self.clock(), deadline, self.poll_interval)
            if delay <= 0:
                raise JobRunError('Job %s/%s was deleted to be replaced but is still there; '
                                  'retry once it is gone' % (self.namespace, name))
            self.sleep(delay)

    def collect_logs(self, job, tail_lines=None):
        """Logs of every container of every pod of the Job, oldest pod first."""
        pods = self.api.list_pods(self.namespace, pod_selector(job))
        pods.sort(key=lambda p: ((p.get('metadata') or {}).get('creationTimestamp') or '',
                                 (p.get('metadata') or {}).get('name') or ''))
        entries = []
        for pod in pods:
            pod_name = (pod.get('metadata') or {}).get('name')
            for container in pod_containers(pod):
                try:
                    text = self.api.read_log(self.namespace, pod_name, container, tail_lines)
                    lines = text.splitlines()
                except JobApiError as exc:
                    lines = ['(logs unavailable: %s)' % exc]
                entries.append({'pod': pod_name, 'container': container, 'lines': lines})
        return entries

    # -- the whole run ----------------------------------------------------------------------
    def run(self, definition, wait_timeout=600, delete_on_success=False, replace_failed=False,
            log_lines=None, check_mode=False):
        """Returns the module result; raises JobRunError (with ``result``) when the Job fails."""
        name = definition['metadata']['name']
        ref = '%s/%s' % (self.namespace, name)
        wanted = definition['metadata']['annotations'][SPEC_HASH_ANNOTATION]
        start = self.clock()
        deadline = deadline_for(start, wait_timeout)
        result = dict(changed=False, created=False, job={}, logs=[], pod_logs=[], duration_seconds=None,
                      state=None)

        existing = self.api.get_job(self.namespace, name)
        if existing is not None:
            same = ((existing.get('metadata') or {}).get('annotations') or {}).get(SPEC_HASH_ANNOTATION) == wanted
            state = job_state(existing)
            if same and state == STATE_SUCCEEDED:
                return self._finish(existing, state, result, log_lines, start, measured=False)
            if same and state == STATE_FAILED and not replace_failed:
                self._finish(existing, state, result, log_lines, start, measured=False)
                raise JobRunError(self._failure_message(
                    'Job %s already ran with this spec and failed (%s); it was not run again: fix the cause, then '
                    'delete the Job or set replace_failed=true' % (ref, failure_reason(existing)), result), result)
            if same and state == STATE_RUNNING:
                result['state'] = state
                result['job'] = job_summary(existing)
                if check_mode:
                    result['msg'] = 'Job %s is already running; a real run waits for it' % ref
                    return result
                job, state = self.wait(name, deadline)
                return self._conclude(job, state, result, log_lines, start, delete_on_success, ref, wait_timeout)
            if state == STATE_RUNNING:
                raise JobRunError('Job %s is still running with a different spec; wait for it to finish or '
                                  'delete it, then re-run' % ref, result)
            # Finished with another spec, or failed and replace_failed: replace it.
            result['changed'] = True
            if check_mode:
                result['msg'] = 'Job %s would be replaced and run' % ref
                return result
            self.api.delete_job(self.namespace, name)
            self.wait_deleted(name, deadline)
        else:
            result['changed'] = True
            if check_mode:
                result['msg'] = 'Job %s would be created and run' % ref
                return result

        self.api.create_job(self.namespace, definition)
        result['changed'] = True
        result['created'] = True
        job, state = self.wait(name, deadline)
        return self._conclude(job, state, result, log_lines, start, delete_on_success, ref, wait_timeout)

    def _finish(self, job, state, result, log_lines, start, measured=True):
        pod_logs = self.collect_logs(job, log_lines)
        duration = job_duration_seconds(job)
        if duration is None and measured:
            duration = round(self.clock() - start, 1)
        result.update(job=job_summary(job), state=state, pod_logs=pod_logs, logs=flatten_logs(pod_logs),
                      duration_seconds=duration)
        return result

    def _conclude(self, job, state, result, log_lines, start, delete_on_success, ref, wait_timeout):
        self._finish(job, state, result, log_lines, start)
        if state == STATE_SUCCEEDED:
            if delete_on_success:
                self.api.delete_job(self.namespace, job['metadata']['name'])
                result['deleted'] = True
            return result
        if state == STATE_FAILED:
            raise JobRunError(self._failure_message('Job %s failed (%s)' % (ref, failure_reason(job)), result),
                              result)
        raise JobRunError(self._failure_message(
            'Job %s did not finish within %s seconds; it was left running (a re-run with the same spec waits '
            'for it again)' % (ref, wait_timeout), result), result)

    @staticmethod
    def _failure_message(head, result, count=DEFAULT_FAILURE_LINES):
        lines = tail(result.get('logs') or [], count)
        if not lines:
            return '%s. No log lines were available.' % head
        return '%s. Last %d log line%s:\n%s' % (head, len(lines), '' if len(lines) == 1 else 's', '\n'.join(lines))
