# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # The options of the filters that check the inventory against the settings table.
    DOCUMENTATION = r"""
options:
  _input:
    description:
      - The inventory variables by name, as P(laravel_ops.k8s.backend_inventory#lookup) returns them.
    type: dict
    required: true
  for_deploy:
    description:
      - V(true) when the values go to a cluster; then a secret form is required and, where the
        environment's policy says so, images must carry a digest.
      - V(false) for rendering values files.
    type: bool
    default: true
  require_digest:
    description:
      - Whether the digest policy applies. V(null) follows O(for_deploy).
      - V(false) for a check before the images are built.
    type: bool
"""
