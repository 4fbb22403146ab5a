# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The migration_plan decision, made on the controller: pure logic, so no module is shipped to a host
(the documentation is in plugins/modules/migration_plan.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.laravel_ops.k8s.plugins.module_utils.migrations import (
    MigrationPlanError,
    plan_migrations,
)

ARGUMENT_SPEC = dict(
    environment=dict(type='str', required=True),
    mode=dict(type='str', required=True),
    approved=dict(type='bool', default=False),
    release_exists=dict(type='bool', default=False),
    pending_image=dict(type='str', required=True),
    previous_image=dict(type='str', default=''),
)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            plan = plan_migrations(
                environment=args['environment'],
                mode=args['mode'],
                approved=args['approved'],
                release_exists=args['release_exists'],
                pending_image=args['pending_image'],
                previous_image=args['previous_image'] or '',
            )
        except MigrationPlanError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, **plan)
        return result
