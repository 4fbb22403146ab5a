# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Decide how database migrations run for one deployment (pure logic, no cluster)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib

from ansible_collections.laravel_ops.k8s.plugins.module_utils import _image_reference, _policy
from ansible_collections.laravel_ops.k8s.plugins.module_utils._settings import ENVIRONMENTS, MIGRATION_MODES

ACTIONS = ('hooks', 'job', 'skip')
SUFFIX_LENGTH = 10
APPROVAL_VARIABLE = 'backend_migrations_approved'


class MigrationPlanError(Exception):
    """The plan cannot go ahead; the message says what to change."""


def image_digest(image):
    """The digest of an image reference, or None (also for text that is no reference)."""
    try:
        return _image_reference.parse(image).digest or None
    except ValueError:
        return None


def job_name_suffix(image, length=SUFFIX_LENGTH):
    """Short deterministic suffix for a Job name: lower-case hex, so DNS-label safe.

    The first characters of the digest when the reference has one (so the suffix can be
    matched to the image by eye), else of a SHA-256 of the whole reference.
    """
    digest = image_digest(image)
    if digest:
        source = digest[len('sha256:'):]
    else:
        source = hashlib.sha256((image or '').encode('utf-8')).hexdigest()
    return source[:length]


def same_image(pending, previous):
    """True when both references name the same image (by digest when both carry one)."""
    if not pending or not previous:
        return False
    a, b = image_digest(pending), image_digest(previous)
    if a and b:
        return a == b
    return pending == previous


def _short(image):
    digest = image_digest(image)
    if digest:
        return digest[:len('sha256:') + 12]
    return image


def plan_migrations(environment, mode, approved=False, release_exists=False, pending_image='', previous_image=''):
    """Return ``dict(action, job_name_suffix, reason, approval_required)``.

    ``action`` is ``hooks`` (the chart's hook Jobs run them), ``job`` (an explicit Job before the
    rollout) or ``skip``. Raises MigrationPlanError when the plan must not go ahead.
    """
    if environment not in ENVIRONMENTS:
        raise MigrationPlanError('backend_environment: %r is not a valid choice; allowed: %s' % (
            environment, ', '.join(ENVIRONMENTS)))
    if mode not in MIGRATION_MODES:
        raise MigrationPlanError('backend_migrations_mode: %r is not a valid choice; allowed: %s' % (
            mode, ', '.join(MIGRATION_MODES)))
    if not pending_image:
        raise MigrationPlanError('pending_image: missing; allowed: the image reference (ideally its digest) being deployed')

    suffix = job_name_suffix(pending_image)
    approval_required = False

    if mode == 'off':
        action = 'skip'
        reason = 'Migrations are off (backend_migrations_mode=off) in %s: nothing runs them.' % environment
    elif mode == 'hooks':
        allowed = _policy.allowed_values(environment, 'backend_migrations_mode')
        if allowed is not None and mode not in allowed:
            raise MigrationPlanError(
                "backend_migrations_mode: 'hooks' is not allowed in %s, because hook Jobs run after the new "
                "pods start; allowed: %s" % (environment, ', '.join(allowed)))
        action = 'hooks'
        reason = ('Helm runs the migration hook Jobs after install/upgrade '
                  '(backend_migrations_mode=hooks in %s).' % environment)
    elif release_exists and same_image(pending_image, previous_image):
        action = 'skip'
        reason = ('The image is unchanged since the deployed release (%s): '
                  'no migration Job to run.' % _short(pending_image))
    else:
        action = 'job'
        approval_required = _policy.needs_approval(environment)
        if not release_exists:
            why = 'First release in %s' % environment
        elif previous_image:
            why = 'Image changed from %s to %s in %s' % (_short(previous_image), _short(pending_image), environment)
        else:
            why = 'The deployed image is unknown in %s' % environment
        reason = '%s: run the migration Job before the rollout.' % why
        if approval_required and approved is not True:
            raise MigrationPlanError(
                'Migrations in %s need approval: the migration Job for image %s would run before the rollout, '
                'but %s is not true. Review the pending migrations, then re-run with -e %s=true '
                '(or the matching AWX survey field). Nothing was changed.' % (
                    environment, _short(pending_image), APPROVAL_VARIABLE, APPROVAL_VARIABLE))

    return dict(action=action, job_name_suffix=suffix, reason=reason, approval_required=approval_required)
