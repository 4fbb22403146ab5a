{{/* PgBouncer's name and port, which the app's environment and NetworkPolicy also use. */}}

{{/* Name of the PgBouncer objects (Deployment, Service, ConfigMap, ...). */}}
{{- define "backend.pgbouncer.fullname" -}}
{{- printf "%s-pgbouncer" (include "backend.fullname" . | trunc 53 | trimSuffix "-") -}}
{{- end -}}

{{/* The port PgBouncer listens on, which the app, its Service and both NetworkPolicies name. */}}
{{- define "backend.pgbouncer.port" -}}
6432
{{- end -}}
