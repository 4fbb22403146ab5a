# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""registry_image_info, run on the controller: a few HTTP requests need no module shipped to a host
(the documentation is in plugins/modules/registry_image_info.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.laravel_ops.k8s.plugins.module_utils._image_reference import from_mapping
from ansible_collections.laravel_ops.k8s.plugins.module_utils._registry import RegistryError, manifest_digest

ARGUMENT_SPEC = dict(
    images=dict(type='list', elements='dict', required=True),
    username=dict(type='str', default=''),
    password=dict(type='str', default='', no_log=True),
    scheme=dict(type='str', default='https', choices=['https', 'http']),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='int', default=30),
)


def find_images(images, username='', password='', scheme='https', validate_certs=True, timeout=30):
    """``(images with their digests, references the registry lacks)``; raises ValueError naming the image."""
    found, missing = [], []
    for index, image in enumerate(images):
        try:
            reference = from_mapping(dict(image, digest=None))
        except ValueError as exc:
            raise ValueError('images[%d]: %s; allowed: a mapping of registry, repository and tag' % (index, exc))
        if not reference.registry or not reference.tag:
            raise ValueError('images[%d] (%s): needs a registry and a tag to ask for' % (index, reference))
        try:
            digest = manifest_digest(reference, username, password, scheme, validate_certs, timeout)
        except RegistryError as exc:
            raise ValueError('Cannot ask the registry for %s: %s' % (reference, exc))
        found.append(dict(reference.as_dict(), digest=digest or ''))
        if not digest:
            missing.append(str(reference))
    return found, missing


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            found, missing = find_images(**args)
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, images=found, missing=missing)
        return result
