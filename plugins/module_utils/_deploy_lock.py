# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One deploy of a release at a time: a coordination.k8s.io Lease in the release's namespace.

A holder that dies cannot block for ever: its Lease expires ``leaseDurationSeconds`` after its
last renewal, and the next deploy takes it over. Every write carries the resourceVersion it
read, so two deploys racing for the same Lease cannot both win.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime

from ansible_collections.laravel_ops.k8s.plugins.module_utils._k8s_api import ApiError, call, to_dict

MICROTIME = '%Y-%m-%dT%H:%M:%S.%fZ'


class LockHeld(Exception):
    """Someone else holds the lock; the message names them."""


def microtime(moment):
    return moment.strftime(MICROTIME)


def parse_time(text):
    text = text.rstrip('Z')
    for pattern in ('%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S'):
        try:
            return datetime.datetime.strptime(text, pattern)
        except ValueError:
            pass
    raise ValueError('not a Kubernetes time: %r' % text)


def expires_at(lease):
    spec = lease.get('spec') or {}
    renewed = spec.get('renewTime') or spec.get('acquireTime')
    if not renewed or not spec.get('leaseDurationSeconds'):
        return None
    return parse_time(renewed) + datetime.timedelta(seconds=int(spec['leaseDurationSeconds']))


def decide(lease, holder, now):
    """What acquiring does with the Lease as it is: ``create``, ``renew`` (ours), ``take_over``
    (expired) or raises LockHeld naming the holder and until when."""
    if lease is None:
        return 'create'
    spec = lease.get('spec') or {}
    current = spec.get('holderIdentity')
    if not current or current == holder:
        return 'renew'
    expiry = expires_at(lease)
    if expiry is None or expiry <= now:
        return 'take_over'
    raise LockHeld('%s holds it since %s, until %s unless it finishes first' % (
        current, spec.get('acquireTime', '?'), microtime(expiry)))


def lease_spec(holder, seconds, now, acquired=None, transitions=0):
    return {
        'holderIdentity': holder,
        'leaseDurationSeconds': int(seconds),
        'acquireTime': acquired or microtime(now),
        'renewTime': microtime(now),
        'leaseTransitions': transitions,
    }


class LeaseApi(object):
    """The Lease calls of the lock, over kubernetes.core's K8SClient."""

    def __init__(self, client):
        self._client = client
        self._leases = client.resource('Lease', 'coordination.k8s.io/v1')

    def get(self, namespace, name):
        try:
            return to_dict(call('reading Lease %s/%s' % (namespace, name), self._client.get, self._leases,
                                name=name, namespace=namespace))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def create(self, namespace, body):
        return to_dict(call('creating Lease %s/%s' % (namespace, body['metadata']['name']), self._client.create,
                            self._leases, body, namespace=namespace))

    def replace(self, namespace, body):
        return to_dict(call('updating Lease %s/%s' % (namespace, body['metadata']['name']), self._client.replace,
                            self._leases, body, name=body['metadata']['name'], namespace=namespace))

    def delete(self, namespace, name):
        call('deleting Lease %s/%s' % (namespace, name), self._client.delete, self._leases, name=name,
             namespace=namespace)


def acquire(api, namespace, name, holder, seconds, now, labels=None, check_mode=False):
    """Take or renew the lock; returns ``(changed, action, lease)``. Raises LockHeld."""
    lease = api.get(namespace, name)
    action = decide(lease, holder, now)
    if check_mode:
        return action != 'renew', action, lease
    if action == 'create':
        body = {'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease',
                'metadata': {'name': name, 'namespace': namespace, 'labels': labels or {}},
                'spec': lease_spec(holder, seconds, now)}
        try:
            return True, action, api.create(namespace, body)
        except ApiError as exc:
            if exc.status != 409:
                raise
            # Another deploy created it between our read and our write.
            return acquire(api, namespace, name, holder, seconds, now, labels)
    spec = lease.get('spec') or {}
    renewing = action == 'renew' and spec.get('holderIdentity') == holder
    body = dict(lease, spec=lease_spec(holder, seconds, now, spec.get('acquireTime') if renewing else None,
                                       int(spec.get('leaseTransitions') or 0) + (0 if renewing else 1)))
    try:
        return True, action, api.replace(namespace, body)
    except ApiError as exc:
        if exc.status != 409:
            raise
        # The Lease changed since we read it (its resourceVersion no longer matches): read again.
        return acquire(api, namespace, name, holder, seconds, now, labels)


def release(api, namespace, name, holder, check_mode=False):
    """Give the lock back if we hold it; returns ``(changed, holder found)``."""
    lease = api.get(namespace, name)
    if lease is None:
        return False, None
    current = (lease.get('spec') or {}).get('holderIdentity')
    if current != holder:
        return False, current
    if not check_mode:
        api.delete(namespace, name)
    return True, current


def run(params, api, check_mode, now):
    """The deploy_lock action: ``params`` as documented; raises LockHeld with what to do."""
    name, namespace, holder = params['name'], params['namespace'], params['holder']
    if params['state'] == 'absent':
        _changed, found = release(api, namespace, name, holder, check_mode)
        return dict(changed=False, holder=found)
    try:
        _changed, action, lease = acquire(api, namespace, name, holder, params['duration'], now, params['labels'],
                                          check_mode)
    except LockHeld as exc:
        raise LockHeld('%s/%s is being deployed: %s. Nothing was changed. Wait for that deploy, or, if it is '
                       'dead, for the lock to expire (or delete Lease %s/%s).' % (namespace, name, exc, namespace,
                                                                                  name))
    expiry = expires_at(lease) if lease and not check_mode else now + datetime.timedelta(seconds=params['duration'])
    return dict(changed=False, action=action, holder=holder, expires=microtime(expiry))
