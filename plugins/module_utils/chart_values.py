# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Turn the collection's ``backend_*`` inventory settings into values of ``charts/backend``.

Pure functions, shared by the ``laravel_ops.k8s.backend_chart_values`` filter and the modules.
Every check collects its problems as text lines of the form
``<variable>: <problem>; allowed: <what is allowed>`` and never includes the value of a secret.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import binascii
import ipaddress
import json
import re

from collections.abc import Mapping, Sequence

try:
    import jsonschema
    from jsonschema import validators as _jsonschema_validators
except ImportError:  # pragma: no cover - exercised by tests through HAS_JSONSCHEMA
    jsonschema = None
    _jsonschema_validators = None
    HAS_JSONSCHEMA = False
else:
    HAS_JSONSCHEMA = True


ENVIRONMENTS = ('local', 'dev', 'staging', 'prod')
LOG_LEVELS = ('debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency')
MIGRATION_MODES = ('hooks', 'job', 'off')
PROD_MIGRATION_MODES = ('job', 'off')
PROD_MIN_REPLICAS = 2

SETTINGS_KEYS = (
    'environment', 'app_env', 'app_debug', 'log_level', 'app_url',
    'replicas_min', 'replicas_max',
    'ingress_host', 'ingress_class', 'ingress_tls_secret',
    'php_image', 'nginx_image', 'database',
    'existing_secret', 'app_key', 'database_password',
    'migrations_mode', 'seed', 'metrics_enabled',
    'pgbouncer_enabled', 'pgbouncer_image',
)
SECRET_SETTINGS = ('app_key', 'database_password')
IMAGE_KEYS = ('registry', 'repository', 'tag', 'digest')
DATABASE_KEYS = ('host', 'port', 'name', 'username')

HIDDEN = '<hidden>'
VARIABLE_PREFIX = 'backend_'
OVERRIDES_VARIABLE = 'backend_chart_values'
ENVIRONMENT_LABEL = 'app.kubernetes.io/environment'

DIGEST_PATTERN = r'^sha256:[0-9a-f]{64}$'
TAG_PATTERN = r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
REPOSITORY_PATTERN = r'^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$'
REGISTRY_PATTERN = (r'^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)'
                    r'(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::[0-9]{1,5})?$')
DNS_LABEL_PATTERN = r'^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$'
APP_KEY_PREFIX = 'base64:'
APP_KEY_BYTES = 32

_DIGEST_RE = re.compile(DIGEST_PATTERN)
_TAG_RE = re.compile(TAG_PATTERN)
_REPOSITORY_RE = re.compile(REPOSITORY_PATTERN)
_REGISTRY_RE = re.compile(REGISTRY_PATTERN)
_DNS_LABEL_RE = re.compile(DNS_LABEL_PATTERN)
_APP_ENV_RE = re.compile(r'^[A-Za-z0-9_.-]+$')

# Where each setting lands in the chart values: used to build the values and to name the
# inventory variable behind a chart path in a schema error.
VALUE_SOURCES = (
    (('commonLabels', ENVIRONMENT_LABEL), 'environment'),
    (('app', 'env'), 'app_env'),
    (('app', 'debug'), 'app_debug'),
    (('app', 'logLevel'), 'log_level'),
    (('app', 'url'), 'app_url'),
    (('autoscaling', 'minReplicas'), 'replicas_min'),
    (('replicaCount',), 'replicas_min'),
    (('autoscaling', 'maxReplicas'), 'replicas_max'),
    (('ingress', 'enabled'), 'ingress_host'),
    (('ingress', 'host'), 'ingress_host'),
    (('ingress', 'className'), 'ingress_class'),
    (('ingress', 'tls', 'enabled'), 'ingress_tls_secret'),
    (('ingress', 'tls', 'secretName'), 'ingress_tls_secret'),
    (('php', 'image'), 'php_image'),
    (('nginx', 'image'), 'nginx_image'),
    (('database',), 'database'),
    (('secrets', 'existingSecret'), 'existing_secret'),
    (('secrets', 'appKey'), 'app_key'),
    (('secrets', 'dbPassword'), 'database_password'),
    (('migrations', 'enabled'), 'migrations_mode'),
    (('migrations', 'seed', 'enabled'), 'seed'),
    (('metrics', 'enabled'), 'metrics_enabled'),
    (('pgbouncer', 'enabled'), 'pgbouncer_enabled'),
    (('pgbouncer', 'image'), 'pgbouncer_image'),
)

_SECRET_CHART_PATHS = (('secrets', 'appKey'), ('secrets', 'dbPassword'))
_SECRET_WORDS = ('password', 'token', 'appkey', 'apikey', 'privatekey', 'credential')


class ChartValuesError(Exception):
    """Raised with every problem found; ``errors`` holds one line per problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(ChartValuesError, self).__init__('\n'.join(self.errors))


# ---------------------------------------------------------------------------------------------
# small helpers

def variable_name(key):
    """Inventory variable behind a settings key (``replicas_max`` -> ``backend_replicas_max``)."""
    return VARIABLE_PREFIX + str(key)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value):
    return isinstance(value, str)


def _show(value, secret=False):
    """Render a bad value for a message: scalars shown, containers described, secrets hidden."""
    if secret:
        return HIDDEN
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if _is_int(value) or isinstance(value, float):
        return str(value)
    if _is_str(value):
        text = str(value)
        if len(text) > 80:
            text = text[:77] + '...'
        return "'%s'" % text
    if isinstance(value, Mapping):
        return 'a mapping'
    if isinstance(value, Sequence):
        return 'a list'
    return 'a value of type %s' % type(value).__name__


def _error(name, problem, allowed):
    return '%s: %s; allowed: %s' % (name, problem, allowed)


def _one_of(choices):
    return ', '.join(str(c) for c in choices)


def _is_dns_subdomain(value):
    """RFC 1123 subdomain as Kubernetes uses it: lower case labels, 253 characters at most."""
    if not _is_str(value) or not value or len(value) > 253:
        return False
    return all(_DNS_LABEL_RE.match(label) for label in value.split('.'))


def _is_ingress_host(value):
    """An Ingress host: a DNS subdomain, optionally behind one leading ``*.`` wildcard label."""
    if _is_str(value) and value.startswith('*.'):
        value = value[2:]
    return _is_dns_subdomain(value)


def _is_db_host(value):
    if not _is_str(value) or not value:
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    return _is_dns_subdomain(value.lower())


def _is_http_url(value):
    if not _is_str(value) or any(c.isspace() for c in value):
        return False
    match = re.match(r'^(https?)://([^/?#]+)(?:[/?#].*)?$', value)
    if not match:
        return False
    authority = match.group(2)
    if '@' in authority:
        return False
    host, port = authority, None
    if authority.startswith('['):
        end = authority.find(']')
        if end < 0:
            return False
        host, rest = authority[1:end], authority[end + 1:]
        if rest:
            if not rest.startswith(':'):
                return False
            port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
    else:
        if ':' in authority:
            host, port = authority.rsplit(':', 1)
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            if not _is_dns_subdomain(host.lower()):
                return False
    if port is not None:
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            return False
    return True


def is_laravel_app_key(value):
    """Laravel's APP_KEY for AES-256-CBC: ``base64:`` followed by 32 bytes in base64."""
    if not _is_str(value) or not value.startswith(APP_KEY_PREFIX):
        return False
    encoded = value[len(APP_KEY_PREFIX):]
    try:
        raw = base64.b64decode(encoded.encode('ascii'), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return len(raw) == APP_KEY_BYTES


def _present(value):
    """A setting counts as given unless it is null or an empty string."""
    return value is not None and value != ''


def _get_path(data, path):
    node = data
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _set_path(data, path, value):
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


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


def _plain(value):
    """Deep copy into plain dicts and lists (Ansible may hand over lazy or tagged containers)."""
    if isinstance(value, Mapping):
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# settings checks

def _check_bool(key, value):
    if isinstance(value, bool):
        return []
    return [_error(variable_name(key), '%s is not a boolean' % _show(value),
                   'true or false (a YAML boolean, not a string or a number)')]


def _check_choice(key, value, choices, secret=False):
    if _is_str(value) and value in choices:
        return []
    return [_error(variable_name(key), '%s is not a valid choice' % _show(value, secret), _one_of(choices))]


def _check_string(key, value, allowed, predicate=None, allow_empty=False, secret=False):
    name = variable_name(key)
    if not _is_str(value):
        return [_error(name, '%s is not a string' % _show(value, secret), allowed)]
    if value == '':
        if allow_empty:
            return []
        return [_error(name, 'empty string', allowed)]
    if predicate is not None and not predicate(value):
        return [_error(name, '%s is not valid' % _show(value, secret), allowed)]
    return []


def _check_int(key, value, minimum):
    name = variable_name(key)
    if not _is_int(value):
        return [_error(name, '%s is not an integer' % _show(value), 'an integer >= %d' % minimum)]
    if value < minimum:
        return [_error(name, '%s is below %d' % (value, minimum), 'an integer >= %d' % minimum)]
    return []


def _check_image(key, value):
    name = variable_name(key)
    if not isinstance(value, Mapping):
        return [_error(name, '%s is not a mapping' % _show(value), 'a mapping with keys %s' % _one_of(IMAGE_KEYS))]
    errors = []
    for sub in sorted((k for k in value if k not in IMAGE_KEYS), key=str):
        errors.append(_error('%s.%s' % (name, sub), 'unknown key', _one_of(IMAGE_KEYS)))
    rules = (
        ('registry', _REGISTRY_RE, True, 'a registry host with an optional port (e.g. registry.example.com:5000), or empty'),
        ('repository', _REPOSITORY_RE, False, 'a repository path of lower-case components (e.g. acme/backend-php)'),
        ('tag', _TAG_RE, True, 'a Docker tag: letters, digits, _ . - (128 at most, not starting with . or -), or empty'),
        ('digest', _DIGEST_RE, True, 'sha256: followed by 64 lower-case hex digits, or empty'),
    )
    for sub, regex, allow_empty, allowed in rules:
        if value.get(sub) is None:
            continue
        sub_value = value[sub]
        sub_name = '%s.%s' % (name, sub)
        if not _is_str(sub_value):
            errors.append(_error(sub_name, '%s is not a string' % _show(sub_value), allowed))
        elif sub_value == '':
            if not allow_empty:
                errors.append(_error(sub_name, 'empty string', allowed))
        elif not regex.match(sub_value):
            errors.append(_error(sub_name, '%s is not valid' % _show(sub_value), allowed))
    return errors


def _check_database(key, value):
    name = variable_name(key)
    if not isinstance(value, Mapping):
        return [_error(name, '%s is not a mapping' % _show(value), 'a mapping with keys %s' % _one_of(DATABASE_KEYS))]
    errors = []
    for sub in sorted((k for k in value if k not in DATABASE_KEYS), key=str):
        errors.append(_error('%s.%s' % (name, sub), 'unknown key', _one_of(DATABASE_KEYS)))
    host = value.get('host')
    if host is not None and not _is_db_host(host):
        errors.append(_error(name + '.host', '%s is not a host name or IP address' % _show(host),
                             'a DNS name (RFC 1123) or an IP address'))
    port = value.get('port')
    if port is not None and not (_is_int(port) and 1 <= port <= 65535):
        errors.append(_error(name + '.port', '%s is not a valid port' % _show(port), 'an integer from 1 to 65535'))
    for sub in ('name', 'username'):
        sub_value = value.get(sub)
        if sub_value is None:
            continue
        if not _is_str(sub_value) or not sub_value.strip() or len(sub_value) > 63:
            errors.append(_error('%s.%s' % (name, sub), '%s is not valid' % _show(sub_value),
                                 'a non-empty string of 63 characters at most'))
    return errors


def _check_secrets(settings, for_deploy):
    existing = settings.get('existing_secret')
    app_key = settings.get('app_key')
    password = settings.get('database_password')
    errors = []
    allowed_forms = ('either backend_existing_secret (a Secret holding APP_KEY and DB_PASSWORD), '
                     'or both backend_app_key and backend_database_password')

    if existing is not None:
        errors.extend(_check_string('existing_secret', existing,
                                    'the name of a Secret (RFC 1123 subdomain), or empty',
                                    predicate=_is_dns_subdomain, allow_empty=True))
    if _present(app_key):
        if not is_laravel_app_key(app_key):
            errors.append(_error('backend_app_key', '%s is not a Laravel application key' % HIDDEN,
                                 "'base64:' followed by %d random bytes in base64 "
                                 "(php artisan key:generate --show)" % APP_KEY_BYTES))
    if _present(password) and not _is_str(password):
        errors.append(_error('backend_database_password', '%s is not a string' % HIDDEN, 'a string'))

    has_existing = _present(existing)
    has_key = _present(app_key)
    has_password = _present(password)
    if has_existing and (has_key or has_password):
        given = [n for n, p in (('backend_app_key', has_key), ('backend_database_password', has_password)) if p]
        errors.append(_error('backend_existing_secret',
                             'set together with %s: both secret forms at once' % ' and '.join(given),
                             allowed_forms))
    elif not has_existing and has_key != has_password:
        missing = 'backend_database_password' if has_key else 'backend_app_key'
        other = 'backend_app_key' if has_key else 'backend_database_password'
        errors.append(_error(missing, 'missing while %s is set' % other, allowed_forms))
    elif not (has_existing or has_key or has_password) and for_deploy:
        errors.append(_error('backend_existing_secret',
                             'no secret given (neither backend_existing_secret nor '
                             'backend_app_key with backend_database_password)', allowed_forms))
    return errors


def _check_prod_policy(settings, require_digest):
    """Environment policy for prod, checked on settings of a valid type only."""
    errors = []
    debug = settings.get('app_debug')
    if debug is True:
        errors.append(_error('backend_app_debug', 'true is not allowed in prod', 'false (prod policy)'))
    level = settings.get('log_level')
    if level == 'debug':
        errors.append(_error('backend_log_level', "'debug' is not allowed in prod",
                             '%s (prod policy)' % _one_of(level for level in LOG_LEVELS if level != 'debug')))
    mode = settings.get('migrations_mode')
    if mode == 'hooks':
        errors.append(_error('backend_migrations_mode',
                             "'hooks' is not allowed in prod (hook Jobs run after the new pods start)",
                             '%s (prod policy)' % _one_of(PROD_MIGRATION_MODES)))
    if settings.get('seed') is True:
        errors.append(_error('backend_seed', 'true is not allowed in prod', 'false (prod policy)'))
    replicas = settings.get('replicas_min')
    if _is_int(replicas) and 1 <= replicas < PROD_MIN_REPLICAS:
        errors.append(_error('backend_replicas_min', '%d is too low for prod' % replicas,
                             'an integer >= %d (prod policy)' % PROD_MIN_REPLICAS))
    if require_digest:
        for key in ('php_image', 'nginx_image'):
            image = settings.get(key)
            if image is not None and not isinstance(image, Mapping):
                continue  # already reported as a type error
            digest = image.get('digest') if image else None
            if not _present(digest):
                errors.append(_error(
                    '%s.digest' % variable_name(key),
                    'missing in prod: images are deployed pinned by digest (the image role supplies it)',
                    'sha256: followed by 64 lower-case hex digits (prod policy)'))
    return errors


def validate_settings(settings, for_deploy=True, require_digest=None):
    """Check the settings dict; return a list of error lines (empty when all is well)."""
    if not isinstance(settings, Mapping):
        return [_error('settings', '%s is not a mapping' % _show(settings),
                       'a mapping of the backend_* variables without the prefix: %s' % _one_of(SETTINGS_KEYS))]
    errors = []
    for key in sorted((k for k in settings if k not in SETTINGS_KEYS), key=str):
        errors.append(_error("settings key '%s' (%s)" % (key, variable_name(key)), 'unknown setting',
                             _one_of(SETTINGS_KEYS)))

    def given(key):
        return settings.get(key) is not None

    environment = settings.get('environment')
    if environment is None:
        errors.append(_error('backend_environment', 'missing', _one_of(ENVIRONMENTS)))
    else:
        errors.extend(_check_choice('environment', environment, ENVIRONMENTS))

    if given('app_env'):
        errors.extend(_check_string('app_env', settings['app_env'],
                                    'a non-empty string of letters, digits, _ . - such as production, staging, local',
                                    predicate=_APP_ENV_RE.match))
    for key in ('app_debug', 'seed', 'metrics_enabled', 'pgbouncer_enabled'):
        if given(key):
            errors.extend(_check_bool(key, settings[key]))
    if given('log_level'):
        errors.extend(_check_choice('log_level', settings['log_level'], LOG_LEVELS))
    if given('app_url'):
        errors.extend(_check_string('app_url', settings['app_url'],
                                    'an http:// or https:// URL with a host, e.g. https://api.example.com',
                                    predicate=_is_http_url, allow_empty=True))

    replica_errors = []
    for key in ('replicas_min', 'replicas_max'):
        if given(key):
            replica_errors.extend(_check_int(key, settings[key], 1))
    errors.extend(replica_errors)
    if not replica_errors and given('replicas_min') and given('replicas_max'):
        low, high = settings['replicas_min'], settings['replicas_max']
        if high < low:
            errors.append(_error('backend_replicas_max', '%d is below backend_replicas_min (%d)' % (high, low),
                                 'an integer >= backend_replicas_min (%d)' % low))

    if given('ingress_host'):
        errors.extend(_check_string('ingress_host', settings['ingress_host'],
                                    'a DNS name (RFC 1123, lower case, optionally *.-prefixed), '
                                    'or empty for no Ingress',
                                    predicate=_is_ingress_host, allow_empty=True))
    if given('ingress_class'):
        errors.extend(_check_string('ingress_class', settings['ingress_class'],
                                    'an IngressClass name (RFC 1123 subdomain), or empty',
                                    predicate=_is_dns_subdomain, allow_empty=True))
    if given('ingress_tls_secret'):
        tls = settings['ingress_tls_secret']
        errors.extend(_check_string('ingress_tls_secret', tls,
                                    'the name of a TLS Secret (RFC 1123 subdomain), or empty for no TLS',
                                    predicate=_is_dns_subdomain, allow_empty=True))
        if _present(tls) and settings.get('ingress_host') == '':
            errors.append(_error('backend_ingress_tls_secret',
                                 '%s is set but backend_ingress_host is empty (no Ingress)' % _show(tls),
                                 'empty when backend_ingress_host is empty'))

    for key in ('php_image', 'nginx_image', 'pgbouncer_image'):
        if given(key):
            errors.extend(_check_image(key, settings[key]))
    if given('database'):
        errors.extend(_check_database('database', settings['database']))
    errors.extend(_check_secrets(settings, for_deploy))
    if given('migrations_mode'):
        errors.extend(_check_choice('migrations_mode', settings['migrations_mode'], MIGRATION_MODES))

    if environment == 'prod':
        errors.extend(_check_prod_policy(settings, for_deploy if require_digest is None else require_digest))
    return errors


# Chart paths whose value the prod policy governs when backend_chart_values sets them.
def _policy_debug(value):
    return value is True


def _policy_log_level(value):
    return value == 'debug'


def _policy_hooks(value):
    return value is True


def _policy_replicas(value):
    return _is_int(value) and value < PROD_MIN_REPLICAS


def _policy_digest(value):
    return not _present(value)


_PROD_OVERRIDE_POLICY = (
    (('app', 'debug'), _policy_debug, 'false (prod policy)', False),
    (('app', 'logLevel'), _policy_log_level, 'a level other than debug (prod policy)', False),
    (('migrations', 'enabled'), _policy_hooks, 'false: prod runs migrations as an explicit Job (prod policy)', False),
    (('migrations', 'seed', 'enabled'), _policy_hooks, 'false (prod policy)', False),
    (('autoscaling', 'minReplicas'), _policy_replicas, 'an integer >= %d (prod policy)' % PROD_MIN_REPLICAS, False),
    (('replicaCount',), _policy_replicas, 'an integer >= %d (prod policy)' % PROD_MIN_REPLICAS, False),
    (('php', 'image', 'digest'), _policy_digest, 'sha256: followed by 64 hex digits (prod policy)', True),
    (('nginx', 'image', 'digest'), _policy_digest, 'sha256: followed by 64 hex digits (prod policy)', True),
)


def check_override_policy(environment, overrides, require_digest=True):
    """The prod policy also holds for values set through ``backend_chart_values``."""
    if environment != 'prod' or not isinstance(overrides, Mapping):
        return []
    errors = []
    for path, violates, allowed, deploy_only in _PROD_OVERRIDE_POLICY:
        if deploy_only and not require_digest:
            continue
        found, value = _get_path(overrides, path)
        if found and violates(value):
            errors.append(_error('%s.%s' % (OVERRIDES_VARIABLE, dotted(path)),
                                 '%s is not allowed in prod' % _show(value, _is_secret_path(path)), allowed))
    return errors


# ---------------------------------------------------------------------------------------------
# settings -> values, merging

def settings_to_values(settings):
    """Chart values for the settings that are set (``None`` leaves the chart default)."""
    s = dict((k, v) for k, v in settings.items() if v is not None)
    values = {}
    if 'environment' in s:
        values['commonLabels'] = {ENVIRONMENT_LABEL: s['environment']}
    simple = (
        ('app_env', ('app', 'env')),
        ('app_debug', ('app', 'debug')),
        ('log_level', ('app', 'logLevel')),
        ('replicas_max', ('autoscaling', 'maxReplicas')),
        ('seed', ('migrations', 'seed', 'enabled')),
        ('metrics_enabled', ('metrics', 'enabled')),
        ('pgbouncer_enabled', ('pgbouncer', 'enabled')),
    )
    for key, path in simple:
        if key in s:
            _set_path(values, path, s[key])
    if _present(s.get('app_url')):
        _set_path(values, ('app', 'url'), s['app_url'])
    if 'replicas_min' in s:
        _set_path(values, ('autoscaling', 'minReplicas'), s['replicas_min'])
        values['replicaCount'] = s['replicas_min']
    if 'ingress_host' in s:
        host = s['ingress_host']
        _set_path(values, ('ingress', 'enabled'), bool(host))
        if host:
            _set_path(values, ('ingress', 'host'), host)
    if _present(s.get('ingress_class')):
        _set_path(values, ('ingress', 'className'), s['ingress_class'])
    if 'ingress_tls_secret' in s:
        tls = s['ingress_tls_secret']
        _set_path(values, ('ingress', 'tls', 'enabled'), bool(tls))
        if tls:
            _set_path(values, ('ingress', 'tls', 'secretName'), tls)
    for key, chart in (('php_image', 'php'), ('nginx_image', 'nginx'), ('pgbouncer_image', 'pgbouncer')):
        image = dict((k, v) for k, v in (s.get(key) or {}).items() if v is not None)
        if image:
            _set_path(values, (chart, 'image'), image)
    database = dict((k, v) for k, v in (s.get('database') or {}).items() if v is not None)
    if database:
        values['database'] = database
    for key, path in (('existing_secret', ('secrets', 'existingSecret')),
                      ('app_key', ('secrets', 'appKey')),
                      ('database_password', ('secrets', 'dbPassword'))):
        if _present(s.get(key)):
            _set_path(values, path, s[key])
    if 'migrations_mode' in s:
        _set_path(values, ('migrations', 'enabled'), s['migrations_mode'] == 'hooks')
    return _plain(values)


def deep_merge(base, override):
    """Return a new dict: mappings merged recursively, lists and scalars of ``override`` win."""
    result = _plain(base)
    _merge_into(result, override)
    return result


def _merge_into(target, override):
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = _plain(value)


# ---------------------------------------------------------------------------------------------
# schema validation

_SCHEMA_MAP_KEYWORDS = ('properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas')
_SCHEMA_ONE_KEYWORDS = ('additionalProperties', 'additionalItems', 'contains', 'propertyNames',
                        'then', 'else', 'unevaluatedProperties', 'unevaluatedItems')
_SCHEMA_LIST_KEYWORDS = ('allOf', 'anyOf', 'prefixItems')
# Constraints about keys being present: an override holds only some keys, the chart has the rest.
_PRESENCE_KEYWORDS = ('required', 'dependentRequired', 'minProperties')


def relax_schema(schema):
    """Copy of a JSON schema fit to validate a partial values dict.

    Presence constraints (``required``, ``dependentRequired``, ``minProperties``, list-form
    ``dependencies``) are dropped, and ``oneOf`` becomes ``anyOf`` (alternatives told apart by
    ``required`` would otherwise all match). ``if`` and ``not`` are kept as they are, since they
    are conditions rather than constraints. Types, enums, patterns, bounds and
    ``additionalProperties`` stay.
    """
    if not isinstance(schema, Mapping):
        return _plain(schema)
    result = {}
    for key, value in schema.items():
        if key in _PRESENCE_KEYWORDS:
            continue
        if key in _SCHEMA_MAP_KEYWORDS and isinstance(value, Mapping):
            result[key] = dict((k, relax_schema(v)) for k, v in value.items())
        elif key in _SCHEMA_ONE_KEYWORDS:
            result[key] = relax_schema(value)
        elif key in _SCHEMA_LIST_KEYWORDS and isinstance(value, list):
            result[key] = [relax_schema(v) for v in value]
        elif key == 'items':
            result[key] = [relax_schema(v) for v in value] if isinstance(value, list) else relax_schema(value)
        elif key == 'dependencies' and isinstance(value, Mapping):
            kept = dict((k, relax_schema(v)) for k, v in value.items() if isinstance(v, Mapping))
            if kept:
                result[key] = kept
        elif key == 'oneOf' and isinstance(value, list):
            continue  # handled below
        else:
            result[key] = _plain(value)
    one_of = schema.get('oneOf')
    if isinstance(one_of, list):
        relaxed = [relax_schema(v) for v in one_of]
        if 'anyOf' in result:
            result.setdefault('allOf', []).append({'anyOf': relaxed})
        else:
            result['anyOf'] = relaxed
    return result


def _is_secret_path(path):
    path = tuple(path)
    if path in _SECRET_CHART_PATHS:
        return True
    if not path:
        return False
    last = str(path[-1]).lower().replace('_', '').replace('-', '')
    return any(word in last for word in _SECRET_WORDS)


def source_variable(path, overrides=None):
    """Name the inventory variable that produced the chart value at ``path``."""
    path = tuple(path)
    if not path:
        return OVERRIDES_VARIABLE
    if overrides:
        node = overrides
        for index, key in enumerate(path):
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
            if index == len(path) - 1 or not isinstance(node, Mapping):
                return '%s.%s' % (OVERRIDES_VARIABLE, dotted(path))
    best = None
    for source_path, key in VALUE_SOURCES:
        if path[:len(source_path)] == source_path:
            if best is None or len(source_path) > len(best[0]):
                best = (source_path, key)
    if best is not None:
        rest = path[len(best[0]):]
        name = variable_name(best[1])
        return '%s.%s' % (name, dotted(rest)) if rest else name
    names = []
    for source_path, key in VALUE_SOURCES:
        if source_path[:len(path)] == path and variable_name(key) not in names:
            names.append(variable_name(key))
    if names:
        return ' / '.join(names)
    return '%s.%s' % (OVERRIDES_VARIABLE, dotted(path))


def _summarize_schema(schema):
    if schema is True:
        return 'anything'
    if schema is False or not isinstance(schema, Mapping):
        return 'nothing'
    parts = []
    if '$ref' in schema:
        parts.append('see %s' % schema['$ref'])
    if 'const' in schema:
        parts.append('exactly %s' % json.dumps(schema['const']))
    if 'enum' in schema:
        parts.append('one of %s' % _one_of(json.dumps(v) for v in schema['enum']))
    if 'type' in schema:
        types = schema['type'] if isinstance(schema['type'], list) else [schema['type']]
        parts.append('type %s' % ' or '.join(str(t) for t in types))
    if 'pattern' in schema:
        parts.append('matching %s' % schema['pattern'])
    if 'format' in schema:
        parts.append('format %s' % schema['format'])
    for word, label in (('minimum', '>='), ('maximum', '<='), ('exclusiveMinimum', '>'), ('exclusiveMaximum', '<')):
        if word in schema and not isinstance(schema[word], bool):
            parts.append('%s %s' % (label, schema[word]))
    if not parts:
        text = json.dumps(schema, sort_keys=True, default=str)
        parts.append(text if len(text) <= 120 else text[:117] + '...')
    return ' '.join(parts)


def _describe_schema_error(err, overrides, secret_values):
    """Turn one jsonschema error into message lines."""
    path = tuple(err.absolute_path)
    validator = err.validator
    expected = err.validator_value
    instance = err.instance
    secret = _is_secret_path(path) or (_is_str(instance) and instance in secret_values)
    shown = _show(instance, secret)

    if validator == 'additionalProperties' and expected is False and isinstance(instance, Mapping):
        known = sorted(str(k) for k in (err.schema.get('properties') or {}))
        patterns = list((err.schema.get('patternProperties') or {}).keys())
        extras = [k for k in instance
                  if k not in (err.schema.get('properties') or {})
                  and not any(re.search(p, str(k)) for p in patterns)]
        allowed = _one_of(known) if known else 'no keys'
        if patterns:
            allowed += ' (or keys matching %s)' % _one_of(patterns)
        lines = []
        for extra in sorted(extras, key=str):
            sub_path = path + (extra,)
            lines.append('%s -> %s: unknown key %s; allowed: %s' % (
                source_variable(sub_path, overrides), dotted(sub_path), _show(str(extra)), allowed))
        if lines:
            return lines

    if validator == 'type':
        types = expected if isinstance(expected, list) else [expected]
        problem = '%s is not of type %s' % (shown, ' or '.join(str(t) for t in types))
        allowed = 'type %s' % ' or '.join(str(t) for t in types)
    elif validator == 'enum':
        problem = '%s is not one of the allowed values' % shown
        allowed = _one_of(json.dumps(v) for v in expected)
    elif validator == 'const':
        problem = '%s is not the required value' % shown
        allowed = 'exactly %s' % json.dumps(expected)
    elif validator == 'pattern':
        problem = '%s does not match the pattern' % shown
        allowed = 'pattern %s' % expected
    elif validator in ('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'):
        label = {'minimum': '>=', 'maximum': '<=', 'exclusiveMinimum': '>', 'exclusiveMaximum': '<'}[validator]
        problem = '%s is out of range' % shown
        allowed = '%s %s' % (label, expected)
    elif validator in ('minLength', 'maxLength', 'minItems', 'maxItems'):
        problem = '%s has the wrong length' % shown
        allowed = '%s %s' % (validator, expected)
    elif validator == 'format':
        problem = '%s is not a valid %s' % (shown, expected)
        allowed = 'format %s' % expected
    elif validator in ('anyOf', 'oneOf'):
        problem = '%s matches none of the allowed forms' % shown
        allowed = ' | '.join(_summarize_schema(s) for s in expected)
    elif validator == 'not':
        problem = '%s matches a forbidden form' % shown
        allowed = 'anything but %s' % _summarize_schema(expected)
    else:
        problem = '%s fails the %s constraint' % (shown, validator or 'schema')
        text = json.dumps(expected, sort_keys=True, default=str)
        allowed = '%s %s' % (validator or 'schema', text if len(text) <= 120 else text[:117] + '...')
    return ['%s -> %s: %s; allowed: %s' % (source_variable(path, overrides), dotted(path), problem, allowed)]


def validate_against_schema(values, schema, overrides=None, secret_values=()):
    """Validate a (partial) values dict against the chart's values.schema.json.

    Returns a list of error lines ``<variable> -> <chart.path>: <problem>; allowed: <...>``.
    """
    if not HAS_JSONSCHEMA:
        return ['%s: the Python library jsonschema is missing on the controller, so the values cannot be '
                'checked against values.schema.json; allowed: install jsonschema (pip install jsonschema) '
                'or pass schema=None' % OVERRIDES_VARIABLE]
    if not isinstance(schema, Mapping):
        return ['%s: the chart schema is %s, not a mapping; allowed: the parsed values.schema.json '
                '(e.g. lookup(\'file\', ...) | from_json)' % (OVERRIDES_VARIABLE, _show(schema))]
    relaxed = relax_schema(schema)
    cls = _jsonschema_validators.validator_for(relaxed, default=jsonschema.Draft7Validator)
    try:
        cls.check_schema(relaxed)
    except jsonschema.exceptions.SchemaError as exc:
        return ['%s: the chart schema itself is invalid at %s: %s; allowed: a valid JSON schema' % (
            OVERRIDES_VARIABLE, dotted(tuple(exc.absolute_path)), exc.message)]
    validator = cls(relaxed)
    errors = sorted(validator.iter_errors(values),
                    key=lambda e: ([str(p) for p in e.absolute_path], str(e.validator)))
    lines = []
    for err in errors:
        for line in _describe_schema_error(err, overrides or {}, secret_values):
            if line not in lines:
                lines.append(line)
    return lines


# ---------------------------------------------------------------------------------------------
# the whole thing

def _secret_values(settings, overrides):
    found = []
    if isinstance(settings, Mapping):
        for key in SECRET_SETTINGS:
            value = settings.get(key)
            if _is_str(value) and value:
                found.append(value)
    if isinstance(overrides, Mapping):
        for path in _SECRET_CHART_PATHS:
            ok, value = _get_path(overrides, path)
            if ok and _is_str(value) and value:
                found.append(value)
    return found


def scrub(lines, secret_values):
    """Last line of defence: no secret value may appear in a message."""
    cleaned = []
    for line in lines:
        for secret in sorted(secret_values, key=len, reverse=True):
            line = line.replace(secret, HIDDEN)
        cleaned.append(line)
    return cleaned


def build_chart_values(settings, overrides=None, schema=None, for_deploy=True, require_digest=None):
    """Validate settings, map them to chart values, merge overrides, validate against the schema.

    Raises ChartValuesError listing every problem found at the failing stage.
    """
    if overrides is None:
        overrides = {}
    secrets = _secret_values(settings, overrides)
    errors = []
    if not isinstance(for_deploy, bool):
        errors.append(_error('for_deploy', '%s is not a boolean' % _show(for_deploy), 'true or false'))
        for_deploy = True
    if require_digest is None:
        require_digest = for_deploy
    elif not isinstance(require_digest, bool):
        errors.append(_error('require_digest', '%s is not a boolean' % _show(require_digest), 'true, false or null'))
        require_digest = True
    if not isinstance(overrides, Mapping):
        errors.append(_error(OVERRIDES_VARIABLE, '%s is not a mapping' % _show(overrides),
                             'a mapping of chart values (deep-merged last)'))
    if schema is not None and not isinstance(schema, Mapping):
        errors.append(_error('schema', '%s is not a mapping' % _show(schema),
                             "the parsed values.schema.json (lookup('file', ...) | from_json), or null"))
    errors.extend(validate_settings(settings, for_deploy, require_digest))
    if isinstance(settings, Mapping):
        errors.extend(check_override_policy(settings.get('environment'), overrides, require_digest))
    if errors:
        raise ChartValuesError(scrub(errors, secrets))

    values = deep_merge(settings_to_values(settings), overrides)
    if schema is not None:
        errors = validate_against_schema(values, schema, overrides, secrets)
        if errors:
            raise ChartValuesError(scrub(errors, secrets))
    return values
