#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: deploy_lock
short_description: One deploy of a release at a time, through a Lease in its namespace
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - With O(state=present), takes the Lease O(name) in O(namespace) for O(holder), or renews it when O(holder)
    holds it already. When someone else holds a Lease that has not expired, fails at once, naming the
    holder, since when, and until when it holds it.
  - A Lease whose holder stopped renewing expires O(duration) seconds after its last renewal, and the next
    deploy takes it over, so a deploy that died cannot block the release for ever.
  - With O(state=absent), gives the Lease back when O(holder) holds it; a Lease of someone else is left alone.
  - Every write carries the resourceVersion it read, so two deploys racing for one Lease cannot both win.
  - Runs on the controller (an action plugin), with the cluster credentials kubernetes.core's modules take
    (the options below, or C(K8S_AUTH_*) from the environment).
  - The lock is the deploy's own bookkeeping, not something the deploy manages, so taking and giving it
    back is never reported as a change.
extends_documentation_fragment:
  - laravel_ops.k8s.cluster_auth
  - laravel_ops.k8s.attributes
  - laravel_ops.k8s.attributes.actiongroup_cluster
attributes:
  check_mode:
    support: full
    details:
      - Takes no Lease, and fails the same way when someone else holds it.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Taking and giving back the lock report no change.
options:
  name:
    description: Name of the Lease.
    type: str
    required: true
  namespace:
    description: Namespace of the Lease, the release's.
    type: str
    required: true
  holder:
    description: Who takes the lock, as other deploys will read it (e.g. C(AWX job 42 (alice)) or C(bob@laptop run 1f2e)).
    type: str
    required: true
  duration:
    description: Seconds the Lease stays held after its last renewal.
    type: int
    default: 1800
  state:
    description: V(present) takes or renews the lock, V(absent) gives it back.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description: Labels of the Lease.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Take the release's lock
  laravel_ops.k8s.deploy_lock:
    name: backend-deploy
    namespace: backend-prod
    holder: "AWX job {{ awx_job_id }}"
    duration: 1800
"""

RETURN = r"""
action:
  description: What taking the lock did, V(create), V(renew) or V(take_over) (an expired Lease of someone else).
  returned: state=present
  type: str
  sample: create
holder:
  description: The holder of the Lease, after the call.
  returned: always
  type: str
  sample: AWX job 42 (alice)
expires:
  description: When the Lease expires unless renewed or given back.
  returned: state=present
  type: str
  sample: "2026-11-29T18:02:11.000000Z"
"""
