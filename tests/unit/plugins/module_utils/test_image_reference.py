# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one image-reference parser, and the chart schema agreeing with it on a corpus."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

import jsonschema
import pytest

from ansible_collections.laravel_ops.k8s.plugins.module_utils import _image_reference as ref
from ansible_collections.laravel_ops.k8s.plugins.module_utils._image_reference import ImageReference, parse

DIGEST = 'sha256:' + '0123456789abcdef' * 4

# (field, value, valid)
CORPUS = [
    ('registry', '', True),
    ('registry', 'registry.example.com', True),
    ('registry', 'registry.example.com:5000', True),
    ('registry', '127.0.0.1:5000', True),
    ('registry', 'localhost:5000', True),
    ('registry', 'Registry.Example.COM', True),
    ('registry', 'my-registry.internal:443', True),
    ('registry', '[::1]:5000', True),
    ('registry', 'registry:1', True),
    ('registry', 'registry:65535', True),
    ('registry', 'registry:65536', False),
    ('registry', 'registry:0', False),
    ('registry', 'registry:99999', False),
    ('registry', 'registry.example.com/team', False),
    ('registry', 'bad registry', False),
    ('registry', '-registry.example.com', False),
    ('registry', 'registry-.example.com', False),
    ('registry', 'registry..example.com', False),
    ('registry', 'https://registry.example.com', False),
    ('registry', 'registry.example.com:', False),
    ('repository', 'backend', True),
    ('repository', 'acme/backend-php', True),
    ('repository', 'acme/back--end', True),
    ('repository', 'acme/back---end', True),
    ('repository', 'acme/back__end', True),
    ('repository', 'acme/back.end', True),
    ('repository', 'a/b/c/d/e', True),
    ('repository', 'laravel-ops/backend-php', True),
    ('repository', 'a' * 255, True),
    ('repository', 'a' * 256, False),
    ('repository', '', False),
    ('repository', 'Acme/Backend', False),
    ('repository', 'acme/back___end', False),
    ('repository', 'acme/back._end', False),
    ('repository', 'acme/-backend', False),
    ('repository', 'acme/backend-', False),
    ('repository', 'acme//backend', False),
    ('repository', '/acme', False),
    ('repository', 'acme/', False),
    ('repository', 'acme/backend:1.0', False),
    ('tag', '', True),
    ('tag', 'latest', False),
    ('tag', 'latest2', True),
    ('tag', 'Latest', True),
    ('tag', '1.2.3', True),
    ('tag', 'v1.2.3-rc.1_build', True),
    ('tag', '_underscore', True),
    ('tag', 'UPPER', True),
    ('tag', 'a' * 128, True),
    ('tag', 'a' * 129, False),
    ('tag', '.hidden', False),
    ('tag', '-dash', False),
    ('tag', 'bad tag!', False),
    ('tag', 'with/slash', False),
    ('tag', 'with:colon', False),
    ('digest', '', True),
    ('digest', DIGEST, True),
    ('digest', 'sha256:abc', False),
    ('digest', 'sha256:' + 'A' * 64, False),
    ('digest', 'sha512:' + 'a' * 128, False),
    ('digest', 'sha256:' + 'a' * 65, False),
    ('digest', DIGEST[len('sha256:'):], False),
]


def chart_image_schema():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
    with open(os.path.join(root, 'charts', 'backend', 'values.schema.json')) as handle:
        schema = json.load(handle)
    image = dict(schema['definitions']['image'])
    image['definitions'] = schema['definitions']
    return image


@pytest.mark.parametrize('field, value, valid', CORPUS, ids=['%s-%d' % (c[0], i) for i, c in enumerate(CORPUS)])
def test_parser_and_chart_schema_agree(field, value, valid):
    assert (ref.field_problem(field, value) is None) is valid
    schema = chart_image_schema()
    errors = list(jsonschema.Draft7Validator(schema).iter_errors({field: value}))
    assert (not errors) is valid, [e.message for e in errors]


def test_the_schema_carries_the_parser_patterns():
    properties = chart_image_schema()['properties']
    assert properties['registry']['pattern'] == ref.REGISTRY_PATTERN
    assert properties['repository']['pattern'] == ref.REPOSITORY_PATTERN
    assert properties['repository']['maxLength'] == ref.REPOSITORY_MAX_LENGTH
    assert properties['tag']['anyOf'][0]['pattern'] == ref.TAG_PATTERN
    assert properties['digest']['pattern'] == ref.DIGEST_PATTERN


@pytest.mark.parametrize('text, expected', [
    ('backend', ImageReference('', 'backend')),
    ('acme/backend-php', ImageReference('', 'acme/backend-php')),
    ('acme/backend-php:1.2.3', ImageReference('', 'acme/backend-php', '1.2.3')),
    ('registry.example.com/acme/backend-php', ImageReference('registry.example.com', 'acme/backend-php')),
    ('registry.example.com:5000/acme/php:1.2@' + DIGEST,
     ImageReference('registry.example.com:5000', 'acme/php', '1.2', DIGEST)),
    ('127.0.0.1:5000/laravel-ops/backend-php:0123abcd',
     ImageReference('127.0.0.1:5000', 'laravel-ops/backend-php', '0123abcd')),
    ('localhost/app', ImageReference('localhost', 'app')),
    ('[::1]:5000/app:1', ImageReference('[::1]:5000', 'app', '1')),
    ('acme/php@' + DIGEST, ImageReference('', 'acme/php', '', DIGEST)),
])
def test_parse(text, expected):
    parsed = parse(text)
    assert parsed == expected
    assert str(parsed) == text


@pytest.mark.parametrize('text', ['', 'Acme/Backend', 'acme/backend:bad tag', 'acme@sha256:123', 'a' * 300,
                                  'registry:99999/acme/php', ':tag', None, 5])
def test_parse_refuses(text):
    with pytest.raises(ValueError):
        parse(text)


def test_from_mapping_lists_every_problem():
    with pytest.raises(ValueError) as info:
        ref.from_mapping({'registry': 'bad registry', 'repository': 'Acme', 'tag': '.x', 'digest': 'md5:1',
                          'version': '1'})
    message = str(info.value)
    for field in ('registry', 'repository', 'tag', 'digest', 'version: unknown key'):
        assert field in message


def test_from_mapping_needs_a_repository_and_a_mapping():
    with pytest.raises(ValueError, match='repository: missing'):
        ref.from_mapping({'registry': 'registry.example.com'})
    with pytest.raises(ValueError, match='not a mapping'):
        ref.from_mapping('acme/php')


def test_numeric_tags_are_text():
    assert ref.field_problem('tag', 20250101) is None
    assert str(ref.from_mapping({'repository': 'acme/php', 'tag': 20250101})) == 'acme/php:20250101'
    assert ref.field_problem('tag', -1) is not None
    assert ref.field_problem('tag', True) is not None


def test_reference_parts():
    image = parse('registry.example.com/acme/php:1@' + DIGEST)
    assert image.name == 'registry.example.com/acme/php'
    assert image.as_dict() == {'registry': 'registry.example.com', 'repository': 'acme/php', 'tag': '1',
                               'digest': DIGEST}
    assert image != parse('registry.example.com/acme/php:1')
