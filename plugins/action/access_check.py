# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""access_check, run in the controller's process: one rules review needs no module shipped to a host
(the documentation is in plugins/modules/access_check.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.laravel_ops.k8s.plugins.module_utils._access import granted_rules, missing
from ansible_collections.laravel_ops.k8s.plugins.module_utils._k8s_api import ApiError, call, to_dict
from ansible_collections.laravel_ops.k8s.plugins.plugin_utils._cluster_action import ClusterAction


def caller(client):
    """Who the credential is, as the API server sees it (a SelfSubjectReview); None when it cannot say."""
    try:
        api = client.resources.get(api_version='authentication.k8s.io/v1', kind='SelfSubjectReview')
        review = to_dict(call('review the caller', api.create, body={
            'apiVersion': 'authentication.k8s.io/v1', 'kind': 'SelfSubjectReview'}))
        return ((review.get('status') or {}).get('userInfo') or {}).get('username')
    except Exception:  # an API server without SelfSubjectReview: the message does without the name
        return None


class ActionModule(ClusterAction):

    ARGUMENT_SPEC = dict(
        namespace=dict(type='str', required=True),
        rules=dict(type='list', elements='dict', required=True),
        grant_hint=dict(type='str', default=''),
    )

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.cluster_args()
        namespace = args['namespace']
        try:
            client = self.client()
            granted, complete = granted_rules(client, namespace)
        except ApiError as exc:
            return dict(result, failed=True, msg=str(exc))
        except Exception as exc:  # the client's own errors: no API, bad credentials
            return dict(result, failed=True, msg=self.unreachable(exc))
        lacking = missing(args['rules'], granted)
        result.update(changed=False, missing=lacking, complete=complete)
        if lacking and complete:
            who = caller(client)
            result.update(failed=True, msg='The credential%s lacks %d permission%s in namespace %s: %s.%s' % (
                ' (%s)' % who if who else '', len(lacking), '' if len(lacking) == 1 else 's', namespace,
                ', '.join(lacking), ' ' + args['grant_hint'] if args['grant_hint'] else ''))
        elif lacking:
            result['warnings'] = ['The API server lists only part of the credential\'s permissions in %s; these '
                                  'may be missing: %s' % (namespace, ', '.join(lacking))]
        return result
