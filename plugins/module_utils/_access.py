# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Whether a credential may do what a deploy does in a namespace: the RBAC rules it needs, read
against the rules the API server says it has there (a SelfSubjectRulesReview), so that a token
short of a permission stops the deploy before anything changes, naming what it lacks."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.laravel_ops.k8s.plugins.module_utils._k8s_api import call, to_dict


def needed(rules):
    """``(group, resource, verb)`` for every permission of a list of RBAC rules, in their order."""
    found = []
    for rule in rules:
        for group in rule.get('apiGroups') or ['']:
            for resource in rule.get('resources') or []:
                for verb in rule.get('verbs') or []:
                    if (group, resource, verb) not in found:
                        found.append((group, resource, verb))
    return found


def _covers(have, want):
    return '*' in have or want in have


def _resource_covered(have, resource):
    if _covers(have, resource):
        return True
    parent, _slash, _sub = resource.partition('/')
    return bool(_slash) and parent + '/*' in have


def allows(granted, group, resource, verb):
    """Whether one of the granted rules (a rules review's resourceRules) allows the permission on
    every object; a rule limited to some resourceNames does not."""
    for rule in granted:
        if rule.get('resourceNames'):
            continue
        if (_covers(rule.get('apiGroups') or [''], group) and _resource_covered(rule.get('resources') or [], resource)
                and _covers(rule.get('verbs') or [], verb)):
            return True
    return False


def missing(needed_rules, granted):
    """What ``granted`` lacks of ``needed_rules``, one ``<resource>.<group> (<verbs>)`` per resource,
    in the rules' order."""
    lacking = {}
    for group, resource, verb in needed(needed_rules):
        if not allows(granted, group, resource, verb):
            lacking.setdefault(resource + ('.' + group if group else ''), []).append(verb)
    return ['%s (%s)' % (name, ', '.join(verbs)) for name, verbs in lacking.items()]


def granted_rules(client, namespace):
    """The resourceRules the API server grants the caller in ``namespace``, and whether that list
    is complete (an authorizer that cannot list its rules leaves it incomplete)."""
    api = client.resources.get(api_version='authorization.k8s.io/v1', kind='SelfSubjectRulesReview')
    review = to_dict(call('review the permissions in namespace %s' % namespace, api.create, body={
        'apiVersion': 'authorization.k8s.io/v1', 'kind': 'SelfSubjectRulesReview',
        'spec': {'namespace': namespace}}))
    status = review.get('status') or {}
    return status.get('resourceRules') or [], not status.get('incomplete', False)
