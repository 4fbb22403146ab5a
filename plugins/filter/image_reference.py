# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: image_reference
short_description: Write an image mapping as a reference, or read a reference into a mapping
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Given a mapping with C(registry), C(repository), C(tag) and C(digest) (the shape of the chart's
    C(image) values and of C(image_result.images)), returns C(registry/repository:tag@digest), leaving out
    what is empty.
  - Given a string, returns that mapping, the registry told from the first path component as the
    Docker CLI tells it.
  - Both go through the collection's one image-reference parser; a reference it refuses fails the
    task, naming the field and what is allowed.
options:
  _input:
    description:
      - An image mapping or a reference string.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Name the pushed php-fpm image
  ansible.builtin.debug:
    msg: "{{ image_result.images.backend_php_image | laravel_ops.k8s.image_reference }}"

- name: Split a reference
  ansible.builtin.debug:
    # {"registry": "registry.example.com:5000", "repository": "acme/backend-php", "tag": "1.4.0"}
    msg: "{{ 'registry.example.com:5000/acme/backend-php:1.4.0' | laravel_ops.k8s.image_reference }}"
"""

RETURN = r"""
_value:
  description:
    - The reference string for a mapping, the mapping for a string.
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.laravel_ops.k8s.plugins.module_utils import _image_reference


def image_reference(image):
    try:
        if isinstance(image, str):
            return _image_reference.parse(image).as_dict()
        return str(_image_reference.from_mapping(image))
    except ValueError as exc:
        raise AnsibleFilterError('laravel_ops.k8s.image_reference: %s is not an image reference: %s' % (image, exc))


class FilterModule(object):
    """Image references."""

    def filters(self):
        return {'image_reference': image_reference}
