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

{{/*
Handler of a php-fpm probe: always exec, php-fpm listening on loopback only (the kubelet's
TCP/HTTP probes go to the pod IP). Usage: include "backend.php.probeHandler" .Values.php.healthcheck.livenessCommand
*/}}
{{- define "backend.php.probeHandler" -}}
exec:
  command:
    {{- toYaml . | nindent 4 }}
{{- end -}}
