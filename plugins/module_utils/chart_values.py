# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventory, checked and turned into ``charts/backend`` values.

The steps, each in a module of its own and all driven by the settings table (``_settings``):
the variables' kinds and the rules among them (``_checks``), the environment policy
(``_policy``), the mapping to chart values (``_mapping``) and the chart's schema
(``_schema_errors``). Each step reports every problem it finds at once.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.laravel_ops.k8s.plugins.module_utils import _checks, _policy
from ansible_collections.laravel_ops.k8s.plugins.module_utils._mapping import (
    OVERRIDES_VARIABLE,
    is_secret_path,
    to_chart_values,
)
from ansible_collections.laravel_ops.k8s.plugins.module_utils._problems import (
    InputProblems,
    problem,
    scrub,
    show,
)
from ansible_collections.laravel_ops.k8s.plugins.module_utils._schema_errors import schema_problems
from ansible_collections.laravel_ops.k8s.plugins.module_utils._settings import ENVIRONMENTS, SETTINGS

ROLES = tuple(sorted(set(role for setting in SETTINGS for role in setting['roles'])))


def role_variables(role=None):
    """The variables a role reads (every variable when ``role`` is None), in table order."""
    return [s['name'] for s in SETTINGS if role is None or role in s['roles']]


def inventory_names(variable_names, role=None):
    """The names among ``variable_names`` that ``role`` reads (all ``backend_*`` ones when None).

    Without a role, unknown ``backend_*`` names are kept too, so that a check can name a
    misspelt one.
    """
    if role is not None and role not in ROLES:
        raise InputProblems([problem('role', '%s is not a role that reads the inventory' % show(role),
                                     ', '.join(ROLES))])
    wanted = role_variables(role)
    if role is None:
        wanted += sorted(n for n in variable_names if n.startswith(_checks.PREFIX) and n not in _checks.BY_NAME)
    present = set(variable_names)
    return [name for name in wanted if name in present]


def with_defaults(inventory, role=None):
    """The inventory as ``role`` reads it: the table's default for each unset variable, and an
    approval given as a survey answer (yes / no) as the boolean it stands for."""
    filled = dict(inventory)
    for name in role_variables(role):
        setting = _checks.BY_NAME[name]
        if filled.get(name) is None and 'default' in setting:
            filled[name] = setting['default']
        elif setting['kind'] == 'approval' and isinstance(filled.get(name), str):
            filled[name] = _checks.APPROVAL_ANSWERS.get(filled[name], filled[name])
    return filled


def _secret_values(inventory):
    values = [inventory.get(s['name']) for s in SETTINGS if s.get('secret')]
    overrides = inventory.get(OVERRIDES_VARIABLE)

    def walk(node, path):
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, path + (key,))
        elif is_secret_path(path):
            values.append(node)
    walk(overrides, ())
    return [v for v in values if isinstance(v, str) and v]


def _flag_problems(for_deploy, require_digest):
    lines = []
    for name, value in (('for_deploy', for_deploy), ('require_digest', require_digest)):
        if value is not None and not isinstance(value, bool):
            lines.append(problem(name, '%s is not a boolean' % show(value), 'true or false'))
    return lines


def _all_problems(inventory, role, for_deploy, require_digest):
    """Kind, rule and policy problems of the variables ``role`` reads; unknown names when checking all."""
    names = role_variables(role)
    inventory = with_defaults(inventory)
    lines, valid = [], []
    for name in names:
        found = _checks.variable_problems(name, inventory)
        lines.extend(found)
        if not found and _checks.is_in_use(name, inventory):
            valid.append(name)
    lines.extend(_checks.rule_problems(inventory, names, for_deploy))
    if role is None:
        lines.extend(_checks.unknown_variables(inventory))
    if role == 'image' or (role is None and inventory['backend_build_image'] is True):
        lines.extend(_checks.unpushable_images(inventory, names))
    environment = inventory.get('backend_environment')
    if environment in ENVIRONMENTS:
        lines.extend(_policy.inventory_policy_problems(inventory, environment, valid, require_digest))
        if OVERRIDES_VARIABLE in valid:
            lines.extend(_policy.overrides_policy_problems(inventory.get(OVERRIDES_VARIABLE), environment,
                                                           require_digest))
    return lines


def check_inventory(inventory, role=None, for_deploy=True, require_digest=None):
    """Raise InputProblems with every problem of the variables ``role`` reads (all when None)."""
    if not isinstance(inventory, Mapping):
        raise InputProblems([problem('inventory', '%s is not a mapping' % show(inventory),
                                     'the backend_* variables by name')])
    lines = _flag_problems(for_deploy, require_digest)
    if role is not None and role not in ROLES:
        lines.append(problem('role', '%s is not a role that reads the inventory' % show(role), ', '.join(ROLES)))
    if not lines:
        require_digest = for_deploy if require_digest is None else require_digest
        lines = _all_problems(inventory, role, for_deploy, require_digest)
    if lines:
        raise InputProblems(scrub(lines, _secret_values(inventory)))


def with_images(inventory, images, role=None):
    """The inventory with the tags and digests an image build produced (``image_result.images``).

    For a role, image variables whose switch is off are left out: nothing runs them.
    """
    if not isinstance(images, Mapping):
        raise InputProblems([problem('images', '%s is not a mapping' % show(images),
                                     "the image role's image_result.images")])
    image_names = [s['name'] for s in SETTINGS if s['kind'] == 'image']
    unknown = sorted(n for n in images if n not in image_names)
    if unknown:
        raise InputProblems([problem('images', 'unknown image variable %s' % show(n), ', '.join(image_names))
                             for n in unknown])
    merged = dict(inventory)
    for name, image in images.items():
        base = inventory.get(name) if isinstance(inventory.get(name), Mapping) else {}
        merged[name] = dict(base, **dict((field, value) for field, value in image.items() if value))
    if role is not None:
        for name in image_names:
            if name in merged and not _checks.is_in_use(name, merged):
                del merged[name]
    return merged


def build_chart_values(inventory, schema=None, for_deploy=True, require_digest=None):
    """Check the release's variables, then map them to chart values and check those against ``schema``.

    The values name the release's Secret (``secrets.existingSecret``) and never carry a secret.
    Raises InputProblems listing every problem of the step that failed.
    """
    check_inventory(inventory, 'release', for_deploy, require_digest)
    if schema is not None and not isinstance(schema, Mapping):
        raise InputProblems([problem('schema', '%s is not a mapping' % show(schema),
                                     "the parsed values.schema.json (lookup('file', ...) | from_json), or null")])
    require_digest = for_deploy if require_digest is None else require_digest
    values = to_chart_values(inventory, _checks.is_unset, require_digest)
    if schema is not None:
        secrets = _secret_values(inventory)
        lines = schema_problems(values, schema, inventory.get(OVERRIDES_VARIABLE), secrets)
        if lines:
            raise InputProblems(scrub(lines, secrets))
    return values
