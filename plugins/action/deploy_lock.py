# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""deploy_lock, run in the controller's process: a few Lease calls need no module shipped to a host
(the documentation is in plugins/modules/deploy_lock.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime

from ansible_collections.laravel_ops.k8s.plugins.module_utils._deploy_lock import LeaseApi, LockHeld, run
from ansible_collections.laravel_ops.k8s.plugins.module_utils._k8s_api import ApiError
from ansible_collections.laravel_ops.k8s.plugins.plugin_utils._cluster_action import ClusterAction


class ActionModule(ClusterAction):

    ARGUMENT_SPEC = dict(
        name=dict(type='str', required=True),
        namespace=dict(type='str', required=True),
        holder=dict(type='str', required=True),
        duration=dict(type='int', default=1800),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        labels=dict(type='dict', default={}),
    )

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.cluster_args()
        try:
            result.update(run(args, LeaseApi(self.client()), self._task.check_mode, datetime.datetime.utcnow()))
        except (LockHeld, ApiError) as exc:
            result.update(failed=True, msg=str(exc))
        except Exception as exc:  # the client's own errors: no API, bad credentials
            result.update(failed=True, msg=self.unreachable(
                exc, ' for the deploy lock %s/%s' % (args['namespace'], args['name'])))
        return result
