# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: backend_chart_values
short_description: Turn the backend_* inventory settings into validated values of the backend chart
version_added: 0.1.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Takes the collection's C(backend_*) inventory variables as one dictionary (keys without the
    C(backend_) prefix, see C(docs/inventory-variables.md)) and returns the values that override
    the defaults of C(charts/backend).
  - Only what the settings set is returned; a setting that is missing or V(null) leaves the chart default.
  - Checks every setting first (types, choices, formats, one secret form, the C(prod) policy) and
    reports all problems together, one per line, each naming the inventory variable, the bad value
    and what is allowed. Values of C(backend_app_key) and C(backend_database_password) are never
    shown; they appear as C(<hidden>).
  - Then deep-merges O(overrides) (C(backend_chart_values)) on top (mappings merged recursively,
    lists and scalars replaced) and, when O(schema) is given, validates the result against it.
  - The result is a partial values dictionary, so presence constraints of the schema (C(required),
    C(dependentRequired), C(minProperties)) are not applied and C(oneOf) is read as C(anyOf); types,
    enums, patterns, bounds and C(additionalProperties) are. A schema error names the
    C(backend_*) variable that produced the chart path, or C(backend_chart_values.<path>).
  - The C(prod) policy also applies to the same chart paths set through O(overrides).
  - The result holds the secrets when they are given, so use it in tasks with C(no_log=true).
options:
  _input:
    description:
      - The settings, keys as the C(backend_*) variables without the prefix.
      - C(environment) is required; every other key is optional.
      - "Allowed keys: C(environment), C(app_env), C(app_debug), C(log_level), C(app_url), C(replicas_min),
        C(replicas_max), C(ingress_host), C(ingress_class), C(ingress_tls_secret), C(php_image),
        C(nginx_image), C(database), C(existing_secret), C(app_key), C(database_password),
        C(migrations_mode), C(seed), C(metrics_enabled), C(pgbouncer_enabled), C(pgbouncer_image)."
    type: dict
    required: true
  overrides:
    description:
      - Free-form chart values (C(backend_chart_values)), deep-merged last.
    type: dict
    default: {}
  schema:
    description:
      - The chart's C(values.schema.json), parsed. Validation is skipped when V(null).
      - Needs the Python library C(jsonschema) on the controller.
    type: dict
  for_deploy:
    description:
      - V(true) when the values go to a cluster. Then a secret form is required and, in C(prod),
        both images must carry a digest.
      - V(false) for rendering values files, where the image digest is not known yet and secrets
        are left out.
    type: bool
    default: true
  require_digest:
    description:
      - Whether C(prod) images must carry a digest. V(null) follows O(for_deploy).
      - V(false) for a check before the image is built, when secrets are checked but the
        digest cannot be known yet.
    type: bool
requirements:
  - jsonschema (only when O(schema) is given)
"""

EXAMPLES = r"""
- name: Compute the chart values
  ansible.builtin.set_fact:
    release_values: >-
      {{ settings | laravel_ops.k8s.backend_chart_values(
           overrides=backend_chart_values | default({}),
           schema=lookup('ansible.builtin.file', chart_dir ~ '/values.schema.json') | from_json,
           for_deploy=true) }}
  no_log: true
  vars:
    settings:
      environment: staging
      app_env: staging
      app_debug: false
      log_level: info
      replicas_min: 2
      replicas_max: 4
      ingress_host: api.staging.example.com
      php_image:
        repository: acme/backend-php
        digest: "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
      existing_secret: backend-secrets
      migrations_mode: hooks

# Result, for the settings above:
#   commonLabels: {app.kubernetes.io/environment: staging}
#   app: {env: staging, debug: false, logLevel: info}
#   autoscaling: {minReplicas: 2, maxReplicas: 4}
#   replicaCount: 2
#   ingress: {enabled: true, host: api.staging.example.com}
#   php: {image: {repository: acme/backend-php, digest: "sha256:4f53..."}}
#   secrets: {existingSecret: backend-secrets}
#   migrations: {enabled: true}
"""

RETURN = r"""
_value:
  description:
    - Chart values overriding the chart defaults, with C(commonLabels) carrying
      C(app.kubernetes.io/environment), and O(overrides) merged in.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.laravel_ops.k8s.plugins.module_utils.chart_values import (
    ChartValuesError,
    build_chart_values,
)


def backend_chart_values(settings, overrides=None, schema=None, for_deploy=True, require_digest=None):
    """Filter entry point; all logic lives in module_utils.chart_values."""
    try:
        return build_chart_values(settings, overrides=overrides, schema=schema, for_deploy=for_deploy,
                                  require_digest=require_digest)
    except ChartValuesError as exc:
        count = len(exc.errors)
        raise AnsibleFilterError('laravel_ops.k8s.backend_chart_values: %d problem%s in the backend_* settings:\n%s' % (
            count, '' if count == 1 else 's', '\n'.join(exc.errors)))


class FilterModule(object):
    """Chart values for the Laravel backend."""

    def filters(self):
        return {
            'backend_chart_values': backend_chart_values,
        }
