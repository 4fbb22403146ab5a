# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Calls through kubernetes.core's dynamic client, each failure turned into one ApiError that names
the call and carries the HTTP status (kubernetes' exceptions are not imported here)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json


class ApiError(Exception):
    """A Kubernetes API call failed; ``status`` is the HTTP status when known."""

    def __init__(self, message, status=None):
        super(ApiError, self).__init__(message)
        self.status = status


def error_message(exc):
    """The API server's own message when the error carries one, else the error's reason."""
    body = getattr(exc, 'body', None)
    if body:
        try:
            if isinstance(body, bytes):
                body = body.decode('utf-8', 'replace')
            message = json.loads(body).get('message')
            if message:
                return message
        except (ValueError, AttributeError):
            pass
    reason = getattr(exc, 'reason', None)
    return str(reason or exc)


def call(what, func, *args, **kwargs):
    """``func(*args, **kwargs)``; a failure becomes ApiError('<what>: <message>', status)."""
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # kubernetes exceptions, without importing kubernetes here
        raise ApiError('%s: %s' % (what, error_message(exc)), getattr(exc, 'status', None))


def to_dict(obj):
    if obj is None:
        return None
    if hasattr(obj, 'to_dict'):
        return obj.to_dict()
    return dict(obj)
