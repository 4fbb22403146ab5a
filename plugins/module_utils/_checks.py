# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks of the inventory variables against the kinds the settings table gives them.

``inventory_problems`` returns one line per problem, for every variable checked, together with
the rules that tie variables to each other; the environment policy is ``_policy``'s.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import binascii
import difflib
import ipaddress
import re

from collections.abc import Mapping

from ansible_collections.laravel_ops.k8s.plugins.module_utils import _image_reference
from ansible_collections.laravel_ops.k8s.plugins.module_utils._problems import (
    HIDDEN,
    is_int,
    one_of,
    problem,
    show,
)
from ansible_collections.laravel_ops.k8s.plugins.module_utils._settings import (
    ALERT_RULE_FIELDS,
    ALERT_RULES,
    SETTINGS,
    VERIFYING_SSLMODES,
)

BY_NAME = dict((setting['name'], setting) for setting in SETTINGS)
PREFIX = 'backend_'
DATABASE_KEYS = ('host', 'port', 'name', 'username')
CA_SOURCES = ('config_map', 'secret')
CA_SOURCE_KEYS = CA_SOURCES + ('key',)
APP_KEY_PREFIX = 'base64:'
APP_KEY_BYTES = 32
# An AWX survey has no boolean question: an approval may come as a multiple-choice answer.
APPROVAL_ANSWERS = {'yes': True, 'no': False}
SECRET_FORMS = ('either backend_existing_secret (a Secret holding APP_KEY and DB_PASSWORD), '
                'or both backend_app_key and backend_database_password')

_DNS_LABEL_RE = re.compile(r'^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$')
_PERCENT_RE = re.compile(r'^(?:100|[1-9]?[0-9])%$')
_APP_ENV_RE = re.compile(r'^[A-Za-z0-9_.-]+$')
_HTTP_URL_RE = re.compile(r'^(https?)://([^/?#]+)(?:[/?#].*)?$')
# A duration as Prometheus parses it (model.ParseDuration): units largest first, or 0.
_PROMETHEUS_DURATION_RE = re.compile(r'^(?:0|(?:[0-9]+y)?(?:[0-9]+w)?(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?'
                                     r'(?:[0-9]+ms)?)$')
# A key of a ConfigMap or Secret.
_OBJECT_KEY_RE = re.compile(r'^[-._a-zA-Z0-9]{1,253}$')
HELM_RELEASE_NAME_MAX = 53


def is_dns_subdomain(value):
    """RFC 1123 subdomain as Kubernetes uses it: lower-case labels, 253 characters at most."""
    return (isinstance(value, str) and 0 < len(value) <= 253
            and all(_DNS_LABEL_RE.match(label) for label in value.split('.')))


def _is_dns_label(value):
    return isinstance(value, str) and bool(_DNS_LABEL_RE.match(value))


def _is_release_name(value):
    return _is_dns_label(value) and len(value) <= HELM_RELEASE_NAME_MAX


def _is_ingress_host(value):
    """A DNS subdomain, optionally behind one leading ``*.`` wildcard label."""
    if isinstance(value, str) and value.startswith('*.'):
        value = value[2:]
    return is_dns_subdomain(value)


def _is_host(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return is_dns_subdomain(value.lower())


def _is_http_url(value):
    if any(c.isspace() for c in value):
        return False
    match = _HTTP_URL_RE.match(value)
    if not match or '@' in match.group(2):
        return False
    authority, port = match.group(2), None
    if authority.startswith('['):
        host, _bracket, rest = authority[1:].partition(']')
        if rest:
            if not rest.startswith(':'):
                return False
            port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
    else:
        host, _colon, port = authority.partition(':')
        port = port if _colon else None
        if not _is_host(host):
            return False
    return port is None or (port.isdigit() and 1 <= int(port) <= 65535)


def is_laravel_app_key(value):
    """Laravel's APP_KEY for AES-256-CBC: ``base64:`` followed by 32 bytes in base64."""
    if not isinstance(value, str) or not value.startswith(APP_KEY_PREFIX):
        return False
    try:
        raw = base64.b64decode(value[len(APP_KEY_PREFIX):].encode('ascii'), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return len(raw) == APP_KEY_BYTES


# kind -> (predicate on a non-empty string, what is allowed)
_STRING_KINDS = {
    'dns_label': (_is_dns_label, 'a DNS label (RFC 1123: lower-case letters, digits and -, 63 at most)'),
    'release_name': (_is_release_name, 'a Helm release name (RFC 1123 label, %d characters at most)'
                     % HELM_RELEASE_NAME_MAX),
    'dns_subdomain': (is_dns_subdomain, 'a name in RFC 1123 subdomain form (lower case, e.g. backend-tls)'),
    'ingress_host': (_is_ingress_host, 'a DNS name (RFC 1123, lower case, optionally *.-prefixed)'),
    'http_url': (_is_http_url, 'an http:// or https:// URL with a host, e.g. https://api.example.com'),
    'app_env': (_APP_ENV_RE.match, 'a non-empty string of letters, digits, _ . - such as production, staging, local'),
    'path': (None, 'a path on the controller'),
}


def is_unset(setting, value):
    """Null is unset; so is an empty string for variables whose table entry says so."""
    return value is None or (value == '' and setting.get('empty_means_unset') is True)


def allowed_text(setting):
    """What a variable allows, in words (for messages and the docs)."""
    kind = setting['kind']
    if kind == 'choice':
        text = one_of(setting['choices'])
    elif kind == 'bool':
        text = 'true or false'
    elif kind == 'approval':
        text = 'true or false, or the survey answers %s' % ' or '.join(APPROVAL_ANSWERS)
    elif kind == 'int':
        text = 'an integer >= %d' % setting['minimum']
    elif kind == 'int_or_percent':
        text = 'a whole number >= 1 or a percentage from 1% to 100%'
    elif kind == 'image':
        text = 'a mapping with keys %s' % ', '.join(_image_reference.FIELDS)
    elif kind == 'database':
        text = 'a mapping with keys %s' % ', '.join(DATABASE_KEYS)
    elif kind == 'ca_source':
        text = ('a mapping with either config_map or secret (the name of the object holding the CA) and '
                'optionally key (default ca.crt)')
    elif kind == 'chart_values':
        text = 'a mapping of chart values'
    elif kind == 'alerts':
        text = 'a mapping by rule (%s) of enabled, for, severity and the threshold (%s)' % (
            ', '.join(rule for rule, _field, _kind in ALERT_RULES),
            ', '.join('%s.%s: %s' % (rule, field, _THRESHOLDS[kind][1]) for rule, field, kind in ALERT_RULES if field))
    elif kind == 'app_key':
        text = "'base64:' followed by %d random bytes in base64 (php artisan key:generate --show)" % APP_KEY_BYTES
    elif kind == 'secret_string':
        text = 'a string'
    else:
        text = _STRING_KINDS[kind][1]
    if setting.get('empty_means_unset') is False:
        text += ', or empty for none'
    return text


def _image_problems(name, value):
    if not isinstance(value, Mapping):
        return [problem(name, '%s is not a mapping' % show(value), allowed_text(BY_NAME[name]))]
    lines = []
    for field, what, allowed in _image_reference.mapping_problems(value):
        shown = '' if what == 'unknown key' else show(value.get(field)) + ' is '
        lines.append(problem('%s.%s' % (name, field), shown + what, allowed))
    if not value.get('repository') and not any(line.startswith(name + '.repository') for line in lines):
        lines.append(problem(name + '.repository', 'missing', _image_reference.FIELD_RULES['repository'][1]))
    return lines


def _database_problems(name, value):
    if not isinstance(value, Mapping):
        return [problem(name, '%s is not a mapping' % show(value), allowed_text(BY_NAME[name]))]
    lines = [problem('%s.%s' % (name, key), 'unknown key', ', '.join(DATABASE_KEYS))
             for key in sorted((k for k in value if k not in DATABASE_KEYS), key=str)]
    host, port = value.get('host'), value.get('port')
    if host is not None and not (isinstance(host, str) and host and _is_host(host)):
        lines.append(problem(name + '.host', '%s is not a host name or IP address' % show(host),
                             'a DNS name (RFC 1123) or an IP address'))
    if port is not None and not (is_int(port) and 1 <= port <= 65535):
        lines.append(problem(name + '.port', '%s is not a valid port' % show(port), 'an integer from 1 to 65535'))
    for key in ('name', 'username'):
        sub = value.get(key)
        if sub is not None and not (isinstance(sub, str) and sub.strip() and len(sub) <= 63):
            lines.append(problem('%s.%s' % (name, key), '%s is not valid' % show(sub),
                                 'a non-empty string of 63 characters at most'))
    return lines


def _ca_source_problems(name, value):
    if not isinstance(value, Mapping):
        return [problem(name, '%s is not a mapping' % show(value), allowed_text(BY_NAME[name]))]
    lines = [problem('%s.%s' % (name, key), 'unknown key', ', '.join(CA_SOURCE_KEYS))
             for key in sorted((k for k in value if k not in CA_SOURCE_KEYS), key=str)]
    sources = [key for key in CA_SOURCES if value.get(key) is not None]
    if len(sources) != 1:
        what = 'both config_map and secret' if sources else 'neither config_map nor secret'
        lines.append(problem(name, '%s given' % what, 'exactly one of config_map and secret'))
    for key in sources:
        if not is_dns_subdomain(value[key]):
            lines.append(problem('%s.%s' % (name, key), '%s is not valid' % show(value[key]),
                                 _STRING_KINDS['dns_subdomain'][1]))
    key = value.get('key')
    if key is not None and not (isinstance(key, str) and _OBJECT_KEY_RE.match(key)):
        lines.append(problem(name + '.key', '%s is not valid' % show(key),
                             'a ConfigMap or Secret key: letters, digits, -, _ and .'))
    return lines


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# threshold kind -> (predicate, what is allowed)
_THRESHOLDS = {
    'ratio': (lambda v: _is_number(v) and 0 < v <= 1, 'a ratio above 0 and at most 1 (0.05 is 5%)'),
    'seconds': (lambda v: _is_number(v) and v > 0, 'seconds above 0'),
    'count': (lambda v: is_int(v) and v >= 0, 'an integer >= 0'),
}
_ALERT_FIELD_RULES = {
    'enabled': (lambda v: isinstance(v, bool), 'true or false'),
    'for': (lambda v: isinstance(v, str) and v != '' and bool(_PROMETHEUS_DURATION_RE.match(v)),
            'a Prometheus duration: digits with units y, w, d, h, m, s, ms, largest first (e.g. 30s, 5m, 1h30m)'),
    'severity': (lambda v: isinstance(v, str) and v.strip() != '', 'a non-empty string'),
}


def _alerts_problems(name, value):
    if not isinstance(value, Mapping):
        return [problem(name, '%s is not a mapping' % show(value), allowed_text(BY_NAME[name]))]
    thresholds = dict((rule, (field, kind)) for rule, field, kind in ALERT_RULES)
    lines = [problem('%s.%s' % (name, rule), 'unknown alert rule', ', '.join(thresholds))
             for rule in sorted((r for r in value if r not in thresholds), key=str)]
    for rule, (threshold, kind) in thresholds.items():
        fields = value.get(rule)
        if fields is None:
            continue
        at = '%s.%s' % (name, rule)
        if not isinstance(fields, Mapping):
            lines.append(problem(at, '%s is not a mapping' % show(fields), 'a mapping of %s'
                                 % ', '.join(ALERT_RULE_FIELDS + ((threshold,) if threshold else ()))))
            continue
        rules = dict(_ALERT_FIELD_RULES)
        if threshold:
            rules[threshold] = _THRESHOLDS[kind]
        for field in sorted(fields, key=str):
            if field not in rules:
                lines.append(problem('%s.%s' % (at, field), 'unknown key', ', '.join(rules)))
            elif fields[field] is not None and not rules[field][0](fields[field]):
                lines.append(problem('%s.%s' % (at, field), '%s is not valid' % show(fields[field]), rules[field][1]))
    return lines


def value_problems(name, value):
    """Problems of one set variable against its kind (the value is neither null nor unset)."""
    setting = BY_NAME[name]
    kind, secret = setting['kind'], setting.get('secret', False)
    allowed = allowed_text(setting)
    if kind == 'choice':
        ok = isinstance(value, str) and value in setting['choices']
        return [] if ok else [problem(name, '%s is not a valid choice' % show(value, secret), allowed)]
    if kind == 'bool':
        return [] if isinstance(value, bool) else [problem(
            name, '%s is not a boolean' % show(value), 'true or false (a YAML boolean, not a string or a number)')]
    if kind == 'approval':
        ok = isinstance(value, bool) or (isinstance(value, str) and value in APPROVAL_ANSWERS)
        return [] if ok else [problem(name, '%s is not an approval' % show(value), allowed)]
    if kind == 'int':
        if not is_int(value):
            return [problem(name, '%s is not an integer' % show(value), allowed)]
        return [] if value >= setting['minimum'] else [
            problem(name, '%d is below %d' % (value, setting['minimum']), allowed)]
    if kind == 'int_or_percent':
        percent = isinstance(value, str) and bool(_PERCENT_RE.match(value)) and value != '0%'
        ok = (is_int(value) and value >= 1) or percent
        return [] if ok else [problem(name, '%s is not valid' % show(value), allowed)]
    if kind == 'image':
        return _image_problems(name, value)
    if kind == 'database':
        return _database_problems(name, value)
    if kind == 'ca_source':
        return _ca_source_problems(name, value)
    if kind == 'alerts':
        return _alerts_problems(name, value)
    if kind == 'chart_values':
        return [] if isinstance(value, Mapping) else [problem(name, '%s is not a mapping' % show(value), allowed)]
    if kind == 'app_key':
        return [] if is_laravel_app_key(value) else [
            problem(name, '%s is not a Laravel application key' % HIDDEN, allowed)]
    if not isinstance(value, str):
        return [problem(name, '%s is not a string' % show(value, secret), allowed)]
    if value == '':
        return [] if setting.get('empty_means_unset') is False else [problem(name, 'empty string', allowed)]
    predicate = _STRING_KINDS.get(kind, (None, None))[0]
    if predicate is not None and not predicate(value):
        return [problem(name, '%s is not valid' % show(value, secret), allowed)]
    return []


# Rules that tie variables together: (the variables they read, the function).
def _replicas_in_order(inventory):
    low, high = inventory.get('backend_replicas_min'), inventory.get('backend_replicas_max')
    if is_int(low) and is_int(high) and high < low:
        return [problem('backend_replicas_max', '%d is below backend_replicas_min (%d)' % (high, low),
                        'an integer >= backend_replicas_min (%d)' % low)]
    return []


def _tls_needs_a_host(inventory):
    tls = inventory.get('backend_ingress_tls_secret')
    if isinstance(tls, str) and tls and inventory.get('backend_ingress_host') == '':
        return [problem('backend_ingress_tls_secret', '%s is set but backend_ingress_host is empty (no Ingress)'
                        % show(tls), 'empty when backend_ingress_host is empty')]
    return []


def _one_secret_form(inventory, for_deploy):
    def given(name):
        return not is_unset(BY_NAME[name], inventory.get(name))

    existing, key, password = (given('backend_existing_secret'), given('backend_app_key'),
                               given('backend_database_password'))
    if existing and (key or password):
        both = ' and '.join(n for n, g in (('backend_app_key', key), ('backend_database_password', password)) if g)
        return [problem('backend_existing_secret', 'set together with %s: both secret forms at once' % both,
                        SECRET_FORMS)]
    if not existing and key != password:
        missing, other = (('backend_database_password', 'backend_app_key') if key
                          else ('backend_app_key', 'backend_database_password'))
        return [problem(missing, 'missing while %s is set' % other, SECRET_FORMS)]
    if for_deploy and not (existing or key or password):
        return [problem('backend_existing_secret', 'no secret given (neither backend_existing_secret nor '
                        'backend_app_key with backend_database_password)', SECRET_FORMS)]
    return []


def _verifying_needs_a_ca(inventory):
    mode = inventory.get('backend_database_sslmode')
    if mode in VERIFYING_SSLMODES and inventory.get('backend_database_ca') is None:
        return [problem('backend_database_ca', 'missing while backend_database_sslmode is %s, which checks the '
                        "server's certificate against it" % mode, allowed_text(BY_NAME['backend_database_ca']))]
    return []


def _verifying_needs_pgbouncer_tls(inventory):
    mode = inventory.get('backend_database_sslmode')
    if mode in VERIFYING_SSLMODES and inventory.get('backend_pgbouncer_enabled') is True \
            and is_unset(BY_NAME['backend_pgbouncer_tls_secret'], inventory.get('backend_pgbouncer_tls_secret')):
        return [problem('backend_pgbouncer_tls_secret', 'missing while backend_pgbouncer_enabled is true and '
                        'backend_database_sslmode is %s: the application would reach PgBouncer unencrypted' % mode,
                        _STRING_KINDS['dns_subdomain'][1])]
    return []


_CROSS_RULES = (
    (('backend_replicas_min', 'backend_replicas_max'), lambda inv, deploy: _replicas_in_order(inv)),
    (('backend_ingress_host', 'backend_ingress_tls_secret'), lambda inv, deploy: _tls_needs_a_host(inv)),
    (('backend_existing_secret', 'backend_app_key', 'backend_database_password'), _one_secret_form),
    (('backend_database_sslmode', 'backend_database_ca'), lambda inv, deploy: _verifying_needs_a_ca(inv)),
    (('backend_database_sslmode', 'backend_pgbouncer_enabled', 'backend_pgbouncer_tls_secret'),
     lambda inv, deploy: _verifying_needs_pgbouncer_tls(inv)),
)


def is_in_use(name, inventory):
    """False for an image whose switch (e.g. backend_pgbouncer_enabled) is off."""
    switch = BY_NAME[name].get('in_use_when')
    return switch is None or inventory.get(switch, BY_NAME[switch].get('default')) is True


def unknown_variables(inventory):
    """Problems for ``backend_*`` variables the table does not know (typos, mostly)."""
    lines = []
    for name in sorted(n for n in inventory if n not in BY_NAME):
        near = difflib.get_close_matches(name, list(BY_NAME), n=1)
        hint = ' (did you mean %s?)' % near[0] if near else ''
        lines.append(problem(name, 'unknown inventory variable%s' % hint,
                             'the variables listed in docs/inventory-variables.md'))
    return lines


def variable_problems(name, inventory):
    """Problems of one variable: missing while required, or a value its kind does not allow."""
    setting = BY_NAME[name]
    value = inventory.get(name)
    if not is_unset(setting, value):
        return value_problems(name, value)
    if setting.get('required'):
        return [problem(name, 'missing', allowed_text(setting))]
    if setting.get('in_use_when') and is_in_use(name, inventory):
        return [problem(name, 'missing while %s is true' % setting['in_use_when'], allowed_text(setting))]
    return []


def unpushable_images(inventory, names):
    """Problems of the images the image role would build but could not push: those without a registry."""
    lines = []
    for name in names:
        image = inventory.get(name)
        if BY_NAME[name]['kind'] == 'image' and isinstance(image, Mapping) and is_in_use(name, inventory) \
                and not image.get('registry'):
            lines.append(problem(name + '.registry', 'missing, but the image role pushes the image there',
                                 _image_reference.FIELD_RULES['registry'][1].replace(', or empty', '')))
    return lines


def rule_problems(inventory, names, for_deploy=True):
    """Problems of the rules that tie variables together, for the rules among ``names`` only."""
    lines = []
    for variables, rule in _CROSS_RULES:
        if set(names).issuperset(variables):
            lines.extend(rule(inventory, for_deploy))
    return lines
