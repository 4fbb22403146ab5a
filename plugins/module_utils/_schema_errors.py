# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Chart values checked against ``values.schema.json``, each error named by its inventory variable.

The values are partial (the chart's defaults fill in the rest), so ``required`` is not applied;
every other keyword the chart's schema uses is.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from collections.abc import Mapping

try:
    import jsonschema
except ImportError:  # pragma: no cover - exercised by tests through HAS_JSONSCHEMA
    jsonschema = None
    HAS_JSONSCHEMA = False
else:
    HAS_JSONSCHEMA = True

from ansible_collections.laravel_ops.k8s.plugins.module_utils._mapping import (
    OVERRIDES_VARIABLE,
    is_secret_path,
    source_variable,
)
from ansible_collections.laravel_ops.k8s.plugins.module_utils._problems import dotted, one_of, show

_BOUNDS = {'minimum': '>=', 'maximum': '<=', 'exclusiveMinimum': '>', 'exclusiveMaximum': '<'}


def without_required(schema):
    """Copy of a schema without its ``required`` lists, at every depth."""
    if isinstance(schema, Mapping):
        return dict((k, without_required(v)) for k, v in schema.items() if k != 'required')
    if isinstance(schema, list):
        return [without_required(v) for v in schema]
    return schema


def _summary(schema):
    parts = []
    if isinstance(schema, Mapping):
        if '$ref' in schema:
            parts.append('see %s' % schema['$ref'])
        if 'enum' in schema:
            parts.append('one of %s' % one_of(json.dumps(v) for v in schema['enum']))
        if 'type' in schema:
            types = schema['type'] if isinstance(schema['type'], list) else [schema['type']]
            parts.append('type %s' % ' or '.join(types))
        if 'pattern' in schema:
            parts.append('matching %s' % schema['pattern'])
        parts.extend('%s %s' % (label, schema[word]) for word, label in _BOUNDS.items() if word in schema)
    return ' '.join(parts) or json.dumps(schema, sort_keys=True)[:120]


def _unknown_keys(err, path, overrides):
    properties = err.schema.get('properties') or {}
    allowed = one_of(sorted(properties)) if properties else 'no keys'
    extras = sorted((k for k in err.instance if k not in properties), key=str)
    return ['%s -> %s: unknown key %s; allowed: %s' % (
        source_variable(path + (key,), overrides), dotted(path + (key,)), show(str(key)), allowed) for key in extras]


def _describe(err, overrides, secret_values):
    path = tuple(err.absolute_path)
    validator, expected, instance = err.validator, err.validator_value, err.instance
    if validator == 'additionalProperties' and expected is False and isinstance(instance, Mapping):
        return _unknown_keys(err, path, overrides)
    shown = show(instance, is_secret_path(path) or (isinstance(instance, str) and instance in secret_values))
    if validator == 'type':
        types = expected if isinstance(expected, list) else [expected]
        what, allowed = '%s is not of type %s' % (shown, ' or '.join(types)), 'type %s' % ' or '.join(types)
    elif validator == 'enum':
        what, allowed = '%s is not one of the allowed values' % shown, one_of(json.dumps(v) for v in expected)
    elif validator == 'pattern':
        what, allowed = '%s does not match the pattern' % shown, 'pattern %s' % expected
    elif validator in _BOUNDS:
        what, allowed = '%s is out of range' % shown, '%s %s' % (_BOUNDS[validator], expected)
    elif validator in ('minLength', 'maxLength', 'minItems', 'maxItems'):
        what, allowed = '%s has the wrong length' % shown, '%s %s' % (validator, expected)
    elif validator == 'anyOf':
        what, allowed = '%s matches none of the allowed forms' % shown, ' | '.join(_summary(s) for s in expected)
    else:
        what = '%s fails the %s constraint' % (shown, validator)
        allowed = '%s %s' % (validator, json.dumps(expected, sort_keys=True, default=str)[:120])
    return ['%s -> %s: %s; allowed: %s' % (source_variable(path, overrides), dotted(path), what, allowed)]


def schema_problems(values, schema, overrides=None, secret_values=()):
    """Lines ``<variable> -> <chart.path>: <problem>; allowed: <...>`` for every schema error."""
    if not HAS_JSONSCHEMA:
        return ['%s: the Python library jsonschema is missing on the controller, so the values cannot be checked '
                'against values.schema.json; allowed: install jsonschema (pip install jsonschema)' % OVERRIDES_VARIABLE]
    relaxed = without_required(schema)
    cls = jsonschema.validators.validator_for(relaxed, default=jsonschema.Draft7Validator)
    try:
        cls.check_schema(relaxed)
    except jsonschema.exceptions.SchemaError as exc:
        return ['%s: the chart schema itself is invalid at %s: %s; allowed: a valid JSON schema' % (
            OVERRIDES_VARIABLE, dotted(tuple(exc.absolute_path)), exc.message)]
    errors = sorted(cls(relaxed).iter_errors(values), key=lambda e: ([str(p) for p in e.absolute_path], e.validator))
    lines = []
    for err in errors:
        for line in _describe(err, overrides or {}, secret_values):
            if line not in lines:
                lines.append(line)
    return lines
