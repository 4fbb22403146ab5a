#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_job_run
short_description: Run a Kubernetes Job to completion and return its logs
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - Creates a C(batch/v1) Job, waits until it has the C(Complete) or C(Failed) condition, and
    returns its status and the logs of all containers of all its pods. Made for the database
    migration Job that runs before a rollout, but works for any Job.
  - The Job's spec (including its pod template) is hashed into the annotation
    C(laravel-ops.k8s/spec-hash). When a Job of that name already exists with the same hash and
    has succeeded, nothing is created and its logs are returned (C(changed=false)); when it exists
    with the same hash and failed, the module fails with its logs unless O(replace_failed=true);
    when it is still running, the module waits for it.
  - An existing finished Job with another spec (or without the annotation) is deleted and replaced,
    since a Job's pod template cannot be changed. One still running with another spec is an error.
  - Fails with the last log lines in the message when the Job fails or does not finish within
    O(wait_timeout). A timed-out Job is left in place.
  - The module does not read Secrets, and never returns the Job's spec. Environment values the
    containers take from Secrets (C(secretKeyRef), C(envFrom)) therefore appear nowhere in its
    result; what the containers themselves print to their logs does. Keep secret values out of
    the manifest itself (use C(secretKeyRef)), since module arguments may be logged at high verbosity.
extends_documentation_fragment:
  - laravel_ops.k8s.cluster_auth
  - laravel_ops.k8s.attributes
  - laravel_ops.k8s.attributes.actiongroup_cluster
attributes:
  check_mode:
    support: full
    details:
      - Reports C(changed=true) when the Job would be created or replaced, creates and deletes nothing.
      - Reads an existing Job and its logs, as a real run would.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - A re-run with the same spec finds the succeeded Job and reports no change, unless
        O(delete_on_success=true) or the Job's C(ttlSecondsAfterFinished) removed it, in which case
        the Job runs again.
options:
  definition:
    description:
      - The C(batch/v1) Job manifest, as a dictionary or a YAML string, for example one document of
        the output of M(kubernetes.core.helm_template).
      - A YAML string may hold several documents; exactly one of them must be a Job.
      - C(metadata.name) is required (C(generateName) is not supported, because the Job is found again by name).
    type: raw
    required: true
  name:
    description:
      - Overrides C(metadata.name) of O(definition), e.g. to add the suffix from M(laravel_ops.k8s.migration_plan).
    type: str
  namespace:
    description:
      - Namespace of the Job. Defaults to C(metadata.namespace) of O(definition); it is an error when
        both are set and differ.
    type: str
  wait_timeout:
    description:
      - How many seconds to wait for the Job to complete or fail.
    type: int
    default: 600
  wait_sleep:
    description:
      - Seconds between two polls of the Job's status.
    type: int
    default: 2
  delete_on_success:
    description:
      - Delete the Job and its pods (background propagation) once it has succeeded and its logs are read.
      - A later run with the same spec then runs the Job again.
    type: bool
    default: false
  replace_failed:
    description:
      - When a Job of that name with the same spec already failed, delete it and run it again instead of failing.
    type: bool
    default: false
  log_lines:
    description:
      - How many lines to keep from the end of each container's log. V(0) (or less) keeps all of them.
    type: int
    default: 200
requirements:
  - "kubernetes >= 24.2.0"
  - "PyYAML >= 3.11"
seealso:
  - module: laravel_ops.k8s.migration_plan
  - module: kubernetes.core.k8s_log
"""

EXAMPLES = r"""
- name: Render the migration Job from the chart
  kubernetes.core.helm_template:
    chart_ref: "{{ release_chart_ref }}"
    release_name: backend
    release_namespace: backend
    show_only:
      - templates/migrations-job.yaml
    release_values: "{{ release_values }}"
  register: rendered
  no_log: true

- name: Run the migrations before the rollout
  laravel_ops.k8s.k8s_job_run:
    definition: "{{ rendered.stdout }}"
    name: "backend-migrate-{{ migrations_plan.job_name_suffix }}"
    namespace: backend
    wait_timeout: 900
  register: migration

- name: Show the migration output
  ansible.builtin.debug:
    var: migration.logs

- name: Same thing with the credentials set once for the group
  module_defaults:
    group/laravel_ops.k8s.cluster:
      kubeconfig: "{{ lookup('ansible.builtin.env', 'K8S_AUTH_KUBECONFIG') }}"
  laravel_ops.k8s.k8s_job_run:
    definition:
      apiVersion: batch/v1
      kind: Job
      metadata:
        name: hello
      spec:
        backoffLimit: 0
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: hello
                image: registry.example.com/busybox:1.36
                command: [echo, hello]
    namespace: default
    delete_on_success: true
"""

RETURN = r"""
job:
  description:
    - The Job's C(apiVersion), C(kind), identifying metadata (name, namespace, uid,
      creationTimestamp, labels) and C(status). The spec is not returned.
  returned: always
  type: dict
  sample:
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: backend-migrate-4f53cda18c
      namespace: backend
    status:
      succeeded: 1
      conditions:
        - type: Complete
          status: "True"
state:
  description:
    - V(succeeded), V(failed), V(running) or V(timeout); V(null) in check mode when nothing exists yet.
  returned: always
  type: str
  sample: succeeded
logs:
  description:
    - Log lines of all containers of all pods of the Job, oldest pod first, each container's log cut
      to its last O(log_lines) lines. Prefixed with C([pod/container]) when there is more than one container log.
  returned: always
  type: list
  elements: str
  sample: ["INFO  Running migrations.", "2024_01_01_000000_create_users_table ... 12ms DONE"]
pod_logs:
  description: The same logs per pod and container.
  returned: always
  type: list
  elements: dict
  contains:
    pod:
      description: Pod name.
      type: str
    container:
      description: Container name.
      type: str
    lines:
      description: Log lines.
      type: list
      elements: str
duration_seconds:
  description:
    - Seconds from the Job's start to its completion (from its status), or as measured while
      waiting when the status has no times. V(null) when it did not run.
  returned: always
  type: float
  sample: 12.0
created:
  description: Whether this run created the Job.
  returned: always
  type: bool
deleted:
  description: Whether the Job was deleted after success (O(delete_on_success)).
  returned: when deleted
  type: bool
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import (
    AUTH_ARG_SPEC,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
    get_api_client,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import (
    AnsibleK8SModule,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import (
    CoreException,
)
from ansible_collections.laravel_ops.k8s.plugins.module_utils.job_runner import (
    DynamicJobApi,
    JobApiError,
    JobRunError,
    JobRunner,
    prepare_definition,
)

try:
    import yaml
except ImportError:
    # AnsibleK8SModule reports the missing PyYAML.
    yaml = None


def argspec():
    args = copy.deepcopy(AUTH_ARG_SPEC)
    args.update(
        definition=dict(type='raw', required=True),
        name=dict(type='str'),
        namespace=dict(type='str'),
        wait_timeout=dict(type='int', default=600),
        wait_sleep=dict(type='int', default=2),
        delete_on_success=dict(type='bool', default=False),
        replace_failed=dict(type='bool', default=False),
        log_lines=dict(type='int', default=200),
    )
    return args


def load_definition(definition):
    """A dict as is; a YAML string reduced to its single Job document."""
    if isinstance(definition, dict):
        return definition
    if isinstance(definition, str):
        try:
            documents = [d for d in yaml.safe_load_all(definition) if d]
        except yaml.YAMLError as exc:
            raise JobRunError('definition: not valid YAML: %s' % exc)
        jobs = [d for d in documents if isinstance(d, dict) and d.get('kind') == 'Job']
        if len(jobs) != 1:
            raise JobRunError('definition: the YAML holds %d Job documents; allowed: exactly one' % len(jobs))
        return jobs[0]
    raise JobRunError('definition: a %s; allowed: a Job manifest as a dictionary or a YAML string'
                      % type(definition).__name__)


def execute(module, client):
    params = module.params
    definition = load_definition(params['definition'])
    job, name, namespace = prepare_definition(definition, name=params['name'], namespace=params['namespace'])
    runner = JobRunner(DynamicJobApi(client), namespace, poll_interval=max(1, params['wait_sleep']))
    return runner.run(
        job,
        wait_timeout=params['wait_timeout'],
        delete_on_success=params['delete_on_success'],
        replace_failed=params['replace_failed'],
        log_lines=params['log_lines'] if params['log_lines'] and params['log_lines'] > 0 else None,
        check_mode=module.check_mode,
    )


def main():
    module = AnsibleK8SModule(argument_spec=argspec(), supports_check_mode=True)
    try:
        client = get_api_client(module=module)
        result = execute(module, client)
    except JobRunError as exc:
        details = dict((k, v) for k, v in exc.result.items() if k != 'msg')
        module.fail_json(msg=str(exc), **details)
    except JobApiError as exc:
        module.fail_json(msg=str(exc))
    except CoreException as exc:
        module.fail_from_exception(exc)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
