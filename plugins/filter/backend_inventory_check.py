# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: backend_inventory_check
short_description: Check the backend_* inventory variables, reporting every problem at once
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Checks the inventory variables, by name, as P(laravel_ops.k8s.backend_inventory#lookup) returns them,
    against the collection's settings table, and returns them unchanged when all is well.
  - Otherwise it fails with one line per problem, all problems together, each naming the variable,
    the bad value (C(<hidden>) for a secret) and what is allowed.
  - "Checked: each variable's kind (type, choices, names, URLs, image references through the
    collection's one image-reference parser), required variables, the rules among variables (one
    secret form, C(backend_replicas_max) not below C(backend_replicas_min), ...), the policy of
    C(backend_environment), also for the chart paths C(backend_chart_values) sets, and, without
    O(role), every C(backend_*) name the table does not know (a typo, mostly)."
extends_documentation_fragment:
  - laravel_ops.k8s.inventory
options:
  role:
    description:
      - Check only the variables this role reads (and the rules among them); all when not given.
    type: str
"""

EXAMPLES = r"""
- name: Check the whole inventory before the cluster is touched
  ansible.builtin.assert:
    that: lookup('laravel_ops.k8s.backend_inventory') | laravel_ops.k8s.backend_inventory_check(require_digest=false) is mapping
    quiet: true
"""

RETURN = r"""
_value:
  description:
    - The input, unchanged.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.laravel_ops.k8s.plugins.module_utils.chart_values import InputProblems, check_inventory


def backend_inventory_check(inventory, role=None, for_deploy=True, require_digest=None):
    try:
        check_inventory(inventory, role=role, for_deploy=for_deploy, require_digest=require_digest)
    except InputProblems as exc:
        raise AnsibleFilterError(exc.report('laravel_ops.k8s.backend_inventory_check'))
    return inventory


class FilterModule(object):
    """Inventory checks of the Laravel backend."""

    def filters(self):
        return {'backend_inventory_check': backend_inventory_check}
