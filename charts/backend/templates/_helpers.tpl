{{/*
Names, labels, selectors and metadata annotations: what every object of the chart carries.
Component-specific helpers live next to this file (_images, _pod, _env, _probes, _jobs, ...).
*/}}

{{/* Chart name, overridable. */}}
{{- define "backend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified name: <release>-<name>, or the release name when it already contains the name. */}}
{{- define "backend.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Chart label value. */}}
{{- define "backend.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* ServiceAccount name. */}}
{{- define "backend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "backend.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Name of the ConfigMap with the non-secret environment. */}}
{{- define "backend.configMapName" -}}
{{- include "backend.fullname" . -}}
{{- end -}}

{{/* Name of the Secret with APP_KEY and DB_PASSWORD: the existing one, or the chart's. */}}
{{- define "backend.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- include "backend.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* True (non-empty) when the chart renders its own Secret. */}}
{{- define "backend.createSecret" -}}
{{- if not .Values.secrets.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* Selector labels shared by every pod of the release. */}}
{{- define "backend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "backend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Common labels (without component), plus commonLabels. */}}
{{- define "backend.labels" -}}
helm.sh/chart: {{ include "backend.chart" . }}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: laravel-ops
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Per-component labels. The component label keeps the Job and test pods out of the web Service
and PDB, and the web pods out of PgBouncer's; the selectors name it for that reason.
*/}}

{{/* Selector labels of the web pods (Deployment, Service, PDB, ServiceMonitor, NetworkPolicy). */}}
{{- define "backend.web.selectorLabels" -}}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/component: web
{{- end -}}

{{/* Common labels of web objects. */}}
{{- define "backend.web.labels" -}}
{{ include "backend.labels" . }}
app.kubernetes.io/component: web
{{- end -}}

{{/*
Labels of the monitoring objects (ServiceMonitors, PrometheusRule, dashboard ConfigMap): the web
labels, `release: <metrics.prometheusRelease>` (what kube-prometheus-stack's Prometheus selects by
default) when set, then the object's own extra labels, which win.
(dict "context" $ "extra" .Values.metrics.serviceMonitor.labels "component" "web")
*/}}
{{- define "backend.monitoring.labels" -}}
{{- $ctx := .context -}}
{{- $labels := include (printf "backend.%s.labels" (.component | default "web")) $ctx | fromYaml -}}
{{- with $ctx.Values.metrics.prometheusRelease -}}
{{- $_ := set $labels "release" . -}}
{{- end -}}
{{- toYaml (merge (deepCopy (default (dict) .extra)) $labels) -}}
{{- end -}}

{{/* Common labels of migration/seed objects. */}}
{{- define "backend.migrations.labels" -}}
{{ include "backend.labels" . }}
app.kubernetes.io/component: migrations
{{- end -}}

{{/* Selector labels of the PgBouncer pods (Deployment, Service, PDB, ServiceMonitor, NetworkPolicy). */}}
{{- define "backend.pgbouncer.selectorLabels" -}}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/component: pgbouncer
{{- end -}}

{{/* Common labels of PgBouncer objects. */}}
{{- define "backend.pgbouncer.labels" -}}
{{ include "backend.labels" . }}
app.kubernetes.io/component: pgbouncer
{{- end -}}

{{/* Selector labels of the `helm test` pod. */}}
{{- define "backend.test.selectorLabels" -}}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/component: test
{{- end -}}

{{/* Common labels of the test pod. */}}
{{- define "backend.test.labels" -}}
{{ include "backend.labels" . }}
app.kubernetes.io/component: test
{{- end -}}

{{/* Name of the `helm test` pod and of its NetworkPolicy. */}}
{{- define "backend.test.fullname" -}}
{{- printf "%s-test-connection" (include "backend.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
checkov skips, as annotations of the objects they concern (`checkov.io/skip<N>: <ID>=<reason>`).
Only what the project's fixed numbers mandate: php-fpm runs as UID 33 and nginx as UID 101 (the
users the images are built with, fixed by the seed), below checkov's 10000 (CKV_K8S_40). Every
other finding is fixed in the templates.
Usage: merge into the "extra" of backend.annotations: (include "backend.checkov.lowUidSkip" . | fromYaml)
*/}}
{{- define "backend.checkov.lowUidSkip" -}}
checkov.io/skip1: "CKV_K8S_40=php-fpm runs as UID 33 (www-data) and nginx as UID 101, the users the project's images are built with (fixed numbers); below 10000 by design, with runAsNonRoot, no privilege escalation and no capabilities"
{{- end -}}

{{/*
metadata.annotations block from commonAnnotations merged with extra annotations.
Usage: include "backend.annotations" (dict "context" $ "extra" $someMap)
Renders nothing when both are empty.
*/}}
{{- define "backend.annotations" -}}
{{- $all := merge (deepCopy (default (dict) .extra)) (deepCopy (default (dict) .context.Values.commonAnnotations)) -}}
{{- if $all -}}
annotations:
  {{- toYaml $all | nindent 2 }}
{{- end -}}
{{- end -}}
