# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""deploy_lock, run in the controller's process: a few Lease calls need no module shipped to a host
(the documentation is in plugins/modules/deploy_lock.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import datetime

from ansible.plugins.action import ActionBase

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.laravel_ops.k8s.plugins.module_utils._deploy_lock import LeaseApi, LockHeld, run
from ansible_collections.laravel_ops.k8s.plugins.module_utils._k8s_api import ApiError

ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    namespace=dict(type='str', required=True),
    holder=dict(type='str', required=True),
    duration=dict(type='int', default=1800),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    labels=dict(type='dict', default={}),
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        spec = copy.deepcopy(AUTH_ARG_SPEC)
        spec.update(ARGUMENT_SPEC)
        _validation, args = self.validate_argument_spec(argument_spec=spec)
        # kubernetes.core's client reads K8S_AUTH_* from the environment for what is not given.
        auth = dict((key, value) for key, value in args.items() if key in AUTH_ARG_SPEC and value is not None)
        try:
            api = LeaseApi(get_api_client(**auth))
            result.update(run(args, api, self._task.check_mode, datetime.datetime.utcnow()))
        except (LockHeld, ApiError) as exc:
            result.update(failed=True, msg=str(exc))
        except Exception as exc:  # the client's own errors: no API, bad credentials
            result.update(failed=True, msg='Cannot reach the Kubernetes API to take the deploy lock %s/%s: %s' % (
                args['namespace'], args['name'], exc))
        return result
