# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The files the Kubernetes API client writes for a kubeconfig that carries its credentials inline
(certificate-authority-data, client-certificate-data, client-key-data): the client key among them.

The client deletes them with atexit, which never runs in the process where a lookup or an action
plugin calls the API: Ansible's worker is a forked multiprocessing child, and such a child ends with
os._exit once multiprocessing's own finalizers have run. Each such call would leave the user's
client key in the temporary directory. A multiprocessing finalizer does run there, at the end of
the task, so the client the task caches keeps its files while the task uses it."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import multiprocessing.util
import os

# the processes that have registered the finalizer: a forked child inherits its parent's entries,
# not its finalizers, so it looks for its own process id
_processes_finalized = set()


def remove_client_files_at_exit():
    """Delete the client's credential files when this process ends (registered once per process)."""
    if os.getpid() in _processes_finalized:
        return
    from kubernetes.config import kube_config  # present wherever kubernetes.core's client runs
    multiprocessing.util.Finalize(None, kube_config._cleanup_temp_files, exitpriority=0)
    _processes_finalized.add(os.getpid())
