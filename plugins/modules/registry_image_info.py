#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: registry_image_info
short_description: Ask an image registry which images exist at their tags, and their digests
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Sends one C(HEAD /v2/<repository>/manifests/<tag>) per image and returns, for each, the image with
    the digest the registry holds at that tag, or no digest when the tag is absent.
  - Every image is read through the collection's one image-reference parser.
  - Basic authentication is sent; a registry answering with a Bearer challenge is asked for a token
    with the same credentials.
  - Fails, naming the image, when a registry cannot be reached or refuses the credentials.
  - Runs on the controller (an action plugin), where the deploy's other registry work runs too.
extends_documentation_fragment:
  - laravel_ops.k8s.attributes
  - laravel_ops.k8s.attributes.info_module
options:
  images:
    description:
      - The images, each a mapping with C(registry), C(repository) and C(tag) (a C(digest) is ignored).
    type: list
    elements: dict
    required: true
  username:
    description: Registry user; empty asks anonymously.
    type: str
    default: ''
  password:
    description: Registry password or token.
    type: str
    default: ''
  scheme:
    description: Scheme of the registry API; C(http) only for a registry on loopback.
    type: str
    choices: [https, http]
    default: https
  validate_certs:
    description: Verify the registry's TLS certificate.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Look for the images of this build
  laravel_ops.k8s.registry_image_info:
    images:
      - {registry: registry.example.com, repository: acme/backend-php, tag: 4f53cda18c2b}
      - {registry: registry.example.com, repository: acme/backend-nginx, tag: 4f53cda18c2b}
    username: "{{ lookup('ansible.builtin.env', 'LARAVEL_OPS_REGISTRY_USERNAME') }}"
    password: "{{ lookup('ansible.builtin.env', 'LARAVEL_OPS_REGISTRY_PASSWORD') }}"
  register: found
"""

RETURN = r"""
images:
  description: The images in the order given, each with C(digest) set when the registry holds the tag.
  returned: success
  type: list
  elements: dict
  sample:
    - {registry: registry.example.com, repository: acme/backend-php, tag: 4f53cda18c2b,
       digest: "sha256:0b5a7c1f4e2d9c3b5a7c1f4e2d9c3b5a7c1f4e2d9c3b5a7c1f4e2d9c3b5a7c1f"}
    - {registry: registry.example.com, repository: acme/backend-nginx, tag: 4f53cda18c2b, digest: ''}
missing:
  description: The references of the images the registry does not hold.
  returned: success
  type: list
  elements: str
  sample: [registry.example.com/acme/backend-nginx:4f53cda18c2b]
"""
