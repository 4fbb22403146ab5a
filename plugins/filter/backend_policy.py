# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: backend_policy
short_description: What an environment's policy asks for
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Given an environment (C(backend_environment)), returns what the collection's settings table asks of
    it, for playbooks that must act on it (C(playbooks/render.yml) resolves image digests where they are
    pinned; an AWX survey asks for approval where a migration Job needs it).
  - An environment the table does not know fails, naming those it knows.
options:
  _input:
    description: The environment.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Resolve the digests where the environment pins them
  ansible.builtin.include_role:
    name: laravel_ops.k8s.image
    tasks_from: lookup
  when: (backend_environment | laravel_ops.k8s.backend_policy).pins_digests
"""

RETURN = r"""
_value:
  description: The policy in short.
  type: dict
  contains:
    pins_digests:
      description: Whether deployed images must carry a digest.
      type: bool
    needs_approval:
      description: Whether a migration Job needs C(backend_migrations_approved).
      type: bool
    allowed:
      description: For each variable the policy limits to some values, those values.
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.laravel_ops.k8s.plugins.module_utils import _policy
from ansible_collections.laravel_ops.k8s.plugins.module_utils._settings import DIGEST_PINNED_ENVIRONMENTS, ENVIRONMENTS


def backend_policy(environment):
    if environment not in ENVIRONMENTS:
        raise AnsibleFilterError('laravel_ops.k8s.backend_policy: %r is not an environment; allowed: %s' % (
            environment, ', '.join(ENVIRONMENTS)))
    return dict(
        pins_digests=environment in DIGEST_PINNED_ENVIRONMENTS,
        needs_approval=_policy.needs_approval(environment),
        allowed=dict((setting['name'], list(rule['allowed'])) for setting, rule in _policy.rules_in(environment)
                     if 'allowed' in rule),
    )


class FilterModule(object):
    """The environment policy of the Laravel backend."""

    def filters(self):
        return {'backend_policy': backend_policy}
