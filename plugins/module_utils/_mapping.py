# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Inventory variables to ``charts/backend`` values, and back from a chart path to the variable
that set it, both by the ``chart`` entries of the settings table."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.laravel_ops.k8s.plugins.module_utils._problems import dotted
from ansible_collections.laravel_ops.k8s.plugins.module_utils._settings import DIGEST_PINNED_ENVIRONMENTS, SETTINGS

OVERRIDES_VARIABLE = 'backend_chart_values'
APP_SECRET_SUFFIX = '-app-secrets'
_SKIP = object()
_SECRET_WORDS = ('password', 'token', 'appkey', 'apikey', 'privatekey', 'credential')


def _without_unset(mapping):
    return dict((k, v) for k, v in mapping.items() if v is not None and v != '')


# transform name -> function of the variable's value; _SKIP leaves the chart default.
TRANSFORMS = {
    'value': lambda value: value,
    'is_set': bool,
    'when_set': lambda value: value if value else _SKIP,
    'is_hooks': lambda value: value == 'hooks',
    # null, which makes Helm drop the chart's default (minAvailable, when maxUnavailable is set)
    'cleared': lambda value: None,
    'image': _without_unset,
    'mapping': lambda value: dict((k, v) for k, v in value.items() if v is not None),
    # one level deeper: a null field leaves the chart's default (Helm would delete the key)
    'alerts': lambda value: dict((rule, dict((k, v) for k, v in fields.items() if v is not None))
                                 for rule, fields in value.items() if fields is not None),
    'ca_source': lambda value: dict(configMapName=value.get('config_map') or '', secretName=value.get('secret') or '',
                                    key=value.get('key') or 'ca.crt'),
}


def app_secret_name(inventory):
    """The Secret the release reads APP_KEY and DB_PASSWORD from: the external one, or its own."""
    return inventory.get('backend_existing_secret') or inventory['backend_release_name'] + APP_SECRET_SUFFIX


def plain(value):
    """Deep copy into plain dicts and lists (Ansible may hand over lazy or tagged containers)."""
    if isinstance(value, Mapping):
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def get_path(data, path):
    node = data
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _set_path(data, path, value):
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def deep_merge(base, override):
    """A new dict: mappings merged recursively, lists and scalars of ``override`` win."""
    result = plain(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = plain(value)
    return result


def to_chart_values(inventory, is_unset, require_digest=True):
    """Chart values from the inventory; ``is_unset(setting, value)`` says which leave the chart default.

    ``require_digest`` false (a check before the images are built) leaves the chart's digest
    switch off.
    """
    values, overrides = {}, {}
    for setting in SETTINGS:
        value = inventory.get(setting['name'])
        for path, transform in setting.get('chart', ()):
            if transform == 'app_secret':
                _set_path(values, path, app_secret_name(inventory))
            elif transform == 'pins_digests':
                if require_digest and value in DIGEST_PINNED_ENVIRONMENTS:
                    _set_path(values, path, True)
            elif is_unset(setting, value):
                continue
            elif transform == 'merge':
                overrides = value
            else:
                mapped = TRANSFORMS[transform](value)
                if mapped is not _SKIP:
                    _set_path(values, path, mapped)
    return deep_merge(values, overrides)


def is_secret_path(path):
    """A chart path whose value is (or names) a secret, judged by its last key."""
    last = str(path[-1]).lower().replace('_', '').replace('-', '') if path else ''
    return any(word in last for word in _SECRET_WORDS)


def source_variable(path, overrides=None):
    """Name the inventory variable that produced the chart value at ``path``."""
    path = tuple(path)
    if not path:
        return OVERRIDES_VARIABLE
    node = overrides or {}
    for index, key in enumerate(path):
        if not isinstance(node, Mapping) or key not in node:
            break
        node = node[key]
        if index == len(path) - 1 or not isinstance(node, Mapping):
            return '%s.%s' % (OVERRIDES_VARIABLE, dotted(path))
    sources = [(chart_path, setting['name']) for setting in SETTINGS for chart_path, transform
               in setting.get('chart', ()) if transform != 'merge']
    best = max(((p, n) for p, n in sources if path[:len(p)] == p), key=lambda pn: len(pn[0]), default=None)
    if best is not None:
        rest = path[len(best[0]):]
        return '%s.%s' % (best[1], dotted(rest)) if rest else best[1]
    names = []
    for chart_path, name in sources:
        if chart_path[:len(path)] == path and name not in names:
            names.append(name)
    return ' / '.join(names) if names else '%s.%s' % (OVERRIDES_VARIABLE, dotted(path))
