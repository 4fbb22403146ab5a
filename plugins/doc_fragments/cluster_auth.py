# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # The modules take kubernetes.core's connection options as they are (its argument specs), but
    # document them here: Galaxy and Automation Hub read a collection's docs without the
    # collections it depends on, so a fragment borrowed from kubernetes.core leaves them blank.
    # ansible-test's validate-modules compares these with the argument specs, so drift fails there.

    # The Kubernetes API client's options (kubernetes.core's AUTH_ARG_SPEC).
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - The kubeconfig to use, as a path (several joined by C(:)) or as its content in a dictionary.
      - Unset, C(K8S_AUTH_KUBECONFIG) names it; when no connection option or variable is set at all,
        C(~/.kube/config) is read.
    type: raw
  context:
    description: The kubeconfig context to use instead of its current one (C(K8S_AUTH_CONTEXT) when unset).
    type: str
  host:
    description:
      - URL of the API server (C(K8S_AUTH_HOST) when unset), for a connection without a kubeconfig, as the
        Kubernetes credential of AWX provides it.
    type: str
  api_key:
    description: Bearer token sent to the API server (C(K8S_AUTH_API_KEY) when unset).
    type: str
  username:
    description:
      - User name for HTTP basic authentication (C(K8S_AUTH_USERNAME) when unset); only for API servers that
        accept it.
    type: str
  password:
    description: Password for HTTP basic authentication with O(username) (C(K8S_AUTH_PASSWORD) when unset).
    type: str
  validate_certs:
    description:
      - Whether the API server's certificate must be valid for O(ca_cert) or the kubeconfig's CA
        (C(K8S_AUTH_VERIFY_SSL) when unset).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - File holding the CA certificates, the whole chain, that sign the API server's certificate
        (C(K8S_AUTH_SSL_CA_CERT) when unset).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description: Client certificate file for TLS client authentication (C(K8S_AUTH_CERT_FILE) when unset).
    type: path
    aliases: [cert_file]
  client_key:
    description: Key file of O(client_cert) (C(K8S_AUTH_KEY_FILE) when unset).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - URL of an HTTP proxy to the API server (C(K8S_AUTH_PROXY) when unset). C(HTTPS_PROXY) and its
        kin are not read.
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains and networks reached without O(proxy) (C(K8S_AUTH_NO_PROXY) when
        unset).
    type: str
  proxy_headers:
    description: Headers sent to O(proxy).
    type: dict
    suboptions:
      proxy_basic_auth:
        description: C(user:password) for the proxy's basic authentication.
        type: str
      basic_auth:
        description: C(user:password) for a basic authentication header.
        type: str
      user_agent:
        description: The User-Agent header.
        type: str
  persist_config:
    description:
      - Whether a token the client refreshes is written back to the kubeconfig (C(K8S_AUTH_PERSIST_CONFIG) when
        unset).
    type: bool
  impersonate_user:
    description: User to act as, through the API server's impersonation (C(K8S_AUTH_IMPERSONATE_USER) when unset).
    type: str
  impersonate_groups:
    description: Groups to act as, with O(impersonate_user) (C(K8S_AUTH_IMPERSONATE_GROUPS) when unset).
    type: list
    elements: str
"""

    # The options of modules that run the helm CLI (kubernetes.core's HELM_AUTH_ARG_SPEC).
    HELM = r"""
options:
  binary_path:
    description: The helm binary to run; unset, C(helm) is looked up on the PATH.
    type: path
  kubeconfig:
    description:
      - The kubeconfig helm reads, as a path or as its content in a dictionary (C(K8S_AUTH_KUBECONFIG) when
        unset); unset and without that variable, helm's own default.
    type: raw
    aliases: [kubeconfig_path]
  context:
    description: The kubeconfig context helm uses (C(K8S_AUTH_CONTEXT) when unset).
    type: str
    aliases: [kube_context]
  host:
    description: URL of the API server (C(K8S_AUTH_HOST) when unset).
    type: str
  api_key:
    description: Bearer token sent to the API server (C(K8S_AUTH_API_KEY) when unset).
    type: str
  ca_cert:
    description: File holding the CA certificates that sign the API server's certificate (C(K8S_AUTH_SSL_CA_CERT) when unset).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Whether helm checks the API server's certificate (C(K8S_AUTH_VERIFY_SSL) when unset).
      - Neither this nor O(ca_cert) can be combined with O(context).
    type: bool
    default: true
    aliases: [verify_ssl]
"""

    # The release a helm module works on (plugins/module_utils/_helm_release.py's RELEASE_ARG_SPEC).
    HELM_RELEASE = r"""
options:
  release_name:
    description: Name of the release.
    type: str
    required: true
    aliases: [name]
  release_namespace:
    description: Namespace of the release.
    type: str
    required: true
    aliases: [namespace]
"""
