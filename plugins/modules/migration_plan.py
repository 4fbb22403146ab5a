#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: migration_plan
short_description: Decide how the database migrations of a deployment run
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Pure decision without cluster access. Given the environment, the migrations mode and what is
    being deployed, it tells whether the chart's Helm hook Jobs run the migrations (V(hooks)), an explicit
    Job must run before the rollout (V(job)), or nothing has to run (V(skip)).
  - V(skip) when O(mode=off), or when O(mode=job) and the release already runs the same image
    (same digest) as the one being deployed.
  - Fails, naming C(backend_migrations_approved), when the action would be V(job) where the
    environment's policy asks for approval (C(prod)) and O(approved) is not true; and when
    O(mode=hooks) where the policy forbids it (C(prod), since hook Jobs run after the new pods start).
  - The environments, the modes and the policy are those of the collection's settings table
    (C(docs/inventory-variables.md)); an unknown one is refused, naming what is allowed.
  - Runs on the controller (an action plugin, so no module is sent to a host).
extends_documentation_fragment:
  - laravel_ops.k8s.attributes
  - laravel_ops.k8s.attributes.info_module
options:
  environment:
    description:
      - The environment being deployed (C(backend_environment)).
    type: str
    required: true
  mode:
    description:
      - How migrations run (C(backend_migrations_mode)).
      - V(hooks) means Helm post-install/post-upgrade hook Jobs; V(job) an explicit Job before the
        rollout; V(off) that this collection does not run them.
    type: str
    required: true
  approved:
    description:
      - Whether a person approved running the migrations (C(backend_migrations_approved)).
      - Required to be V(true) for an explicit Job in C(prod).
    type: bool
    default: false
  release_exists:
    description:
      - Whether the Helm release is already installed.
    type: bool
    default: false
  pending_image:
    description:
      - The reference of the image being deployed, ideally pinned by digest (C(registry/repository:tag@sha256:...)).
    type: str
    required: true
  previous_image:
    description:
      - The reference of the image of the deployed release, if known. Empty when unknown.
    type: str
    default: ''
seealso:
  - module: laravel_ops.k8s.k8s_job_run
"""

EXAMPLES = r"""
- name: Decide how migrations run
  laravel_ops.k8s.migration_plan:
    environment: "{{ backend_environment }}"
    mode: "{{ backend_migrations_mode }}"
    approved: "{{ backend_migrations_approved | default(false) }}"
    release_exists: "{{ release_info.status is defined }}"
    pending_image: "{{ image_result.images.backend_php_image | laravel_ops.k8s.image_reference }}"
    previous_image: "{{ release_info.status['values'].php.image | laravel_ops.k8s.image_reference }}"
  register: migrations_plan

- name: Run the migration Job before the rollout
  laravel_ops.k8s.k8s_job_run:
    definition: "{{ migration_job }}"
    name: "backend-migrate-{{ migrations_plan.job_name_suffix }}"
    namespace: backend
  when: migrations_plan.action == 'job'
"""

RETURN = r"""
action:
  description:
    - V(hooks) (the chart's hook Jobs run the migrations), V(job) (run an explicit Job before the
      rollout) or V(skip) (nothing to run).
  returned: success
  type: str
  sample: job
job_name_suffix:
  description:
    - Short deterministic suffix for the migration Job name, taken from the image digest
      (lower-case hex, 10 characters, DNS-label safe).
  returned: success
  type: str
  sample: 4f53cda18c
reason:
  description: Why this action, in one sentence.
  returned: success
  type: str
  sample: "Image changed from sha256:0b5a7c1f4e2d to sha256:4f53cda18c2b in prod: run the migration Job before the rollout."
approval_required:
  description: Whether this action needed O(approved=true) (an explicit Job in C(prod)).
  returned: success
  type: bool
  sample: true
"""
