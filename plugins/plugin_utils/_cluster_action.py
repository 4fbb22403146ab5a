# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The common part of the action plugins that call the Kubernetes API in the controller's process
(deploy_lock, access_check): kubernetes.core's credential options, and where a client that cannot
reach the API was pointed."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import os

from ansible.plugins.action import ActionBase

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.laravel_ops.k8s.plugins.plugin_utils._client_files import remove_client_files_at_exit


def api_server(auth, environ=None):
    """Where the client was pointed, as a deploy that cannot reach the API should say it, read
    without calling the API: the host (option or K8S_AUTH_HOST), else the server of the kubeconfig's
    context (option or K8S_AUTH_KUBECONFIG, else KUBECONFIG or ~/.kube/config) and that kubeconfig;
    None when it cannot be told."""
    environ = os.environ if environ is None else environ
    settings = dict((key, auth.get(key) or environ.get('K8S_AUTH_%s' % key.upper())) for key in ('host', 'kubeconfig',
                                                                                                 'context'))
    if settings['host']:
        return settings['host']
    kubeconfig = settings['kubeconfig']
    try:
        from kubernetes import client, config  # the client kubernetes.core uses; only on this error path
        remove_client_files_at_exit()
        configuration = client.Configuration()
        if isinstance(kubeconfig, dict):
            config.load_kube_config_from_dict(kubeconfig, context=settings['context'],
                                              client_configuration=configuration, persist_config=False)
            source = 'the kubeconfig given'
        else:
            path = kubeconfig or environ.get('KUBECONFIG') or os.path.expanduser('~/.kube/config')
            config.load_kube_config(config_file=path, context=settings['context'],
                                    client_configuration=configuration, persist_config=False)
            source = 'kubeconfig %s' % path
    except Exception:  # no kubeconfig, a broken one: the client's own error says the rest
        return None
    return '%s (%s%s)' % (configuration.host, source,
                          ', context %s' % settings['context'] if settings['context'] else '')


class ClusterAction(ActionBase):
    """An action run on the controller with the cluster credentials kubernetes.core's modules take
    (the options, else K8S_AUTH_* from the environment); ARGUMENT_SPEC holds the plugin's own options."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    ARGUMENT_SPEC = {}
    auth = {}

    def cluster_args(self):
        """The task's options, validated against ARGUMENT_SPEC and kubernetes.core's credential options."""
        spec = copy.deepcopy(AUTH_ARG_SPEC)
        spec.update(self.ARGUMENT_SPEC)
        _validation, args = self.validate_argument_spec(argument_spec=spec)
        self.auth = dict((key, value) for key, value in args.items() if key in AUTH_ARG_SPEC and value is not None)
        return args

    def client(self):
        """kubernetes.core's API client for the credentials of cluster_args()."""
        remove_client_files_at_exit()
        return get_api_client(**self.auth)

    def unreachable(self, exc, what=''):
        """The message of a client error (no API, bad credentials), naming where it was pointed."""
        server = api_server(self.auth)
        return 'Cannot reach the Kubernetes API%s%s: %s' % (
            ' at %s' % server if server else " (K8S_AUTH_HOST, or the kubeconfig's server)", what, exc)
