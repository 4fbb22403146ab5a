# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which Helm revision a rollback returns to, read from `helm history -o json` (pure logic)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import re

try:
    UTC = datetime.timezone.utc
except AttributeError:  # pragma: no cover - Python 2 is not a target, but sanity compiles for it
    UTC = None

# Revisions that once ran: the current one, or one a later upgrade replaced.
RAN = ('deployed', 'superseded')
PENDING = ('pending-install', 'pending-upgrade', 'pending-rollback')


class RollbackError(Exception):
    """No revision to return to; the message says why."""


def rollback_target(history, revision=0):
    """The revision to roll back to: ``revision`` when given (it must have run), else the newest
    revision below the current one that ran."""
    if not history:
        raise RollbackError('the release has no history: nothing was ever installed')
    by_number = dict((int(entry['revision']), entry) for entry in history)
    current = max(by_number)
    if revision:
        if revision not in by_number:
            raise RollbackError('revision %d is not in the release history (%s)' % (
                revision, ', '.join(str(n) for n in sorted(by_number))))
        if by_number[revision]['status'] not in RAN:
            raise RollbackError('revision %d never ran (its status is %s); allowed: a revision that was deployed' % (
                revision, by_number[revision]['status']))
        if revision == current:
            raise RollbackError('revision %d is the current one' % revision)
        return revision
    earlier = [n for n in sorted(by_number) if n < current and by_number[n]['status'] in RAN]
    if not earlier:
        raise RollbackError('no revision before the current one (%d, %s) ever ran' % (
            current, by_number[current]['status']))
    return earlier[-1]


_DURATION_UNITS = {'h': 3600, 'm': 60, 's': 1}


def parse_duration(text):
    """Seconds in a Go duration of hours, minutes and seconds (``10m``, ``1h30m``, ``90s``)."""
    match = re.match(r'^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$', str(text or ''))
    if not text or not match:
        raise ValueError('%r is not a duration like 10m, 1h30m or 90s' % (text,))
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_helm_time(text):
    """A time of `helm history -o json` (RFC 3339, nanoseconds, Z or an offset) as aware UTC."""
    match = re.match(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$', text.strip())
    if not match:
        raise ValueError('%r is not an RFC 3339 time' % text)
    moment = datetime.datetime.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S')
    moment = moment.replace(microsecond=int((match.group(2) or '0')[:6].ljust(6, '0')))
    zone = match.group(3)
    offset = datetime.timedelta(0) if zone == 'Z' else datetime.timedelta(
        hours=int(zone[1:3]), minutes=int(zone[4:6])) * (1 if zone[0] == '+' else -1)
    return (moment - offset).replace(tzinfo=UTC)


def recovery(history, older_than_seconds, now):
    """What recovering a release an interrupted operation left pending takes: None (the newest
    revision is not pending), ``('rollback', revision)`` or ``('uninstall', None)`` (a first
    install never finished). Raises RollbackError while the operation may still be running."""
    if not history:
        return None
    newest = max(history, key=lambda entry: int(entry['revision']))
    if newest['status'] not in PENDING:
        return None
    since = parse_helm_time(newest['updated'])
    if (now - since).total_seconds() <= older_than_seconds:
        raise RollbackError('revision %s has been %s since %s, less than %ds ago: another operation may still '
                            'be running on it' % (newest['revision'], newest['status'], newest['updated'],
                                                  older_than_seconds))
    try:
        return 'rollback', rollback_target(history)
    except RollbackError:
        return 'uninstall', None
