# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.laravel_ops.k8s.plugins.module_utils._helm_history import RollbackError, rollback_target


def history(*statuses):
    return [{'revision': n, 'status': s} for n, s in enumerate(statuses, 1)]


@pytest.mark.parametrize('statuses, revision, expected', [
    (('superseded', 'deployed'), 0, 1),
    (('superseded', 'superseded', 'deployed'), 0, 2),
    (('superseded', 'deployed', 'pending-upgrade'), 0, 2),        # an interrupted upgrade
    (('superseded', 'failed', 'deployed'), 0, 1),                  # a failed revision never ran
    (('deployed', 'pending-rollback'), 0, 1),
    (('superseded', 'superseded', 'deployed'), 1, 1),
])
def test_target(statuses, revision, expected):
    assert rollback_target(history(*statuses), revision) == expected


@pytest.mark.parametrize('statuses, revision, message', [
    ((), 0, 'no history'),
    (('pending-install',), 0, 'no revision before the current one (1, pending-install) ever ran'),
    (('deployed',), 0, 'no revision before the current one'),
    (('superseded', 'deployed'), 5, 'revision 5 is not in the release history (1, 2)'),
    (('failed', 'deployed'), 1, 'revision 1 never ran (its status is failed)'),
    (('superseded', 'deployed'), 2, 'revision 2 is the current one'),
])
def test_no_target(statuses, revision, message):
    with pytest.raises(RollbackError, match=message.replace('(', r'\(').replace(')', r'\)')):
        rollback_target(history(*statuses), revision)


def test_durations_and_times():
    from ansible_collections.laravel_ops.k8s.plugins.module_utils._helm_history import parse_duration, parse_helm_time
    assert [parse_duration(d) for d in ('10m', '1h30m', '90s', '1h')] == [600, 5400, 90, 3600]
    for bad in ('', 'ten', '10', '5d'):
        with pytest.raises(ValueError):
            parse_duration(bad)
    a = parse_helm_time('2026-11-29T17:04:31.853419381Z')
    b = parse_helm_time('2026-11-29T18:04:31.853419+01:00')
    assert a == b and a.microsecond == 853419
    assert parse_helm_time('2026-11-29T17:04:31Z').second == 31


@pytest.mark.parametrize('statuses, age, expected', [
    (('superseded', 'deployed'), 3600, None),
    (('superseded', 'deployed', 'pending-upgrade'), 3600, ('rollback', 2)),
    (('pending-install',), 3600, ('uninstall', None)),
    (('deployed', 'pending-rollback'), 3600, ('rollback', 1)),
])
def test_recovery_of_a_pending_release(statuses, age, expected):
    import datetime
    from ansible_collections.laravel_ops.k8s.plugins.module_utils._helm_history import UTC, recovery
    now = datetime.datetime(2026, 11, 29, 18, 0, 0, tzinfo=UTC)
    updated = (now - datetime.timedelta(seconds=age)).strftime('%Y-%m-%dT%H:%M:%S.123456789Z')
    history = [dict(entry, updated=updated) for entry in [{'revision': n, 'status': s} for n, s in enumerate(statuses, 1)]]
    assert recovery(history, 600, now) == expected


def test_a_recent_pending_operation_is_left_alone():
    import datetime
    from ansible_collections.laravel_ops.k8s.plugins.module_utils._helm_history import UTC, recovery
    now = datetime.datetime(2026, 11, 29, 18, 0, 0, tzinfo=UTC)
    history = [{'revision': 1, 'status': 'deployed', 'updated': '2026-11-29T17:00:00Z'},
               {'revision': 2, 'status': 'pending-upgrade', 'updated': '2026-11-29T17:59:00Z'}]
    with pytest.raises(RollbackError, match='revision 2 has been pending-upgrade since 2026-11-29T17:59:00Z, '
                                            'less than 600s ago'):
        recovery(history, 600, now)
