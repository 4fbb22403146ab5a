# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""registry_image_info against a stand-in registry on loopback: the plugin's own logic (which URL,
which credentials, what an answer means). The live tests ask the real local registry."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import json
import threading

from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import yaml

from ansible_collections.laravel_ops.k8s.plugins.action.registry_image_info import ARGUMENT_SPEC, ActionModule
from ansible_collections.laravel_ops.k8s.plugins.modules.registry_image_info import DOCUMENTATION

DIGEST = 'sha256:' + 'd' * 64
BASIC = 'Basic ' + base64.b64encode(b'deployer:s3cret').decode()


class Registry(BaseHTTPRequestHandler):
    """Holds acme/php:1; asks for basic auth, or for a Bearer token when ``bearer`` is set."""

    bearer = False
    seen = []

    def log_message(self, *args):
        pass

    def _authorized(self):
        auth = self.headers.get('Authorization', '')
        return auth == 'Bearer t0ken' if self.bearer else auth == BASIC

    def do_GET(self):
        self.seen.append(('GET', self.path, self.headers.get('Authorization')))
        if self.path.startswith('/token?') and self.headers.get('Authorization') == BASIC:
            body = json.dumps({'token': 't0ken'}).encode()
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(401)
            self.end_headers()

    def do_HEAD(self):
        self.seen.append(('HEAD', self.path, self.headers.get('Authorization')))
        if not self._authorized():
            self.send_response(401)
            if self.bearer:
                self.send_header('WWW-Authenticate', 'Bearer realm="http://%s:%d/token",service="registry",scope='
                                 '"repository:acme/php:pull"' % self.server.server_address)
            else:
                self.send_header('WWW-Authenticate', 'Basic realm="registry"')
        elif self.path == '/v2/acme/php/manifests/1':
            self.send_response(200)
            self.send_header('Docker-Content-Digest', DIGEST)
        elif self.path.startswith('/v2/'):
            self.send_response(404)
        else:
            self.send_response(500)
        self.send_header('Content-Length', '0')
        self.end_headers()


@pytest.fixture(params=[False, True], ids=['basic', 'bearer'])
def registry(request):
    handler = type('Handler', (Registry,), {'bearer': request.param, 'seen': []})
    server = HTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield '127.0.0.1:%d' % server.server_address[1], handler
    server.shutdown()


def args(host, *images, **extra):
    result = dict(images=[dict(registry=host, repository=r, tag=t) for r, t in images], username='deployer',
                  password='s3cret', scheme='http')
    result.update(extra)
    return result


def test_present_and_absent_images(run_action, registry):
    host, handler = registry
    result = run_action(ActionModule, args(host, ('acme/php', '1'), ('acme/nginx', '1')))
    assert not result.get('failed'), result
    assert result['changed'] is False
    assert result['images'] == [dict(registry=host, repository='acme/php', tag='1', digest=DIGEST),
                                dict(registry=host, repository='acme/nginx', tag='1', digest='')]
    assert result['missing'] == ['%s/acme/nginx:1' % host]
    assert ('HEAD', '/v2/acme/php/manifests/1') in [(m, p) for m, p, _a in handler.seen]


def test_wrong_credentials_name_the_image(run_action, registry):
    host, _handler = registry
    result = run_action(ActionModule, args(host, ('acme/php', '1'), password='wrong'))
    assert result['failed'] is True
    assert 'Cannot ask the registry for %s/acme/php:1' % host in result['msg']
    assert '401' in result['msg'] or 'Bearer' in result['msg']
    assert 'wrong' not in result['msg']


def test_unreachable_registry(run_action):
    result = run_action(ActionModule, args('127.0.0.1:9', ('acme/php', '1')))
    assert result['failed'] is True
    assert 'could not be reached' in result['msg']


@pytest.mark.parametrize('image, expected', [
    (dict(registry='127.0.0.1:9', repository='Acme', tag='1'), 'images[0]: repository: not valid'),
    (dict(repository='acme/php', tag='1'), 'needs a registry and a tag'),
    (dict(registry='127.0.0.1:9', repository='acme/php'), 'needs a registry and a tag'),
])
def test_bad_images_are_refused_before_asking(run_action, image, expected):
    result = run_action(ActionModule, dict(images=[image], scheme='http'))
    assert result['failed'] is True
    assert expected in result['msg']


def test_documented_options_are_the_argument_spec():
    documented = yaml.safe_load(DOCUMENTATION)['options']
    assert sorted(documented) == sorted(ARGUMENT_SPEC)
    for name, spec in ARGUMENT_SPEC.items():
        assert documented[name]['type'] == spec['type'], name
        assert documented[name].get('default') == spec.get('default'), name
        assert documented[name].get('choices') == spec.get('choices'), name


def test_the_password_is_never_in_the_result(run_action, registry):
    host, _handler = registry
    result = run_action(ActionModule, args(host, ('acme/php', '1')))
    assert 's3cret' not in repr(result)
