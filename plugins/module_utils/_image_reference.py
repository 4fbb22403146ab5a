# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's one image-reference parser.

The grammar is the OCI distribution one (``[registry/]repository[:tag][@digest]``), with a
registry port limited to 1-65535, digests limited to ``sha256`` (what the roles and the chart
pin) and the tag ``latest`` refused (it names whatever was pushed last, so a deploy by it is not
reproducible). Every other piece of the collection that reads an image reference calls this
module, and ``charts/backend/values.schema.json`` carries the field patterns below verbatim,
which a unit test proves on a corpus of references.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from collections.abc import Mapping

_DOMAIN_COMPONENT = r'(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])'
_PORT = r'(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])'
_HOST = r'(?:%s(?:\.%s)*|\[[0-9A-Fa-f:]+\])' % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT)
_PATH_COMPONENT = r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'

# Patterns of the fields of an image mapping; the chart schema uses the same strings. Empty
# registry, tag and digest mean "not set".
REGISTRY_PATTERN = r'^(?:%s(?::%s)?)?$' % (_HOST, _PORT)
REPOSITORY_PATTERN = r'^%s(?:/%s)*$' % (_PATH_COMPONENT, _PATH_COMPONENT)
TAG_PATTERN = r'^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$'
FLOATING_TAG = 'latest'
DIGEST_PATTERN = r'^(?:sha256:[a-f0-9]{64})?$'
REPOSITORY_MAX_LENGTH = 255
DIGEST_ALLOWED = 'sha256: followed by 64 lower-case hex digits'

FIELDS = ('registry', 'repository', 'tag', 'digest')
FIELD_RULES = {
    'registry': (re.compile(REGISTRY_PATTERN),
                 'a registry host with an optional port (e.g. registry.example.com:5000), or empty'),
    'repository': (re.compile(REPOSITORY_PATTERN),
                   'a repository path of lower-case components separated by /, each of letters and digits '
                   'joined by ., _, __ or dashes (e.g. acme/backend-php)'),
    'tag': (re.compile(TAG_PATTERN),
            'a Docker tag other than latest: letters, digits, _ . - (128 at most, not starting with . or -), '
            'or empty'),
    'digest': (re.compile(DIGEST_PATTERN), DIGEST_ALLOWED + ', or empty'),
}


class ImageReference(object):
    """An image reference split into its fields; empty strings for what is not set."""

    def __init__(self, registry='', repository='', tag='', digest=''):
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @property
    def name(self):
        """``registry/repository``, or the repository alone."""
        return '%s/%s' % (self.registry, self.repository) if self.registry else self.repository

    def __str__(self):
        text = self.name
        if self.tag:
            text += ':' + self.tag
        if self.digest:
            text += '@' + self.digest
        return text

    def as_dict(self):
        return dict((field, getattr(self, field)) for field in FIELDS if getattr(self, field))

    def __eq__(self, other):
        return isinstance(other, ImageReference) and self.as_dict() == other.as_dict()

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return 'ImageReference(%r)' % str(self)


def field_problem(field, value):
    """What is wrong with one field's value (``None`` when it is fine), and what is allowed."""
    regex, allowed = FIELD_RULES[field]
    if field == 'tag' and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)  # YAML reads `tag: 20250101` as a number; the chart prints it as text
    if not isinstance(value, str):
        return 'not a string', allowed
    if field == 'repository':
        if value == '':
            return 'empty string', allowed
        if len(value) > REPOSITORY_MAX_LENGTH:
            return 'longer than %d characters' % REPOSITORY_MAX_LENGTH, allowed
    if not regex.match(value):
        return 'not valid', allowed
    if field == 'tag' and value == FLOATING_TAG:
        return 'latest, which names whatever was pushed last', allowed
    return None


def mapping_problems(image):
    """Problems of an image mapping as ``(field, problem, allowed)``; an unknown key is one too."""
    problems = []
    for key in sorted((k for k in image if k not in FIELDS), key=str):
        problems.append((key, 'unknown key', ', '.join(FIELDS)))
    for field in FIELDS:
        if image.get(field) is None:
            continue
        found = field_problem(field, image[field])
        if found:
            problems.append((field, found[0], found[1]))
    return problems


def from_mapping(image):
    """An ImageReference from a mapping of fields; raises ValueError listing its problems."""
    if not isinstance(image, Mapping):
        raise ValueError('not a mapping of %s' % ', '.join(FIELDS))
    problems = mapping_problems(image)
    if problems:
        raise ValueError('; '.join('%s: %s' % (field, problem) for field, problem, _allowed in problems))
    if not image.get('repository'):
        raise ValueError('repository: missing')
    return ImageReference(**dict((field, str(image[field])) for field in FIELDS if image.get(field) is not None))


def parse(text):
    """Split ``[registry/]repository[:tag][@digest]``; raises ValueError when it is not one.

    The first path component is the registry when it looks like a host (holds a dot or a
    port, is ``localhost``, or has capitals), as the Docker CLI reads it.
    """
    if not isinstance(text, str) or not text:
        raise ValueError('not an image reference')
    rest, digest = text, ''
    if '@' in rest:
        rest, digest = rest.split('@', 1)
    tag = ''
    slash = rest.rfind('/')
    colon = rest.rfind(':')
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    registry, repository = '', rest
    first, separator, remainder = rest.partition('/')
    if separator and ('.' in first or ':' in first or first == 'localhost' or first != first.lower()):
        registry, repository = first, remainder
    return from_mapping(dict(registry=registry, repository=repository, tag=tag, digest=digest))
