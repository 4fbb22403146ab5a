#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: helm_diff
short_description: Show, object by object, what a Helm upgrade would change
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Renders the chart with the given values as C(helm upgrade --install --dry-run=server) would
    apply it (the API server answers the capability and lookup questions; nothing is changed) and
    compares it with the manifest of the release that runs now (C(helm get manifest)).
  - Reports each object that would be added, changed or removed, and the difference of each in
    Ansible's diff output (C(--diff)). The values of Secrets never appear, only whether they change.
  - Where the C(helm diff) plugin is installed, its output is shown instead, as it knows the
    objects as the cluster holds them.
  - Hooks (the migration and seed Jobs of a hooks deploy) are listed by name, as they would run
    after the upgrade; they are not part of the release's manifest.
  - Every call goes through the Helm binary with the credentials of the task (C(K8S_AUTH_*),
    a kubeconfig or the options below), as C(kubernetes.core.helm) does.
extends_documentation_fragment:
  - laravel_ops.k8s.cluster_auth.helm
  - laravel_ops.k8s.cluster_auth.helm_release
  - laravel_ops.k8s.attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads the cluster; it runs the same in check mode.
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  chart_ref:
    description: The chart, as a path or a reference C(helm upgrade) takes.
    type: path
    required: true
  release_values:
    description: The values of the upgrade (they replace the release's values, as C(--reset-values) does).
    type: dict
    default: {}
requirements:
  - helm 3.13 or later (C(--dry-run=server))
  - PyYAML
"""

EXAMPLES = r"""
- name: Show what the deploy would change
  laravel_ops.k8s.helm_diff:
    release_name: backend
    release_namespace: backend-prod
    chart_ref: "{{ playbook_dir }}/charts/backend"
    release_values: "{{ release_result['values'] }}"
  diff: true
  register: backend_diff

- name: Name the objects
  ansible.builtin.debug:
    msg: "{{ backend_diff.changes | map(attribute='object') }}"
"""

RETURN = r"""
changes:
  description: The objects the upgrade would add, change or remove, in name order (empty with the helm diff plugin).
  returned: success
  type: list
  elements: dict
  contains:
    object:
      description: C(<Kind> <namespace>/<name>).
      type: str
      sample: Deployment backend-prod/backend
    action:
      description: V(added), V(changed) or V(removed).
      type: str
      sample: changed
hooks:
  description: The hooks the upgrade would run, as C(<Kind> <name>).
  returned: success
  type: list
  elements: str
  sample: [Job backend-migrate]
installed:
  description: Whether the release exists now.
  returned: success
  type: bool
method:
  description: How the difference was found, V(helm-diff) or V(dry-run).
  returned: success
  type: str
  sample: dry-run
"""

import json
import os
import tempfile

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.laravel_ops.k8s.plugins.module_utils._helm_release import read_release, release_module
from ansible_collections.laravel_ops.k8s.plugins.module_utils._manifest_diff import (
    YAML_IMPORT_ERROR,
    manifest_diff,
    yaml,
)


def has_diff_plugin(module, helm):
    rc, out, _err = module.run_helm_command([helm, 'plugin', 'list'], fails_on_error=False)
    return rc == 0 and any(line.split()[:1] == ['diff'] for line in out.splitlines())


def main():
    module = release_module(
        chart_ref=dict(type='path', required=True),
        release_values=dict(type='dict', default={}),
    )
    if YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('PyYAML'), exception=YAML_IMPORT_ERROR)
    params = module.params
    helm = module.get_helm_binary()
    name, namespace = params['release_name'], params['release_namespace']

    handle, values_file = tempfile.mkstemp(suffix='.yaml')
    try:
        with os.fdopen(handle, 'w') as values:
            yaml.safe_dump(params['release_values'], values)
        chart = [name, params['chart_ref'], '--namespace', namespace, '--values', values_file, '--reset-values']
        before = read_release(module, 'manifest', 'get', 'manifest')
        rc, out, err = module.run_helm_command([helm, 'upgrade', '--install', *chart, '--dry-run=server',
                                                '--output', 'json'], fails_on_error=False)
        if rc != 0:
            module.fail_json(msg='helm upgrade --dry-run=server of %s/%s failed: %s' % (namespace, name, err.strip()))
        planned = json.loads(out)
        hooks = ['%s %s' % (hook.get('kind'), hook.get('name')) for hook in planned.get('hooks') or []]
        result = dict(installed=before is not None, hooks=hooks)
        if has_diff_plugin(module, helm):
            _rc, prepared, _err = module.run_helm_command(
                [helm, 'diff', 'upgrade', *chart, '--no-color', '--suppress-secrets', '--allow-unreleased'])
            module.exit_json(changed=bool(prepared.strip()), changes=[], method='helm-diff',
                             diff=dict(prepared=prepared), **result)
        changes, diffs = manifest_diff(before, planned.get('manifest'))
        module.exit_json(changed=bool(changes), changes=changes, method='dry-run', diff=diffs, **result)
    finally:
        os.unlink(values_file)


if __name__ == '__main__':
    main()
