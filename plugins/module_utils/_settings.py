# -*- coding: utf-8 -*-
# Copyright: (c) 2025, laravel_ops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every inventory variable of the collection, as data.

One entry per ``backend_*`` variable: what it holds (``kind``, checked by ``_checks``), where
it lands in ``charts/backend`` values (``chart``: chart path and transform, applied by
``_mapping``), whether it is a secret, what each environment allows (``policy``, applied by
``_policy``), and which roles read it (``roles``: their ``meta/argument_specs.yml`` declare
it). The error messages, ``docs/inventory-variables.md`` and the argument specs all come from
here; nothing else lists these variables.

A ``default`` is what a role reads when the inventory leaves an optional variable unset; a
chart-mapped variable without one leaves the chart's own default in place.

Policy rules: ``allowed`` (the only values), ``forbidden``, ``minimum``, ``required`` (unset is
refused too), ``requires`` (a field an image must carry once it is deployed: its digest) and
``approval`` (a migration Job there needs ``backend_migrations_approved``).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

ENVIRONMENTS = ('local', 'dev', 'staging', 'prod')
LOG_LEVELS = ('debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency')
MIGRATION_MODES = ('hooks', 'job', 'off')
IMAGE_FLAVOURS = ('alpine', 'debian')
SSLMODES = ('disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full')
VERIFYING_SSLMODES = ('verify-ca', 'verify-full')

# The alert rules of the chart's PrometheusRule (metrics.prometheusRule.rules) and the threshold
# each takes, by kind: ratio (above 0, at most 1), seconds (above 0), count (an integer >= 0).
# Every rule also takes enabled, for (a Prometheus duration) and severity.
ALERT_RULES = (
    ('errorRate', 'threshold', 'ratio'),
    ('latencyP95', 'thresholdSeconds', 'seconds'),
    ('phpFpmSaturated', 'listenQueue', 'count'),
    ('databaseDown', None, None),
    ('pgbouncerSaturated', 'waitingClients', 'count'),
    ('podRestarts', 'restarts', 'count'),
    ('hpaMaxedOut', None, None),
)
ALERT_RULE_FIELDS = ('enabled', 'for', 'severity')

# The deploy playbook itself reads backend_build_image; the rest is read by these roles.
DEPLOY_PLAYBOOK = 'deploy'

_PINNED = dict(requires='digest', reason='images are deployed pinned by digest (the image role supplies it)')
_VERIFIED = dict(allowed=VERIFYING_SSLMODES, required=True,
                 reason='prefer falls back to plaintext, and neither prefer nor require checks the server')

SETTINGS = (
    dict(name='backend_environment', kind='choice', choices=ENVIRONMENTS, required=True,
         chart=((('commonLabels', 'app.kubernetes.io/environment'), 'value'),
                (('images', 'requireDigest'), 'pins_digests')),
         roles=('release', 'migrations'),
         description='The environment this inventory deploys; selects its policy and labels every object '
                     '(app.kubernetes.io/environment).'),
    dict(name='backend_namespace', kind='dns_label', required=True,
         roles=('release', 'postgresql', 'migrations', 'rollback', 'deployer'),
         description='Namespace of the release (created with Pod Security restricted enforced).'),
    dict(name='backend_release_name', kind='release_name', required=True,
         roles=('release', 'migrations', 'rollback'),
         description='Helm release name; prefixes the names of the objects.'),
    dict(name='backend_app_env', kind='app_env',
         chart=((('app', 'env'), 'value'),), roles=('release',),
         description="Laravel's APP_ENV, e.g. production, staging, local."),
    dict(name='backend_app_debug', kind='bool',
         chart=((('app', 'debug'), 'value'),), roles=('release',),
         policy={'prod': dict(allowed=(False,))},
         description="Laravel's APP_DEBUG: stack traces in responses."),
    dict(name='backend_log_level', kind='choice', choices=LOG_LEVELS,
         chart=((('app', 'logLevel'), 'value'),), roles=('release',),
         policy={'prod': dict(forbidden=('debug',))},
         description='Lowest level of the JSON log lines the application writes.'),
    dict(name='backend_app_url', kind='http_url', empty_means_unset=True,
         chart=((('app', 'url'), 'value'),), roles=('release',),
         description="Laravel's APP_URL; empty derives it from the Ingress host."),
    dict(name='backend_replicas_min', kind='int', minimum=1,
         chart=((('autoscaling', 'minReplicas'), 'value'), (('replicaCount',), 'value')), roles=('release',),
         policy={'prod': dict(minimum=2, reason='one pod is no redundancy')},
         description='Fewest pods (the HPA minimum, and the replica count without the HPA).'),
    dict(name='backend_replicas_max', kind='int', minimum=1,
         chart=((('autoscaling', 'maxReplicas'), 'value'),), roles=('release',),
         description='Most pods the HPA may run; at least backend_replicas_min.'),
    dict(name='backend_disruption_budget', kind='int_or_percent',
         chart=((('pdb', 'maxUnavailable'), 'value'), (('pdb', 'minAvailable'), 'cleared')), roles=('release',),
         description='Web pods a voluntary disruption (a node drain) may take at once, a number or a percentage; '
                     'unset keeps the chart\'s minAvailable 1, which lets a drain take all but one pod.'),
    dict(name='backend_topology_spread', kind='choice', choices=('ScheduleAnyway', 'DoNotSchedule'),
         chart=((('topologySpread', 'whenUnsatisfiable'), 'value'),), roles=('release',),
         description='How the web pods spread over nodes and zones: ScheduleAnyway prefers, DoNotSchedule '
                     'requires (every node then needs its hostname and zone labels).'),
    dict(name='backend_priority_class', kind='dns_subdomain', empty_means_unset=True,
         chart=((('priorityClassName',), 'value'),), roles=('release',),
         description='PriorityClass of every pod of the release; empty for the cluster default.'),
    dict(name='backend_ingress_host', kind='ingress_host', empty_means_unset=False,
         chart=((('ingress', 'enabled'), 'is_set'), (('ingress', 'host'), 'when_set')), roles=('release',),
         description='Host name of the Ingress; empty for no Ingress.'),
    dict(name='backend_ingress_class', kind='dns_subdomain', empty_means_unset=True,
         chart=((('ingress', 'className'), 'value'),), roles=('release',),
         description='IngressClass of the Ingress; empty for the cluster default.'),
    dict(name='backend_ingress_tls_secret', kind='dns_subdomain', empty_means_unset=False,
         chart=((('ingress', 'tls', 'enabled'), 'is_set'), (('ingress', 'tls', 'secretName'), 'when_set')),
         roles=('release',),
         description='TLS Secret of the Ingress; empty for no TLS.'),
    dict(name='backend_php_image', kind='image', required=True,
         chart=((('php', 'image'), 'image'),), roles=('image', 'release'),
         policy={'prod': _PINNED},
         description='Where the php-fpm image lives: registry and repository; the image role adds the tag and '
                     'digest it pushed.'),
    dict(name='backend_nginx_image', kind='image', required=True,
         chart=((('nginx', 'image'), 'image'),), roles=('image', 'release'),
         policy={'prod': _PINNED},
         description='Where the nginx image lives: registry and repository; the image role adds the tag and '
                     'digest it pushed.'),
    dict(name='backend_pgbouncer_enabled', kind='bool', default=False,
         chart=((('pgbouncer', 'enabled'), 'value'),), roles=('image', 'release'),
         description='PgBouncer between the application and PostgreSQL (transaction pooling).'),
    dict(name='backend_pgbouncer_image', kind='image', in_use_when='backend_pgbouncer_enabled',
         chart=((('pgbouncer', 'image'), 'image'),), roles=('image', 'release'),
         policy={'prod': _PINNED},
         description='Where the PgBouncer image (docker/pgbouncer) lives; needed with backend_pgbouncer_enabled.'),
    dict(name='backend_database', kind='database',
         chart=((('database',), 'mapping'),), roles=('release', 'postgresql'),
         description='The PostgreSQL database: host, port, name, username (the password is '
                     'backend_database_password).'),
    dict(name='backend_database_sslmode', kind='choice', choices=SSLMODES,
         chart=((('database', 'sslmode'), 'value'),), roles=('release',),
         policy={'staging': _VERIFIED, 'prod': _VERIFIED},
         description="libpq's sslmode for every connection to the database (the application's, through PgBouncer "
                     "when it is on, and the migration Jobs'); unset keeps the chart's prefer. verify-ca and "
                     'verify-full need backend_database_ca.'),
    dict(name='backend_database_ca', kind='ca_source', roles=('release',),
         chart=((('database', 'ca'), 'ca_source'),),
         description='Where the CA certificate (PEM, several may follow each other) that signs the database '
                     "servers' certificates lives, in the release's namespace: config_map or secret (its name) and "
                     "key (default ca.crt). The application and PgBouncer check PostgreSQL's certificate against it, "
                     "and the application checks PgBouncer's. The in-cluster PostgreSQL makes its own CA there."),
    dict(name='backend_pgbouncer_tls_secret', kind='dns_subdomain', empty_means_unset=True,
         chart=((('pgbouncer', 'tls', 'secretName'), 'value'),), roles=('release',),
         description="A kubernetes.io/tls Secret (tls.crt, tls.key) PgBouncer serves TLS with; its certificate "
                     "names PgBouncer's Service as <service>.<namespace>.svc and is signed by the CA of "
                     'backend_database_ca. Needed with PgBouncer and backend_database_sslmode verify-ca or '
                     'verify-full; then PgBouncer refuses clients without TLS.'),
    dict(name='backend_database_in_cluster', kind='bool', default=False, roles=('image', 'release', 'postgresql'),
         description='Run PostgreSQL in the cluster (local and test clusters; production uses a managed '
                     'database).'),
    dict(name='backend_postgresql_image', kind='image', in_use_when='backend_database_in_cluster',
         roles=('image', 'postgresql'),
         description='Where the in-cluster PostgreSQL image (docker/postgresql) lives; needed with '
                     'backend_database_in_cluster.'),
    dict(name='backend_existing_secret', kind='dns_subdomain', empty_means_unset=True,
         chart=((('secrets', 'existingSecret'), 'app_secret'),), roles=('release',),
         description='A Secret made outside the collection (external secret manager) holding APP_KEY and '
                     'DB_PASSWORD; empty lets the release role make <release>-app-secrets from the two secrets '
                     'below.'),
    dict(name='backend_app_key', kind='app_key', secret=True, empty_means_unset=True, roles=('release',),
         description="Laravel's APP_KEY, from vault or an AWX credential; stored in the release's Secret, never "
                     'in Helm values.'),
    dict(name='backend_database_password', kind='secret_string', secret=True, empty_means_unset=True,
         roles=('release',),
         description='Password of the database user, from vault or an AWX credential; stored in a Secret.'),
    dict(name='backend_migrations_mode', kind='choice', choices=MIGRATION_MODES, required=True,
         chart=((('migrations', 'enabled'), 'is_hooks'),), roles=('release', 'migrations'),
         policy={'prod': dict(allowed=('job', 'off'), reason='hook Jobs run after the new pods start')},
         description='hooks: Helm post-install/post-upgrade Jobs; job: an explicit Job before the rollout; '
                     'off: nothing migrates.'),
    dict(name='backend_migrations_approved', kind='approval', default=False, roles=('migrations',),
         policy={'prod': dict(approval=True)},
         description='Approval, for this deploy, to run the migration Job where the environment asks for one: '
                     'true or false (-e), or yes or no (the multiple-choice answer of an AWX survey).'),
    dict(name='backend_seed', kind='bool',
         chart=((('migrations', 'seed', 'enabled'), 'value'),), roles=('release',),
         policy={'prod': dict(allowed=(False,))},
         description='Run the database seeders after the migrations.'),
    dict(name='backend_metrics_enabled', kind='bool',
         chart=((('metrics', 'enabled'), 'value'),), roles=('release',),
         description='ServiceMonitor and PrometheusRule (where the Prometheus Operator CRDs exist).'),
    dict(name='backend_monitoring_namespace', kind='dns_label', default='monitoring',
         chart=((('networkPolicy', 'metrics', 'namespaceSelector', 'matchLabels', 'kubernetes.io/metadata.name'),
                 'value'),),
         roles=('prometheus_operator', 'release'),
         description='Namespace of Prometheus: the prometheus_operator role installs the stack there, and the '
                     "backend's NetworkPolicy lets only that namespace reach the metrics port."),
    dict(name='backend_prometheus_release', kind='release_name', empty_means_unset=False,
         default='kube-prometheus-stack',
         chart=((('metrics', 'prometheusRelease'), 'value'),), roles=('release',),
         description='The `release` label of the ServiceMonitors and the PrometheusRule: the Helm release name of '
                     'the kube-prometheus-stack whose Prometheus selects them by that label (its default '
                     'selectors). The default is the prometheus_operator role\'s prometheus_operator_release_name '
                     'default; set both when renaming that release.'),
    dict(name='backend_alerts', kind='alerts',
         chart=((('metrics', 'prometheusRule', 'rules'), 'alerts'),), roles=('release',),
         description='Tuning of the alert rules, by rule: %s; each takes enabled, for (how long the condition '
                     'holds before the alert fires) and severity, and its threshold. Unset keys keep the '
                     "chart's defaults." % ', '.join(rule for rule, _field, _kind in ALERT_RULES)),
    dict(name='backend_chart_values', kind='chart_values',
         chart=(((), 'merge'),), roles=('release',),
         description='Free-form chart values, deep-merged last (the escape hatch); the environment policy holds '
                     'for them too.'),
    dict(name='backend_build_image', kind='bool', default=True, roles=(DEPLOY_PLAYBOOK,),
         description='Build and push the images in the deploy (default true); false deploys the images the '
                     'inventory names, which then carry their tag or digest.'),
    dict(name='backend_app_source', kind='path', roles=('image',),
         description="Root of the Laravel application to build (the collection's example app by default)."),
    dict(name='backend_image_flavour', kind='choice', choices=IMAGE_FLAVOURS, default='alpine', roles=('image',),
         description='alpine: the production Dockerfile; debian: the same configs and users on a Debian base, '
                     'for sites that cannot pull the Alpine base images.'),
)

# Where the policy pins images by digest; the chart's images.requireDigest is set there, so that a
# hand-made `helm upgrade` by tag fails too.
DIGEST_PINNED_ENVIRONMENTS = tuple(
    environment for environment in ENVIRONMENTS
    if any('requires' in setting.get('policy', {}).get(environment, {}) for setting in SETTINGS))
