# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: backend_chart_values
short_description: Turn the backend_* inventory variables into validated values of the backend chart
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Takes the inventory variables the C(release) role reads, by name, as
    P(laravel_ops.k8s.backend_inventory#lookup) returns them, and returns the values that override
    the defaults of C(charts/backend). What each variable becomes is listed in
    C(docs/inventory-variables.md).
  - Checks them first, exactly as P(laravel_ops.k8s.backend_inventory_check#filter) does for the
    C(release) role, and reports every problem together.
  - Then maps them, deep-merges C(backend_chart_values) last, and, when O(schema) is given, checks the
    result against it. The result is a partial values dictionary, so the schema's C(required) lists
    are not applied; every other keyword the chart's schema uses is. A schema error names the
    C(backend_*) variable that produced the chart path, or C(backend_chart_values.<path>).
  - The values never carry a secret. C(secrets.existingSecret) names C(backend_existing_secret), or the
    Secret the C(release) role makes, C(<backend_release_name>-app-secrets).
extends_documentation_fragment:
  - laravel_ops.k8s.inventory
options:
  schema:
    description:
      - The chart's C(values.schema.json), parsed. Not checked when V(null).
      - Needs the Python library C(jsonschema) on the controller.
    type: dict
requirements:
  - jsonschema (only when O(schema) is given)
"""

EXAMPLES = r"""
- name: Compute the chart values
  ansible.builtin.set_fact:
    __release_values: >-
      {{ lookup('laravel_ops.k8s.backend_inventory', role='release', images=image_result.images)
         | laravel_ops.k8s.backend_chart_values(schema=lookup('ansible.builtin.file', chart_dir ~ '/values.schema.json') | from_json) }}

# For inventories/staging of this collection, the result is:
#   commonLabels: {app.kubernetes.io/environment: staging}
#   app: {env: staging, debug: false, logLevel: info, url: https://backend.staging.example.com}
#   autoscaling: {minReplicas: 2, maxReplicas: 5}
#   replicaCount: 2
#   ingress: {enabled: true, host: backend.staging.example.com, className: nginx,
#             tls: {enabled: true, secretName: backend-staging-tls}}
#   php: {image: {registry: registry.example.com, repository: laravel-ops/backend-php, tag: ..., digest: ...}}
#   secrets: {existingSecret: backend-staging-secrets}
#   migrations: {enabled: true, seed: {enabled: false}}
#   ...
"""

RETURN = r"""
_value:
  description:
    - Chart values overriding the chart defaults, C(backend_chart_values) merged in.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.laravel_ops.k8s.plugins.module_utils.chart_values import (
    InputProblems,
    build_chart_values,
)


def backend_chart_values(inventory, schema=None, for_deploy=True, require_digest=None):
    try:
        return build_chart_values(inventory, schema=schema, for_deploy=for_deploy,
                                  require_digest=require_digest)
    except InputProblems as exc:
        raise AnsibleFilterError(exc.report('laravel_ops.k8s.backend_chart_values'))


class FilterModule(object):
    """Chart values for the Laravel backend."""

    def filters(self):
        return {'backend_chart_values': backend_chart_values}
