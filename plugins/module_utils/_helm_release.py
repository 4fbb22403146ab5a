# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the modules that run the helm CLI on one release share: its options, the module built
with Helm's credential options as kubernetes.core's helm modules take them, and a read that tells
"no such release" from a failure."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule
from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import (
    HELM_AUTH_ARG_SPEC,
    HELM_AUTH_MUTUALLY_EXCLUSIVE,
)

RELEASE_ARG_SPEC = dict(
    release_name=dict(type='str', required=True, aliases=['name']),
    release_namespace=dict(type='str', required=True, aliases=['namespace']),
)


def release_module(**options):
    """The module of one release, taking `options` besides the release and Helm's credentials."""
    argument_spec = dict(RELEASE_ARG_SPEC, **options)
    argument_spec.update(HELM_AUTH_ARG_SPEC)
    return AnsibleHelmModule(argument_spec=argument_spec, mutually_exclusive=HELM_AUTH_MUTUALLY_EXCLUSIVE,
                             supports_check_mode=True)


def read_release(module, what, *args):
    """The output of `helm <args> <release> --namespace <namespace>`; None when there is no such
    release; any other failure fails the module, saying what it was reading."""
    name, namespace = module.params['release_name'], module.params['release_namespace']
    command = [module.get_helm_binary()] + list(args) + [name, '--namespace', namespace]
    rc, out, err = module.run_helm_command(command, fails_on_error=False)
    if rc == 0:
        return out
    if 'not found' in err:
        return None
    module.fail_json(msg='Cannot read the %s of %s/%s: %s' % (what, namespace, name, err.strip()), command=command)
