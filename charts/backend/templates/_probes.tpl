{{/* Probe parts shared by the php-fpm, nginx and PgBouncer containers. */}}

{{/*
A probe's timing fields.
Usage: include "backend.probeTimings" .Values.nginx.livenessProbe
*/}}
{{- define "backend.probeTimings" -}}
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
successThreshold: {{ default 1 .successThreshold }}
{{- end -}}

{{/* Handler of the php-fpm probes (exec script, or TCP connect on the FastCGI port). */}}
{{- define "backend.php.probeHandler" -}}
{{- if eq .Values.php.healthcheck.type "exec" -}}
exec:
  command:
    {{- toYaml .Values.php.healthcheck.command | nindent 4 }}
{{- else -}}
tcpSocket:
  port: fastcgi
{{- end -}}
{{- end -}}
