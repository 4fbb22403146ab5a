# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import itertools
import re

import pytest
import yaml

from ansible_collections.laravel_ops.k8s.plugins.module_utils.migrations import (
    MigrationPlanError,
    image_digest,
    job_name_suffix,
    plan_migrations,
    same_image,
)
from ansible_collections.laravel_ops.k8s.plugins.action.migration_plan import ARGUMENT_SPEC, ActionModule
from ansible_collections.laravel_ops.k8s.plugins.modules.migration_plan import DOCUMENTATION

NEW = 'registry.example.com/acme/backend-php@sha256:' + '4f53cda18c' + 'e' * 54
OLD = 'registry.example.com/acme/backend-php@sha256:' + '0b5a7c1f4e' + 'd' * 54
ENVIRONMENTS = ('local', 'dev', 'staging', 'prod')
MODES = ('hooks', 'job', 'off')


def expected_outcome(environment, mode, approved, release_exists, changed):
    """The decision table, spelled out independently of the implementation."""
    if mode == 'off':
        return 'skip'
    if mode == 'hooks':
        return 'error:backend_migrations_mode' if environment == 'prod' else 'hooks'
    if release_exists and not changed:
        return 'skip'
    if environment == 'prod' and not approved:
        return 'error:backend_migrations_approved'
    return 'job'


TABLE = list(itertools.product(ENVIRONMENTS, MODES, (True, False), (True, False), (True, False)))


@pytest.mark.parametrize('environment, mode, approved, release_exists, changed', TABLE)
def test_decision_table(environment, mode, approved, release_exists, changed):
    expected = expected_outcome(environment, mode, approved, release_exists, changed)
    args = dict(environment=environment, mode=mode, approved=approved, release_exists=release_exists,
                pending_image=NEW, previous_image=OLD if changed else NEW)
    if expected.startswith('error:'):
        with pytest.raises(MigrationPlanError) as info:
            plan_migrations(**args)
        assert expected.split(':', 1)[1] in str(info.value)
        return
    plan = plan_migrations(**args)
    assert plan['action'] == expected
    assert plan['job_name_suffix'] == '4f53cda18c'
    assert plan['reason'].endswith('.')
    assert plan['approval_required'] == (expected == 'job' and environment == 'prod')


@pytest.mark.parametrize('environment, mode, approved, release_exists, previous, action, reason', [
    ('dev', 'hooks', False, True, OLD, 'hooks', 'Helm runs the migration hook Jobs'),
    ('staging', 'off', False, True, OLD, 'skip', 'Migrations are off'),
    ('prod', 'off', False, True, OLD, 'skip', 'Migrations are off'),
    ('prod', 'job', False, True, NEW, 'skip', 'image is unchanged'),
    ('prod', 'job', True, True, OLD, 'job', 'Image changed from sha256:0b5a7c1f4edd to sha256:4f53cda18cee in prod'),
    ('prod', 'job', True, False, '', 'job', 'First release in prod'),
    ('staging', 'job', False, True, '', 'job', 'The deployed image is unknown in staging'),
    ('local', 'job', False, False, NEW, 'job', 'First release in local'),
])
def test_readable_rows(environment, mode, approved, release_exists, previous, action, reason):
    plan = plan_migrations(environment, mode, approved, release_exists, NEW, previous)
    assert plan['action'] == action
    assert reason in plan['reason']


def test_unapproved_prod_job_message():
    with pytest.raises(MigrationPlanError) as info:
        plan_migrations('prod', 'job', approved=False, release_exists=True, pending_image=NEW, previous_image=OLD)
    message = str(info.value)
    assert 'backend_migrations_approved is not true' in message
    assert '-e backend_migrations_approved=true' in message
    assert 'sha256:4f53cda18cee' in message
    assert 'Nothing was changed' in message


def test_hooks_in_prod_message():
    with pytest.raises(MigrationPlanError) as info:
        plan_migrations('prod', 'hooks', True, True, NEW, OLD)
    assert str(info.value) == ("backend_migrations_mode: 'hooks' is not allowed in prod, because hook Jobs run after "
                               "the new pods start; allowed: job, off")


@pytest.mark.parametrize('kwargs, expected', [
    (dict(environment='qa'), 'backend_environment'),
    (dict(mode='sometimes'), 'backend_migrations_mode'),
    (dict(pending_image=''), 'pending_image: missing'),
])
def test_invalid_inputs(kwargs, expected):
    args = dict(environment='dev', mode='job', pending_image=NEW)
    args.update(kwargs)
    with pytest.raises(MigrationPlanError) as info:
        plan_migrations(**args)
    assert expected in str(info.value)
    assert 'allowed:' in str(info.value)


def test_job_name_suffix():
    assert job_name_suffix(NEW) == '4f53cda18c'
    assert job_name_suffix('acme/php@sha256:' + 'a' * 64) == 'a' * 10
    tag_suffix = job_name_suffix('acme/php:1.2.3')
    assert tag_suffix == job_name_suffix('acme/php:1.2.3')
    assert tag_suffix != job_name_suffix('acme/php:1.2.4')
    for suffix in (job_name_suffix(NEW), tag_suffix, job_name_suffix('X')):
        assert re.match(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', suffix)
        assert len(suffix) <= 10


def test_image_comparison():
    digest = 'sha256:' + 'c' * 64
    assert image_digest('a/b@' + digest) == digest
    assert image_digest('registry.example.com:5000/a/b:1.0@' + digest) == digest
    assert image_digest('a/b:1.0') is None
    assert image_digest('not a reference@' + digest) is None
    assert same_image('a/b:1.0@' + digest, 'a/b@' + digest)
    assert same_image('other/repo@' + digest, 'a/b@' + digest)
    assert not same_image(NEW, OLD)
    assert same_image('a/b:1.0', 'a/b:1.0')
    assert not same_image('a/b:1.0', '')
    assert not same_image('', '')


# ---------------------------------------------------------------------------------------------
# the action plugin shell

def test_documented_options_are_the_argument_spec():
    documented = yaml.safe_load(DOCUMENTATION)['options']
    assert sorted(documented) == sorted(ARGUMENT_SPEC)
    for name, spec in ARGUMENT_SPEC.items():
        assert documented[name]['type'] == spec['type'], name
        assert documented[name].get('required', False) == spec.get('required', False), name
        assert documented[name].get('default') == spec.get('default'), name


def test_action_returns_plan(run_action):
    result = run_action(ActionModule, dict(
        environment='prod', mode='job', approved=True, release_exists=True, pending_image=NEW, previous_image=OLD))
    assert not result.get('failed'), result
    assert result['changed'] is False
    assert result['action'] == 'job'
    assert result['job_name_suffix'] == '4f53cda18c'
    assert result['approval_required'] is True


def test_action_check_mode_is_read_only(run_action):
    result = run_action(ActionModule, dict(environment='staging', mode='hooks', pending_image=NEW), check_mode=True)
    assert result['changed'] is False
    assert result['action'] == 'hooks'


def test_action_fails_without_approval(run_action):
    result = run_action(ActionModule, dict(
        environment='prod', mode='job', approved=False, release_exists=True, pending_image=NEW, previous_image=OLD))
    assert result['failed'] is True
    assert 'backend_migrations_approved' in result['msg']


def test_action_accepts_string_booleans(run_action):
    # -e backend_migrations_approved=true arrives as a string; the bool type converts it.
    result = run_action(ActionModule, dict(
        environment='prod', mode='job', approved='true', release_exists='yes', pending_image=NEW, previous_image=OLD))
    assert result['action'] == 'job'


def test_action_rejects_unknown_mode_and_missing_arguments(run_action):
    result = run_action(ActionModule, dict(environment='prod', mode='always', pending_image=NEW))
    assert result['failed'] is True
    assert 'backend_migrations_mode' in result['msg'] and 'hooks, job, off' in result['msg']
    from ansible.errors import AnsibleActionFail
    with pytest.raises(AnsibleActionFail, match='pending_image'):
        run_action(ActionModule, dict(environment='prod', mode='job'))
