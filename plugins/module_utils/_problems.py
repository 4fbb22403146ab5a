# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the collection words a problem of its input: ``<name>: <problem>; allowed: <what>``.

Every check collects such lines and the caller reports them all at once; a secret's value is
never shown, only ``<hidden>``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from collections.abc import Mapping, Sequence

HIDDEN = '<hidden>'


class InputProblems(Exception):
    """Raised with every problem found; ``problems`` holds one line per problem."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(InputProblems, self).__init__('\n'.join(self.problems))

    def report(self, source):
        """``<source>: <n> problem(s) in the inventory:`` and one line per problem."""
        count = len(self.problems)
        return '%s: %d problem%s in the inventory:\n%s' % (source, count, '' if count == 1 else 's', self)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def show(value, secret=False):
    """A bad value as a message shows it: scalars as they are, containers described, secrets hidden."""
    if secret:
        return HIDDEN
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if is_int(value) or isinstance(value, float):
        return str(value)
    if isinstance(value, str):
        text = value if len(value) <= 80 else value[:77] + '...'
        return "'%s'" % text
    if isinstance(value, Mapping):
        return 'a mapping'
    if isinstance(value, Sequence):
        return 'a list'
    return 'a value of type %s' % type(value).__name__


def problem(name, what, allowed):
    return '%s: %s; allowed: %s' % (name, what, allowed)


def one_of(choices):
    return ', '.join(c if isinstance(c, str) else show(c) for c in choices)


def scrub(lines, secret_values):
    """Last line of defence: no secret value may appear in a message, whatever produced it."""
    secrets = sorted((s for s in secret_values if isinstance(s, str) and s), key=len, reverse=True)
    cleaned = []
    for line in lines:
        for secret in secrets:
            line = line.replace(secret, HIDDEN)
        cleaned.append(line)
    return cleaned


def dotted(path):
    """``('commonLabels', 'app.kubernetes.io/environment')`` -> ``commonLabels["app.kubernetes.io/environment"]``."""
    if not path:
        return '(root)'
    parts = []
    for key in path:
        key = str(key)
        if '.' in key or not key:
            parts.append('["%s"]' % key)
        elif parts:
            parts.append('.' + key)
        else:
            parts.append(key)
    return ''.join(parts)
