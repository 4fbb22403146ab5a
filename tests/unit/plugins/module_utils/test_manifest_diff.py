# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a check-mode deploy shows: the objects an upgrade adds, changes or removes, Secrets redacted."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.laravel_ops.k8s.plugins.module_utils._manifest_diff import (
    REDACTED,
    REDACTED_CHANGED,
    manifest_diff,
    objects,
)

DEPLOYMENT = """
---
# Source: backend/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: prod}
spec: {replicas: %d}
"""
SECRET = """
---
apiVersion: v1
kind: Secret
metadata: {name: backend-app-secrets, namespace: prod}
data: {APP_KEY: %s, DB_PASSWORD: c2FtZQ==}
"""
CLUSTER_ROLE = """
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
"""


def test_objects_are_named_by_kind_namespace_and_name():
    assert sorted(objects(DEPLOYMENT % 2 + CLUSTER_ROLE + '\n---\n# empty\n')) == [
        'ClusterRole reader', 'Deployment prod/backend']
    assert objects(None) == {}


def test_nothing_to_show_when_the_manifests_match():
    assert manifest_diff(DEPLOYMENT % 2, DEPLOYMENT % 2) == ([], [])


def test_added_changed_and_removed_objects_in_name_order():
    changes, diffs = manifest_diff(DEPLOYMENT % 2 + CLUSTER_ROLE, DEPLOYMENT % 3 + SECRET % 'bmV3')
    assert changes == [dict(object='ClusterRole reader', action='removed'),
                       dict(object='Deployment prod/backend', action='changed'),
                       dict(object='Secret prod/backend-app-secrets', action='added')]
    deployment = diffs[1]
    assert deployment['before_header'] == deployment['after_header'] == 'Deployment prod/backend'
    assert 'replicas: 2' in deployment['before'] and 'replicas: 3' in deployment['after']
    assert diffs[0]['after'] == '' and diffs[0]['after_header'] == '(absent)'


def test_a_first_install_adds_everything():
    changes, _ = manifest_diff(None, DEPLOYMENT % 2)
    assert changes == [dict(object='Deployment prod/backend', action='added')]


def test_secret_values_never_shown_only_whether_they_change():
    changes, diffs = manifest_diff(SECRET % 'b2xk', SECRET % 'bmV3')
    assert changes == [dict(object='Secret prod/backend-app-secrets', action='changed')]
    text = diffs[0]['before'] + diffs[0]['after']
    for value in ('b2xk', 'bmV3', 'c2FtZQ=='):
        assert value not in text
    assert 'APP_KEY: %s' % REDACTED in diffs[0]['before']
    assert 'APP_KEY: %s' % REDACTED_CHANGED in diffs[0]['after']
    assert 'DB_PASSWORD: %s' % REDACTED in diffs[0]['after']
