# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: k8s_objects
short_description: Read Kubernetes objects in the controller's process, leaving no credential file behind
version_added: 1.0.0
author:
  - laravel_ops maintainers (@laravel_ops)
description:
  - The P(kubernetes.core.k8s#lookup) lookup, with the same options and result, for reads that should
    cost no module run (a deploy that changes nothing stays as quick as a bare C(helm upgrade)).
  - A kubeconfig that carries its credentials inline (as kind's and most managed clusters' do) makes
    the Kubernetes client write the client key and certificates to temporary files, which it deletes
    only at interpreter exit; the process a lookup runs in never gets there, so kubernetes.core's
    lookup leaves the client key in the temporary directory at every read. This lookup has them
    deleted when the task ends.
options:
  kind:
    description: The kind of the objects.
    type: str
    required: true
  api_version:
    description: The API version of O(kind).
    type: str
    default: v1
  resource_name:
    description: The name of the one object to read; without it, every object that matches.
    type: str
  namespace:
    description: The namespace of the objects (cluster-scoped kinds take none).
    type: str
  label_selector:
    description: Labels the objects must carry, as C(kubectl -l) takes them; ignored with O(resource_name).
    type: str
  field_selector:
    description: Fields the objects must match, as C(kubectl --field-selector) takes them; ignored with O(resource_name).
    type: str
extends_documentation_fragment:
  - laravel_ops.k8s.cluster_auth
notes:
  - Use it with C(query) (or C(wantlist=true)); a missing object gives an empty list.
"""

EXAMPLES = r"""
- name: Read the labels of the release's namespace, none when it does not exist yet
  ansible.builtin.set_fact:
    namespace_labels: >-
      {{ (query('laravel_ops.k8s.k8s_objects', kind='Namespace', resource_name='backend')
          | first | default({})).metadata.labels | default({}) }}
"""

RETURN = r"""
_list:
  description:
    - The objects read, as the API server returns them; empty when none matches.
  type: list
  elements: dict
"""

from ansible_collections.kubernetes.core.plugins.lookup.k8s import LookupModule as KubernetesCoreLookup
from ansible_collections.laravel_ops.k8s.plugins.plugin_utils._client_files import remove_client_files_at_exit


class LookupModule(KubernetesCoreLookup):

    def run(self, terms, variables=None, **kwargs):
        remove_client_files_at_exit()
        return super(LookupModule, self).run(terms, variables=variables, **kwargs)
