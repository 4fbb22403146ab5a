# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The deploy lock's own logic, over an in-memory stand-in of the Lease API that keeps
resourceVersions the way the API server does (a write with a stale one gets 409)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import datetime

import pytest

from ansible_collections.laravel_ops.k8s.plugins.module_utils._deploy_lock import (
    LockHeld,
    acquire,
    decide,
    release,
    run as execute,
)
from ansible_collections.laravel_ops.k8s.plugins.module_utils._k8s_api import ApiError

NOW = datetime.datetime(2026, 11, 29, 17, 0, 0)


class FakeLeases(object):
    def __init__(self):
        self.leases = {}
        self.version = 0
        self.before_write = None  # a callable run once before the next write: another deploy racing

    def _race(self):
        if self.before_write:
            race, self.before_write = self.before_write, None
            race()

    def get(self, namespace, name):
        lease = self.leases.get((namespace, name))
        return copy.deepcopy(lease)

    def create(self, namespace, body):
        self._race()
        key = (namespace, body['metadata']['name'])
        if key in self.leases:
            raise ApiError('creating Lease: already exists', 409)
        self.version += 1
        stored = copy.deepcopy(body)
        stored['metadata']['resourceVersion'] = str(self.version)
        self.leases[key] = stored
        return copy.deepcopy(stored)

    def replace(self, namespace, body):
        self._race()
        key = (namespace, body['metadata']['name'])
        if self.leases[key]['metadata']['resourceVersion'] != body['metadata'].get('resourceVersion'):
            raise ApiError('updating Lease: the object has been modified', 409)
        return self.create_over(key, body)

    def create_over(self, key, body):
        self.version += 1
        stored = copy.deepcopy(body)
        stored['metadata']['resourceVersion'] = str(self.version)
        self.leases[key] = stored
        return copy.deepcopy(stored)

    def delete(self, namespace, name):
        del self.leases[(namespace, name)]


def holder_of(api):
    return api.leases[('backend', 'backend-deploy')]['spec']['holderIdentity']


def test_first_deploy_creates_and_a_second_is_refused_naming_the_first():
    api = FakeLeases()
    changed, action, _lease = acquire(api, 'backend', 'backend-deploy', 'alice run 1', 600, NOW)
    assert (changed, action, holder_of(api)) == (True, 'create', 'alice run 1')
    with pytest.raises(LockHeld) as info:
        acquire(api, 'backend', 'backend-deploy', 'bob run 2', 600, NOW + datetime.timedelta(seconds=30))
    assert 'alice run 1 holds it since 2026-11-29T17:00:00.000000Z, until 2026-11-29T17:10:00.000000Z' in str(info.value)
    assert holder_of(api) == 'alice run 1'


def test_the_holder_renews_keeping_its_acquire_time():
    api = FakeLeases()
    acquire(api, 'backend', 'backend-deploy', 'alice run 1', 600, NOW)
    changed, action, lease = acquire(api, 'backend', 'backend-deploy', 'alice run 1', 600, NOW + datetime.timedelta(minutes=5))
    assert (changed, action) == (True, 'renew')
    assert lease['spec']['acquireTime'] == '2026-11-29T17:00:00.000000Z'
    assert lease['spec']['renewTime'] == '2026-11-29T17:05:00.000000Z'


def test_an_expired_lock_of_a_dead_deploy_is_taken_over():
    api = FakeLeases()
    acquire(api, 'backend', 'backend-deploy', 'alice run 1', 600, NOW)
    changed, action, lease = acquire(api, 'backend', 'backend-deploy', 'bob run 2', 600, NOW + datetime.timedelta(minutes=11))
    assert (changed, action, holder_of(api)) == (True, 'take_over', 'bob run 2')
    assert lease['spec']['leaseTransitions'] == 1


def test_a_race_for_an_expired_lock_has_one_winner():
    api = FakeLeases()
    acquire(api, 'backend', 'backend-deploy', 'alice run 1', 600, NOW)
    later = NOW + datetime.timedelta(minutes=11)
    # carol takes the expired Lease between bob's read and bob's write.
    api.before_write = lambda: acquire(api, 'backend', 'backend-deploy', 'carol run 3', 600, later)
    with pytest.raises(LockHeld, match='carol run 3 holds it'):
        acquire(api, 'backend', 'backend-deploy', 'bob run 2', 600, later)
    assert holder_of(api) == 'carol run 3'


def test_a_race_to_create_has_one_winner():
    api = FakeLeases()
    api.before_write = lambda: acquire(api, 'backend', 'backend-deploy', 'carol run 3', 600, NOW)
    with pytest.raises(LockHeld, match='carol run 3 holds it'):
        acquire(api, 'backend', 'backend-deploy', 'bob run 2', 600, NOW)


def test_release_only_by_the_holder():
    api = FakeLeases()
    acquire(api, 'backend', 'backend-deploy', 'alice run 1', 600, NOW)
    assert release(api, 'backend', 'backend-deploy', 'bob run 2') == (False, 'alice run 1')
    assert ('backend', 'backend-deploy') in api.leases
    assert release(api, 'backend', 'backend-deploy', 'alice run 1') == (True, 'alice run 1')
    assert api.leases == {}
    assert release(api, 'backend', 'backend-deploy', 'alice run 1') == (False, None)


def test_check_mode_writes_nothing_and_still_refuses():
    api = FakeLeases()
    assert acquire(api, 'backend', 'backend-deploy', 'alice run 1', 600, NOW, check_mode=True)[:2] == (True, 'create')
    assert api.leases == {}
    acquire(api, 'backend', 'backend-deploy', 'alice run 1', 600, NOW)
    with pytest.raises(LockHeld):
        acquire(api, 'backend', 'backend-deploy', 'bob run 2', 600, NOW, check_mode=True)


def test_a_lease_without_times_counts_as_expired():
    assert decide({'spec': {'holderIdentity': 'someone'}}, 'me', NOW) == 'take_over'
    assert decide({'spec': {}}, 'me', NOW) == 'renew'


def test_the_module_message_says_what_to_do():
    api = FakeLeases()
    params = dict(name='backend-deploy', namespace='backend', holder='alice run 1', duration=600, state='present',
                  labels={})
    assert execute(params, api, False, NOW)['expires'] == '2026-11-29T17:10:00.000000Z'
    with pytest.raises(LockHeld) as info:
        execute(dict(params, holder='bob run 2'), api, False, NOW)
    message = str(info.value)
    assert message.startswith('backend/backend-deploy is being deployed: alice run 1 holds it')
    assert 'Nothing was changed' in message and 'delete Lease backend/backend-deploy' in message
    assert execute(dict(params, state='absent'), api, False, NOW) == dict(changed=False, holder='alice run 1')
    assert api.leases == {}, "given back, though the deploy's bookkeeping reports no change"


def _kubeconfig(path, server):
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
        "clusters:\n- name: main\n  cluster: {server: '%s'}\n- name: other\n  cluster: {server: 'https://other:6443'}\n"
        "users:\n- name: admin\n  user: {token: not-a-real-token}\n"
        "contexts:\n- name: main\n  context: {cluster: main, user: admin}\n"
        "- name: other\n  context: {cluster: other, user: admin}\n" % server)
    return str(path)


def test_api_server_names_where_the_client_was_pointed(tmp_path):
    from ansible_collections.laravel_ops.k8s.plugins.plugin_utils._cluster_action import api_server

    config = _kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:9")
    # the task's options first, then K8S_AUTH_* as kubernetes.core reads them, then KUBECONFIG
    assert api_server({"host": "https://api.example.com:6443"}, environ={}) == "https://api.example.com:6443"
    assert api_server({}, environ={"K8S_AUTH_HOST": "https://awx-injected:6443"}) == "https://awx-injected:6443"
    assert api_server({"kubeconfig": config}, environ={}) == "https://127.0.0.1:9 (kubeconfig %s)" % config
    assert api_server({}, environ={"K8S_AUTH_KUBECONFIG": config, "K8S_AUTH_CONTEXT": "other"}) == (
        "https://other:6443 (kubeconfig %s, context other)" % config)
    assert api_server({}, environ={"KUBECONFIG": config}) == "https://127.0.0.1:9 (kubeconfig %s)" % config
    # nothing to tell it by: the caller says where it looked instead
    assert api_server({"kubeconfig": str(tmp_path / "missing")}, environ={}) is None
