# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The deployer's Role read against the permissions a credential has in a namespace."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import yaml

from ansible_collections.laravel_ops.k8s.plugins.module_utils._access import allows, missing, needed

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
LEASES = [{'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'], 'verbs': ['get', 'create']}]
LOGS = [{'apiGroups': [''], 'resources': ['pods/log'], 'verbs': ['get']}]


def deployer_rules():
    with open(os.path.join(ROOT, 'roles', 'deployer', 'vars', 'main.yml')) as handle:
        return yaml.safe_load(handle)['deployer_rules']


def test_each_permission_of_the_rules_once_in_order():
    assert needed(LEASES + LEASES + LOGS) == [('coordination.k8s.io', 'leases', 'get'),
                                             ('coordination.k8s.io', 'leases', 'create'), ('', 'pods/log', 'get')]


def test_cluster_admin_lacks_nothing():
    admin = [{'apiGroups': ['*'], 'resources': ['*'], 'verbs': ['*']}]
    assert missing(deployer_rules(), admin) == []


def test_the_deployer_s_own_role_is_enough():
    assert missing(deployer_rules(), deployer_rules()) == []


def test_what_is_lacking_is_named_verb_resource_group():
    granted = [{'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'], 'verbs': ['get']}]
    assert missing(LEASES + LOGS, granted) == ['leases.coordination.k8s.io (create)', 'pods/log (get)']
    assert missing(LEASES, []) == ['leases.coordination.k8s.io (get, create)']


def test_a_subresource_wildcard_and_a_verb_wildcard_allow():
    assert allows([{'apiGroups': [''], 'resources': ['pods/*'], 'verbs': ['*']}], '', 'pods/log', 'get')
    assert not allows([{'apiGroups': [''], 'resources': ['pods'], 'verbs': ['*']}], '', 'pods/log', 'get')


def test_a_rule_limited_to_some_objects_does_not_allow_them_all():
    named = [{'apiGroups': [''], 'resources': ['secrets'], 'verbs': ['get'], 'resourceNames': ['one']}]
    assert not allows(named, '', 'secrets', 'get')


def test_the_core_group_is_not_any_group():
    assert not allows([{'apiGroups': ['apps'], 'resources': ['*'], 'verbs': ['*']}], '', 'secrets', 'get')
