{{/* PgBouncer's name and port, which the app's environment and NetworkPolicy also use. */}}

{{/* Name of the PgBouncer objects (Deployment, Service, ConfigMap, ...). */}}
{{- define "backend.pgbouncer.fullname" -}}
{{- printf "%s-pgbouncer" (include "backend.fullname" . | trunc 53 | trimSuffix "-") -}}
{{- end -}}

{{/* The port PgBouncer listens on, which the app, its Service and both NetworkPolicies name. */}}
{{- define "backend.pgbouncer.port" -}}
6432
{{- end -}}

{{/* Where PgBouncer's certificate and key (pgbouncer.tls.secretName) are mounted. */}}
{{- define "backend.pgbouncer.tlsDir" -}}
/run/secrets/pgbouncer-tls
{{- end -}}

{{/* Whether PgBouncer refuses clients without TLS: it has a certificate and database.sslmode asks for TLS. */}}
{{- define "backend.pgbouncer.requiresTls" -}}
{{- if and .Values.pgbouncer.tls.secretName (has .Values.database.sslmode (list "require" "verify-ca" "verify-full")) -}}
true
{{- end -}}
{{- end -}}
