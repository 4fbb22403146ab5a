# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The k8s_objects lookup in a forked multiprocessing child, as Ansible's worker runs a lookup: the
real Kubernetes client writes the inline credentials of a kubeconfig to temporary files, and only
this lookup's files are gone when the child has ended. The API server is a closed loopback port."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import multiprocessing
import tempfile

from ansible_collections.kubernetes.core.plugins.lookup.k8s import LookupModule as KubernetesCoreLookup
from ansible_collections.laravel_ops.k8s.plugins.lookup.k8s_objects import LookupModule


def _inline(text):
    return base64.b64encode(text.encode()).decode()


KUBECONFIG = {
    'apiVersion': 'v1',
    'kind': 'Config',
    'current-context': 'test',
    'clusters': [{'name': 'test', 'cluster': {'server': 'https://127.0.0.1:9',
                                              'certificate-authority-data': _inline('ca certificate')}}],
    'users': [{'name': 'test', 'user': {'client-certificate-data': _inline('client certificate'),
                                        'client-key-data': _inline('client key')}}],
    'contexts': [{'name': 'test', 'context': {'cluster': 'test', 'user': 'test'}}],
}


def _read_namespaces(lookup_class, written):
    from kubernetes.config import kube_config
    try:
        lookup_class().run([], variables={}, kind='Namespace', kubeconfig=KUBECONFIG)
    except Exception:  # nothing listens on the port: the files were written before the request
        pass
    written.put(sorted(kube_config._temp_files.values()))


def _files_left_by(lookup_class, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    context = multiprocessing.get_context('fork')
    written = context.Queue()
    child = context.Process(target=_read_namespaces, args=(lookup_class, written))
    child.start()
    paths = written.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert len(paths) == 3, paths
    assert all(path.startswith(str(tmp_path)) for path in paths), paths
    return [path for path in paths if (tmp_path / path).exists()]


def test_kubernetes_core_lookup_leaves_the_client_key_in_a_forked_child(tmp_path, monkeypatch):
    left = _files_left_by(KubernetesCoreLookup, tmp_path, monkeypatch)
    assert len(left) == 3
    assert 'client key' in [(tmp_path / path).read_text() for path in left]


def test_k8s_objects_leaves_no_credential_file(tmp_path, monkeypatch):
    assert _files_left_by(LookupModule, tmp_path, monkeypatch) == []
