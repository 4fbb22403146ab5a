# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Object-by-object difference of two rendered Helm manifests (what runs, what would run), as
Ansible's diff output shows it. Secret values never appear: each is replaced by a marker that
only says whether it changed."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import traceback

try:
    import yaml
    YAML_IMPORT_ERROR = None
except ImportError:  # reported by the module that uses this, with missing_required_lib
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()

REDACTED = '<redacted>'
REDACTED_CHANGED = '<redacted, changed>'
_SECRET_FIELDS = ('data', 'stringData')


def objects(manifest):
    """``{'<Kind> <namespace>/<name>': object}`` of a multi-document YAML manifest."""
    found = {}
    for document in yaml.safe_load_all(manifest or ''):
        if not isinstance(document, dict) or not document.get('kind'):
            continue
        metadata = document.get('metadata') or {}
        where = '%s/%s' % (metadata.get('namespace'), metadata.get('name')) if metadata.get('namespace') \
            else metadata.get('name')
        found['%s %s' % (document['kind'], where)] = document
    return found


def _redacted(obj, before=None):
    """A Secret with its values replaced: on the side before, by a marker; on the side after, by a
    marker that also says whether the value differs from ``before``'s."""
    if obj is None or obj.get('kind') != 'Secret':
        return obj
    redacted = dict(obj)
    for field in _SECRET_FIELDS:
        if isinstance(obj.get(field), dict):
            old = ((before or {}).get(field) or {}) if before is not None else None
            redacted[field] = dict(
                (key, REDACTED if old is None or old.get(key) == value else REDACTED_CHANGED)
                for key, value in obj[field].items())
    return redacted


def _text(obj):
    return yaml.safe_dump(obj, default_flow_style=False, sort_keys=True) if obj is not None else ''


def manifest_diff(before, after):
    """``(changes, diffs)``: one ``{'object', 'action'}`` per object added, changed or removed
    (action ``added``, ``changed`` or ``removed``), in name order, and Ansible diff entries for them."""
    old, new = objects(before), objects(after)
    changes, diffs = [], []
    for name in sorted(set(old) | set(new)):
        was, will = old.get(name), new.get(name)
        if was == will:
            continue
        action = 'added' if was is None else 'removed' if will is None else 'changed'
        changes.append(dict(object=name, action=action))
        diffs.append(dict(before_header=name if was is not None else '(absent)',
                          after_header=name if will is not None else '(absent)',
                          before=_text(_redacted(was)), after=_text(_redacted(will, was or {}))))
    return changes, diffs
