# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: backend_inventory
short_description: The backend_* inventory variables a role reads, with the collection's defaults
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Returns one dictionary of the C(backend_*) variables that O(role) reads, by their names, templated,
    with the default the collection's settings table gives each optional variable that is unset.
  - The settings table is the one list of inventory variables (see C(docs/inventory-variables.md));
    a role's C(meta/argument_specs.yml) declares the same variables.
  - Without O(role), every C(backend_*) variable is returned, names the table does not know included,
    so that P(laravel_ops.k8s.backend_inventory_check#filter) can name a misspelt one.
  - With O(images), the tags and digests an image build produced are laid over the image variables,
    so the result is the inventory as this deploy runs it.
  - An image variable whose switch is off (C(backend_pgbouncer_image) without C(backend_pgbouncer_enabled),
    C(backend_postgresql_image) without C(backend_database_in_cluster)) is left out of a role's result.
  - The result holds the secrets when the inventory does, so use it in tasks with C(no_log=true) or
    pass it straight to a filter that never returns them.
options:
  role:
    description:
      - The role whose variables to return (the name C(deploy) stands for the deploy playbook); all
        C(backend_*) variables when not given. A name the settings table does not know is refused,
        with the list of those it knows.
    type: str
  images:
    description:
      - The images an image build produced, C(image_result.images) of the C(image) role, keyed by their
        inventory variable.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Check every inventory variable at once
  ansible.builtin.assert:
    that: lookup('laravel_ops.k8s.backend_inventory') | laravel_ops.k8s.backend_inventory_check is mapping
    quiet: true

- name: Read whether PgBouncer is on, false when the inventory does not say
  ansible.builtin.debug:
    msg: "{{ lookup('laravel_ops.k8s.backend_inventory', role='image').backend_pgbouncer_enabled }}"
"""

RETURN = r"""
_raw:
  description:
    - One dictionary of variable name to value.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.laravel_ops.k8s.plugins.module_utils.chart_values import (
    InputProblems,
    inventory_names,
    with_defaults,
    with_images,
)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        role = self.get_option('role')
        try:
            names = inventory_names(list(variables or {}), role)
            inventory = self._templar.template(dict((name, variables[name]) for name in names))
            return [with_images(with_defaults(inventory, role), self.get_option('images'), role)]
        except InputProblems as exc:
            raise AnsibleLookupError(exc.report('laravel_ops.k8s.backend_inventory'))
