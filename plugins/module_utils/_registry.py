# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ask an OCI distribution registry for the digest of an image at a tag.

Basic authentication is sent first; a registry that answers with a Bearer challenge (Harbor,
GitLab, GHCR, Docker Hub) is asked for a token with the same credentials, as ``docker pull``
does.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import re

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

MANIFEST_TYPES = ', '.join((
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
))
_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """The registry could not be asked; the message names the image and what went wrong."""


def _bearer_token(challenge, username, password, validate_certs, timeout):
    params = dict(_CHALLENGE_RE.findall(challenge))
    realm = params.pop('realm', None)
    if not realm:
        raise RegistryError('the registry asked for a Bearer token without naming a realm')
    try:
        response = open_url('%s?%s' % (realm, urlencode(params)), method='GET', url_username=username or None,
                            url_password=password or None, force_basic_auth=bool(username),
                            validate_certs=validate_certs, timeout=timeout)
        body = json.loads(response.read())
    except HTTPError as exc:
        raise RegistryError('its token service %s answered HTTP %d (%s)' % (realm, exc.code, exc.reason))
    except ValueError:
        raise RegistryError('its token service %s did not answer with JSON' % realm)
    return body.get('token') or body.get('access_token')


def manifest_digest(reference, username='', password='', scheme='https', validate_certs=True, timeout=30):
    """The digest of ``reference`` (an ImageReference with a registry and a tag), or None when absent."""
    url = '%s://%s/v2/%s/manifests/%s' % (scheme, reference.registry, reference.repository, reference.tag)
    headers = {'Accept': MANIFEST_TYPES}
    for attempt in ('basic', 'bearer'):
        try:
            response = open_url(url, method='HEAD', headers=headers, url_username=username or None,
                                url_password=password or None, force_basic_auth=bool(username) and attempt == 'basic',
                                validate_certs=validate_certs, timeout=timeout, follow_redirects='all')
            return response.headers.get('Docker-Content-Digest')
        except RegistryError:
            raise
        except HTTPError as exc:
            if exc.code == 404:
                return None
            challenge = exc.headers.get('WWW-Authenticate', '') if exc.headers else ''
            if exc.code == 401 and attempt == 'basic' and challenge.lower().startswith('bearer '):
                headers['Authorization'] = 'Bearer %s' % _bearer_token(challenge[len('bearer '):], username,
                                                                       password, validate_certs, timeout)
                continue
            raise RegistryError('%s answered HTTP %d (%s)' % (url, exc.code, exc.reason))
        except Exception as exc:  # connection refused, TLS, DNS: all mean "cannot ask"
            raise RegistryError('%s could not be reached: %s' % (url, exc))
    raise RegistryError('%s refused the Bearer token' % url)
