#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: access_check
short_description: Check that the cluster credential may do what a deploy does in a namespace
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Asks the API server which permissions the credential has in O(namespace) (a SelfSubjectRulesReview)
    and reads the RBAC O(rules) against them.
  - Fails, naming the credential's user and every permission it lacks (as C(<resource>.<group> (<verbs>))),
    before anything in the cluster is changed. Where the API server lists only part of the permissions
    (an authorizer other than RBAC), it warns instead.
  - Runs on the controller (an action plugin), with the cluster credentials kubernetes.core's modules take
    (the options below, or C(K8S_AUTH_*) from the environment). The token is never shown.
extends_documentation_fragment:
  - laravel_ops.k8s.cluster_auth
  - laravel_ops.k8s.attributes
  - laravel_ops.k8s.attributes.actiongroup_cluster
attributes:
  check_mode:
    support: full
    details:
      - It only reads; it runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  namespace:
    description: The namespace the permissions are needed in.
    type: str
    required: true
  rules:
    description: The permissions needed, as the C(rules) of an RBAC Role.
    type: list
    elements: dict
    required: true
  grant_hint:
    description: What the failure message adds, e.g. how an admin grants the permissions.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Check the deployer may deploy to backend-prod
  laravel_ops.k8s.access_check:
    namespace: backend-prod
    rules:
      - apiGroups: [coordination.k8s.io]
        resources: [leases]
        verbs: [get, create, update, delete]
"""

RETURN = r"""
missing:
  description: The permissions the credential lacks, one C(<resource>.<group> (<verbs>)) per resource.
  returned: always
  type: list
  elements: str
  sample: [leases.coordination.k8s.io (create, delete)]
complete:
  description: Whether the API server listed every permission of the credential.
  returned: always
  type: bool
"""
