# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The per-environment policy of the settings table, applied to the inventory and to the same
chart paths when ``backend_chart_values`` sets them."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.laravel_ops.k8s.plugins.module_utils._image_reference import DIGEST_ALLOWED
from ansible_collections.laravel_ops.k8s.plugins.module_utils._mapping import (
    OVERRIDES_VARIABLE,
    TRANSFORMS,
    get_path,
    is_secret_path,
)
from ansible_collections.laravel_ops.k8s.plugins.module_utils._problems import dotted, is_int, one_of, problem, show
from ansible_collections.laravel_ops.k8s.plugins.module_utils._settings import SETTINGS


def rules_in(environment):
    """``(setting, rule)`` for every policy rule of ``environment``, in table order."""
    return [(setting, setting['policy'][environment]) for setting in SETTINGS
            if environment in setting.get('policy', {})]


def needs_approval(environment):
    """Whether a migration Job in ``environment`` needs ``backend_migrations_approved``."""
    return any(rule.get('approval') for _setting, rule in rules_in(environment))


def allowed_values(environment, name):
    """The values the policy of ``environment`` leaves to variable ``name``, or None for no limit."""
    for setting, rule in rules_in(environment):
        if setting['name'] == name and 'allowed' in rule:
            return rule['allowed']
    return None


def _violation(rule, value):
    """What the rule has against a value, or None."""
    if 'allowed' in rule and value not in rule['allowed']:
        return 'allowed'
    if 'forbidden' in rule and value in rule['forbidden']:
        return 'forbidden'
    if 'minimum' in rule and is_int(value) and value < rule['minimum']:
        return 'minimum'
    return None


def _allowed(rule, setting=None):
    """The values a rule leaves, in words; a forbidden choice leaves the other choices."""
    if 'minimum' in rule:
        return 'an integer >= %d' % rule['minimum']
    if 'allowed' in rule:
        return one_of(rule['allowed'])
    if setting is not None and 'choices' in setting:
        return one_of(c for c in setting['choices'] if c not in rule['forbidden'])
    return 'anything but %s' % one_of(rule['forbidden'])


def _because(rule):
    return ' (%s)' % rule['reason'] if rule.get('reason') else ''


def inventory_policy_problems(inventory, environment, names, require_digest):
    """Policy problems of the variables ``names``; only valid values are given here."""
    lines = []
    for setting, rule in rules_in(environment):
        name = setting['name']
        if name not in names:
            continue
        if inventory.get(name) is None:
            if rule.get('required'):
                lines.append(problem(name, 'missing in %s%s' % (environment, _because(rule)),
                                     '%s (%s policy)' % (_allowed(rule, setting), environment)))
            continue
        value = inventory[name]
        if 'requires' in rule:
            if require_digest and isinstance(value, Mapping) and not value.get(rule['requires']):
                lines.append(problem('%s.%s' % (name, rule['requires']), 'missing in %s: %s' % (
                    environment, rule['reason']), '%s (%s policy)' % (DIGEST_ALLOWED, environment)))
        elif _violation(rule, value):
            lines.append(problem(name, '%s is not allowed in %s%s' % (show(value), environment, _because(rule)),
                                 '%s (%s policy)' % (_allowed(rule, setting), environment)))
    return lines


def overrides_policy_problems(overrides, environment, require_digest):
    """The same rules for the chart paths ``backend_chart_values`` sets directly."""
    if not isinstance(overrides, Mapping):
        return []
    lines = []
    for setting, rule in rules_in(environment):
        for path, transform in setting.get('chart', ()):
            if 'requires' in rule:
                path, chart_rule = path + (rule['requires'],), None
                if not require_digest:
                    continue
            elif 'allowed' in rule:
                chart_rule = dict(allowed=tuple(sorted(set(TRANSFORMS[transform](v) for v in rule['allowed']),
                                                       key=str)))
            else:
                chart_rule = rule
            found, value = get_path(overrides, path)
            if not found:
                continue
            name = '%s.%s' % (OVERRIDES_VARIABLE, dotted(path))
            if chart_rule is None:
                if not value:
                    lines.append(problem(name, '%s is not allowed in %s' % (show(value), environment),
                                         '%s (%s policy)' % (DIGEST_ALLOWED, environment)))
            elif _violation(chart_rule, value):
                lines.append(problem(name, '%s is not allowed in %s' % (show(value, is_secret_path(path)), environment),
                                     '%s (%s policy of %s)' % (_allowed(chart_rule), environment, setting['name'])))
    return lines
