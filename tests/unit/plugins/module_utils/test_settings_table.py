# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The settings table holds together: every entry names real chart paths, roles and rules, and
the files generated from it are what it gives."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.laravel_ops.k8s.plugins.module_utils import _checks, _mapping, _policy
from ansible_collections.laravel_ops.k8s.plugins.module_utils._settings import ENVIRONMENTS, SETTINGS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
KEYS = {'name', 'kind', 'choices', 'minimum', 'required', 'default', 'secret', 'empty_means_unset', 'in_use_when',
        'chart', 'roles', 'policy', 'description'}
RULE_KEYS = {'allowed', 'forbidden', 'minimum', 'required', 'requires', 'approval', 'reason'}


def chart_defaults():
    with open(os.path.join(ROOT, 'charts', 'backend', 'values.yaml')) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize('setting', SETTINGS, ids=[s['name'] for s in SETTINGS])
def test_entry_is_well_formed(setting):
    assert set(setting) <= KEYS, set(setting) - KEYS
    assert re.match(r'^backend_[a-z_]+$', setting['name'])
    assert setting['description'].strip()
    assert _checks.allowed_text(setting)
    if 'default' in setting:
        assert _checks.value_problems(setting['name'], setting['default']) == []
    if setting.get('in_use_when'):
        assert _checks.BY_NAME[setting['in_use_when']]['kind'] == 'bool'
    for role in setting['roles']:
        assert role == 'deploy' or os.path.isdir(os.path.join(ROOT, 'roles', role)), role
    for environment, rule in setting.get('policy', {}).items():
        assert environment in ENVIRONMENTS
        assert set(rule) <= RULE_KEYS
        for value in rule.get('allowed', ()) + rule.get('forbidden', ()):
            assert _checks.value_problems(setting['name'], value) == [], value


@pytest.mark.parametrize('setting', [s for s in SETTINGS if s.get('chart')], ids=lambda s: s['name'])
def test_chart_paths_exist_in_the_chart(setting):
    defaults = chart_defaults()
    for path, transform in setting['chart']:
        assert transform in _mapping.TRANSFORMS or transform in ('app_secret', 'pins_digests', 'merge'), transform
        if path == ('commonLabels', 'app.kubernetes.io/environment'):
            assert 'commonLabels' in defaults
            continue
        found, _value = _mapping.get_path(defaults, path)
        assert found, 'charts/backend/values.yaml has no %s' % '.'.join(path)


def test_names_are_unique_and_environments_listed_once():
    names = [s['name'] for s in SETTINGS]
    assert len(names) == len(set(names))
    environment = _checks.BY_NAME['backend_environment']
    assert environment['choices'] is ENVIRONMENTS


def test_prod_asks_for_approval_and_no_other_environment_does():
    assert [e for e in ENVIRONMENTS if _policy.needs_approval(e)] == ['prod']
    assert _policy.allowed_values('prod', 'backend_migrations_mode') == ('job', 'off')
    assert _policy.allowed_values('dev', 'backend_migrations_mode') is None


def test_generated_files_are_what_the_table_gives():
    """docs/inventory-variables.md and the backend_* options of the argument specs."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'inventory_docs.py'), '--check'],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize('role', sorted(set(r for s in SETTINGS for r in s['roles']) - {'deploy'}))
def test_argument_specs_declare_exactly_the_variables_a_role_reads(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
        specs = yaml.safe_load(handle)['argument_specs']
    wanted = [s['name'] for s in SETTINGS if role in s['roles']]
    for entry, spec in specs.items():
        declared = [name for name in spec['options'] if name.startswith('backend_')]
        # An entry point other than main runs part of the role and may read part of its inputs.
        assert declared == wanted if entry == 'main' else set(declared) <= set(wanted), entry
        for name in declared:
            assert spec['options'][name].get('no_log', False) == _checks.BY_NAME[name].get('secret', False)


def test_roles_read_no_backend_variable_they_do_not_declare():
    """A role's files name only the backend_* variables its argument specs declare."""
    for role in sorted(os.listdir(os.path.join(ROOT, 'roles'))):
        declared = set(s['name'] for s in SETTINGS if role in s['roles'])
        used = set()
        for folder in ('tasks', 'defaults', 'vars', 'templates'):
            path = os.path.join(ROOT, 'roles', role, folder)
            for name in (os.listdir(path) if os.path.isdir(path) else ()):
                with open(os.path.join(path, name)) as handle:
                    # (the collection's own plugins are named laravel_ops.k8s.backend_*)
                    used.update(re.findall(r'(?<![.\w])backend_[a-z_]+', handle.read()))
        assert used <= declared, (role, sorted(used - declared))



# A value of each kind the table accepts, and what each argument-spec type lets through unchanged.
_ACCEPTED = {'int': [3], 'bool': [True], 'approval': [True, 'yes'], 'image': [{'repository': 'a'}],
             'database': [{'host': 'db'}], 'ca_source': [{'secret': 'ca'}], 'chart_values': [{}],
             'int_or_percent': [1, '10%'], 'alerts': [{'errorRate': {'threshold': 0.1}}]}
_PASSES = {'str': lambda v: isinstance(v, str), 'path': lambda v: isinstance(v, str), 'dict': lambda v: isinstance(v, dict),
           'bool': lambda v: isinstance(v, bool), 'int': lambda v: isinstance(v, int), 'raw': lambda v: True}


@pytest.mark.parametrize('setting', [s for s in SETTINGS if set(s['roles']) - {'deploy'}], ids=lambda s: s['name'])
def test_argument_specs_type_each_variable_as_its_kind(setting):
    """A mapping declared str, or an approval declared bool, would have Ansible's own argument
    validation refuse or mangle a value the table accepts."""
    role = next(r for r in setting['roles'] if r != 'deploy')
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
        option = yaml.safe_load(handle)['argument_specs']['main']['options'][setting['name']]
    for value in _ACCEPTED.get(setting['kind'], ['text']):
        assert _PASSES[option['type']](value), (setting['name'], option['type'], value)
