{{/*
Environment of the php containers. The web pods and hook Jobs read it from the ConfigMap; a
plain (non-hook) migration Job gets it inline, since it is applied before the release upgrades
the ConfigMap.
*/}}

{{/* APP_URL: app.url, else derived from the Ingress host. */}}
{{- define "backend.appUrl" -}}
{{- if .Values.app.url -}}
{{- .Values.app.url -}}
{{- else if and .Values.ingress.enabled .Values.ingress.host -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* The non-secret environment, as a YAML map of strings: the ConfigMap's data. */}}
{{- define "backend.env" -}}
APP_ENV: {{ .Values.app.env | toString | quote }}
APP_DEBUG: {{ ternary "true" "false" .Values.app.debug | quote }}
APP_URL: {{ include "backend.appUrl" . | quote }}
LOG_CHANNEL: "stderr"
LOG_STDERR_FORMATTER: "Monolog\\Formatter\\JsonFormatter"
LOG_LEVEL: {{ .Values.app.logLevel | quote }}
DB_CONNECTION: "pgsql"
{{- if .Values.pgbouncer.enabled }}
{{- /* The name PgBouncer's certificate carries, whatever the cluster's DNS domain. */}}
DB_HOST: {{ printf "%s.%s.svc" (include "backend.pgbouncer.fullname" .) .Release.Namespace | quote }}
DB_PORT: {{ include "backend.pgbouncer.port" . | quote }}
{{- /* Without a certificate of its own, PgBouncer is reached in plaintext; database.sslmode then governs its hop to PostgreSQL only. */}}
DB_SSLMODE: {{ ternary .Values.database.sslmode "disable" (not (empty .Values.pgbouncer.tls.secretName)) | quote }}
{{- else }}
DB_HOST: {{ .Values.database.host | toString | quote }}
DB_PORT: {{ .Values.database.port | toString | quote }}
DB_SSLMODE: {{ .Values.database.sslmode | quote }}
{{- end }}
DB_DATABASE: {{ .Values.database.name | toString | quote }}
DB_USERNAME: {{ .Values.database.username | toString | quote }}
{{- with include "backend.database.caFile" . }}
DB_SSLROOTCERT: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.app.extraEnv }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Variable names the chart sets itself; app.extraEnv may not redefine them. */}}
{{- define "backend.reservedEnv" -}}
APP_ENV APP_DEBUG APP_URL LOG_CHANNEL LOG_STDERR_FORMATTER LOG_LEVEL DB_CONNECTION DB_HOST DB_PORT DB_DATABASE DB_USERNAME DB_SSLMODE DB_SSLROOTCERT APP_KEY DB_PASSWORD APP_KEY_FILE DB_PASSWORD_FILE PHP_FPM_REQUEST_TERMINATE_TIMEOUT PHP_FPM_PROCESS_CONTROL_TIMEOUT
{{- end -}}

{{/* Secret keys the php containers read, as files (backend.secrets.*). */}}
{{- define "backend.php.secretKeys" -}}
APP_KEY DB_PASSWORD
{{- end -}}

{{/*
envFrom of a php container reading the ConfigMap (the web pods and the hook Jobs; a plain Job
gets the same variables inline). The Secret is not in the environment: it is mounted as files.
*/}}
{{- define "backend.php.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "backend.configMapName" . }}
{{- end -}}

{{/* The ConfigMap's variables as `env` list items, for a plain Job. */}}
{{- define "backend.php.inlineEnv" -}}
{{- $env := include "backend.env" . | fromYaml -}}
{{- if .Values.pgbouncer.enabled -}}
{{- /* the Job sets them itself: see backend.job.directDatabaseEnv */ -}}
{{- $env = omit $env "DB_HOST" "DB_PORT" "DB_SSLMODE" -}}
{{- end -}}
{{- range $name, $value := $env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/*
DB_HOST/DB_PORT/DB_SSLMODE of the migration and seed Jobs when PgBouncer is on: PostgreSQL
itself, since a migration may hold long DDL transactions and a plain Job runs before the release
(and so PgBouncer) is installed or upgraded.
*/}}
{{- define "backend.job.directDatabaseEnv" -}}
- name: DB_HOST
  value: {{ .Values.database.host | toString | quote }}
- name: DB_PORT
  value: {{ .Values.database.port | toString | quote }}
- name: DB_SSLMODE
  value: {{ .Values.database.sslmode | quote }}
{{- end -}}

{{/*
The CA that signs the database servers' certificates (database.ca: a ConfigMap or a Secret),
mounted into the php containers and PgBouncer; libpq reads it per connection, so a renewed CA
needs no restart of the app.
*/}}
{{- define "backend.database.caFile" -}}
{{- with .Values.database.ca -}}
{{- if or .configMapName .secretName -}}
/run/secrets/database-ca/ca.crt
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "backend.database.caVolume" -}}
{{- with .Values.database.ca -}}
{{- if .configMapName }}
- name: database-ca
  configMap:
    name: {{ .configMapName }}
    items:
      - key: {{ .key }}
        path: ca.crt
{{- else if .secretName }}
- name: database-ca
  secret:
    secretName: {{ .secretName }}
    items:
      - key: {{ .key }}
        path: ca.crt
{{- end }}
{{- end }}
{{- end -}}

{{- define "backend.database.caVolumeMount" -}}
{{- with include "backend.database.caFile" . }}
- name: database-ca
  mountPath: {{ dir . }}
  readOnly: true
{{- end }}
{{- end -}}
