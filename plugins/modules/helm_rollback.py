#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: helm_rollback
short_description: Return a Helm release to an earlier revision, with the cluster credentials of the task
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Runs C(helm rollback) for a release, by default to the newest revision before the current one that
    was deployed, and waits for it.
  - Takes the cluster credentials as kubernetes.core's helm modules do (C(K8S_AUTH_HOST),
    C(K8S_AUTH_API_KEY), C(K8S_AUTH_SSL_CA_CERT), C(K8S_AUTH_KUBECONFIG), C(K8S_AUTH_CONTEXT) or the options),
    so an AWX Kubernetes credential reaches Helm here too; kubernetes.core has no rollback module.
  - With O(pending_for), recovers a release an interrupted deploy left C(pending-install),
    C(pending-upgrade) or C(pending-rollback), after which Helm refuses every upgrade ("another operation
    is in progress"). When its newest revision has been pending longer than that, it rolls back to the
    last deployed revision, or uninstalls a first install that never finished; a release that is not
    pending is left as it is; one pending for less than that is refused (the operation may still run).
extends_documentation_fragment:
  - laravel_ops.k8s.cluster_auth.helm
  - laravel_ops.k8s.cluster_auth.helm_release
  - laravel_ops.k8s.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the revision it would return to, and a change, without rolling back.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Every run adds a revision to the release history, as C(helm rollback) does.
options:
  revision:
    description:
      - Revision to return to; V(0) takes the newest revision before the current one that was deployed.
    type: int
    default: 0
  pending_for:
    description:
      - A Go duration (C(10m), C(1h30m)). Set, the module only recovers a pending release, as above.
    type: str
  wait:
    description: Wait until the release's resources are ready.
    type: bool
    default: true
  wait_timeout:
    description: How long Helm waits (a Go duration, e.g. C(10m)).
    type: str
    default: 10m
"""

EXAMPLES = r"""
- name: Return to the previous deployed revision
  laravel_ops.k8s.helm_rollback:
    release_name: backend
    release_namespace: backend-prod
  register: rolled_back
"""

RETURN = r"""
recovered:
  description: With O(pending_for), what was done, V(rollback), V(uninstall) or V(nothing).
  returned: when O(pending_for) is set
  type: str
  sample: rollback
from_revision:
  description: The revision that was current.
  returned: success
  type: int
  sample: 13
target_revision:
  description: The revision whose configuration is restored.
  returned: success
  type: int
  sample: 12
revision:
  description: The revision the rollback made (Helm records a rollback as a new revision); in check mode the current one.
  returned: success
  type: int
  sample: 14
status:
  description: Status of the release afterwards.
  returned: success
  type: str
  sample: deployed
"""

import datetime
import json

from ansible_collections.laravel_ops.k8s.plugins.module_utils._helm_history import (
    UTC,
    RollbackError,
    parse_duration,
    recovery,
    rollback_target,
)
from ansible_collections.laravel_ops.k8s.plugins.module_utils._helm_release import read_release, release_module


def history(module):
    """The release's revisions; none when there is no such release."""
    return json.loads(read_release(module, 'history', 'history', '--output', 'json') or '[]')


def main():
    module = release_module(
        revision=dict(type='int', default=0),
        pending_for=dict(type='str'),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='str', default='10m'),
    )
    params = module.params
    helm = module.get_helm_binary()
    name, namespace = params['release_name'], params['release_namespace']

    before = history(module)
    recovered = None
    try:
        if params['pending_for']:
            plan = recovery(before, parse_duration(params['pending_for']), datetime.datetime.now(UTC))
            if plan is None:
                module.exit_json(changed=False, recovered='nothing')
            recovered, target = plan
            if recovered == 'uninstall':
                if not module.check_mode:
                    module.run_helm_command([helm, 'uninstall', name, '--namespace', namespace, '--wait'])
                module.exit_json(changed=True, recovered=recovered)
        else:
            target = rollback_target(before, params['revision'])
    except (RollbackError, ValueError) as exc:
        module.fail_json(msg='Cannot roll back %s/%s: %s' % (namespace, name, exc))
    current = max(int(entry['revision']) for entry in before)
    extra = dict(recovered=recovered) if recovered else {}
    if module.check_mode:
        module.exit_json(changed=True, from_revision=current, target_revision=target, revision=current,
                         status=[e for e in before if int(e['revision']) == current][0]['status'], **extra)

    command = [helm, 'rollback', name, str(target), '--namespace', namespace]
    if params['wait']:
        command += ['--wait', '--timeout', params['wait_timeout']]
    module.run_helm_command(command)
    after = history(module)
    newest = max(after, key=lambda entry: int(entry['revision']))
    module.exit_json(changed=True, from_revision=current, target_revision=target, revision=int(newest['revision']),
                     status=newest['status'], **extra)


if __name__ == '__main__':
    main()
