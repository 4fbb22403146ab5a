# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: image_tag
short_description: Whether a string is an image tag
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - True for a Docker tag (letters, digits, C(_), C(.) and C(-), 128 at most, not starting with C(.) or C(-)),
    as the collection's one image-reference parser reads tags.
options:
  _input:
    description: The string.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check the tag of a build
  ansible.builtin.assert:
    that: image_tag is laravel_ops.k8s.image_tag
"""

RETURN = r"""
_value:
  description: Whether the input is a non-empty tag.
  type: bool
"""

from ansible_collections.laravel_ops.k8s.plugins.module_utils._image_reference import field_problem


def image_tag(value):
    return isinstance(value, str) and value != '' and field_problem('tag', value) is None


class TestModule(object):
    """Image tags."""

    def tests(self):
        return {'image_tag': image_tag}
