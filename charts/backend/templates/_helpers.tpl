{{/*
Names, labels, selectors and shared pod parts. Every template takes them from here.
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

{{/* Selector labels shared by every pod of the release. */}}
{{- define "backend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "backend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Selector labels of the web pods (Deployment, Service, PDB, ServiceMonitor, NetworkPolicy).
The component label keeps the Job and test pods out of the Service and the PDB.
*/}}
{{- define "backend.web.selectorLabels" -}}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/component: web
{{- end -}}

{{/* Selector labels of the migration and seed Job pods. */}}
{{- define "backend.migrations.selectorLabels" -}}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/component: migrations
{{- end -}}

{{/* Selector labels of the PgBouncer pods (Deployment, Service, PDB, ServiceMonitor, NetworkPolicy). */}}
{{- define "backend.pgbouncer.selectorLabels" -}}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/component: pgbouncer
{{- end -}}

{{/* Selector labels of the `helm test` pod. */}}
{{- define "backend.test.selectorLabels" -}}
{{ include "backend.selectorLabels" . }}
app.kubernetes.io/component: test
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

{{/* Common labels of web objects. */}}
{{- define "backend.web.labels" -}}
{{ include "backend.labels" . }}
app.kubernetes.io/component: web
{{- end -}}

{{/* Common labels of migration/seed objects. */}}
{{- define "backend.migrations.labels" -}}
{{ include "backend.labels" . }}
app.kubernetes.io/component: migrations
{{- end -}}

{{/* Common labels of PgBouncer objects. */}}
{{- define "backend.pgbouncer.labels" -}}
{{ include "backend.labels" . }}
app.kubernetes.io/component: pgbouncer
{{- end -}}

{{/* The port PgBouncer listens on, which the app, its Service and both NetworkPolicies name. */}}
{{- define "backend.pgbouncer.port" -}}
6432
{{- end -}}

{{/* Name of the PgBouncer objects (Deployment, Service, ConfigMap, ...). */}}
{{- define "backend.pgbouncer.fullname" -}}
{{- printf "%s-pgbouncer" (include "backend.fullname" . | trunc 53 | trimSuffix "-") -}}
{{- end -}}

{{/* Common labels of the test pod. */}}
{{- define "backend.test.labels" -}}
{{ include "backend.labels" . }}
app.kubernetes.io/component: test
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

{{/*
A Deployment's pod-template annotations: commonAnnotations, podAnnotations, and checksums of its
ConfigMap and of the chart's Secret, so that a change of either rolls the pods.
Usage: include "backend.pod.annotations" (dict "context" $ "configmap" "configmap.yaml")
*/}}
{{- define "backend.pod.annotations" -}}
{{- $ctx := .context -}}
{{- with $ctx.Values.commonAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with $ctx.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
checksum/config: {{ include (print $ctx.Template.BasePath "/" .configmap) $ctx | sha256sum }}
{{- if include "backend.createSecret" $ctx }}
checksum/secret: {{ include (print $ctx.Template.BasePath "/secret.yaml") $ctx | sha256sum }}
{{- end }}
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

{{/*
Job name: <fullname>-<kind>[-<suffix>], at most 63 characters (the Job controller puts the name
in a pod label), with the suffix always kept.
Usage: include "backend.jobName" (dict "context" $ "kind" "migrate")
*/}}
{{- define "backend.jobName" -}}
{{- $suffix := .context.Values.migrations.nameSuffix | toString -}}
{{- $base := printf "%s-%s" (include "backend.fullname" .context) .kind -}}
{{- if $suffix -}}
{{- printf "%s-%s" ($base | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- else -}}
{{- $base | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Image reference from an image dict: [registry/]repository@digest when a digest is set,
otherwise [registry/]repository:tag, the tag defaulting to the chart's appVersion.
Usage: include "backend.image" (dict "image" .Values.php.image "context" $)
*/}}
{{- define "backend.image" -}}
{{- $repository := .image.repository -}}
{{- if .image.registry -}}
{{- $repository = printf "%s/%s" (trimSuffix "/" .image.registry) .image.repository -}}
{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .context.Chart.AppVersion (.image.tag | toString)) -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets list, accepting names or {name: ...} objects. */}}
{{- define "backend.imagePullSecrets" -}}
{{- if .Values.imagePullSecrets -}}
imagePullSecrets:
{{- range .Values.imagePullSecrets }}
  - name: {{ kindIs "string" . | ternary . (get (kindIs "map" . | ternary . dict) "name") }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
APP_URL: app.url, else derived from the Ingress host.
*/}}
{{- define "backend.appUrl" -}}
{{- if .Values.app.url -}}
{{- .Values.app.url -}}
{{- else if and .Values.ingress.enabled .Values.ingress.host -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/*
The non-secret environment of the php containers, as a YAML map of strings. Rendered into the
ConfigMap, and inline into a plain (non-hook) migration Job, which is applied before the
release upgrades the ConfigMap.
*/}}
{{- define "backend.env" -}}
APP_ENV: {{ .Values.app.env | toString | quote }}
APP_DEBUG: {{ ternary "true" "false" .Values.app.debug | quote }}
APP_URL: {{ include "backend.appUrl" . | quote }}
LOG_CHANNEL: "stderr"
LOG_STDERR_FORMATTER: "Monolog\\Formatter\\JsonFormatter"
LOG_LEVEL: {{ .Values.app.logLevel | quote }}
DB_CONNECTION: "pgsql"
{{- if .Values.pgbouncer.enabled }}
DB_HOST: {{ include "backend.pgbouncer.fullname" . | quote }}
DB_PORT: {{ include "backend.pgbouncer.port" . | quote }}
{{- else }}
DB_HOST: {{ .Values.database.host | toString | quote }}
DB_PORT: {{ .Values.database.port | toString | quote }}
{{- end }}
DB_DATABASE: {{ .Values.database.name | toString | quote }}
DB_USERNAME: {{ .Values.database.username | toString | quote }}
{{- /* With PgBouncer, database.sslmode applies to its hop to PostgreSQL; it serves no TLS itself. */}}
DB_SSLMODE: {{ ternary "disable" .Values.database.sslmode .Values.pgbouncer.enabled | quote }}
{{- range $name, $value := .Values.app.extraEnv }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Variable names the chart sets itself; app.extraEnv may not redefine them. */}}
{{- define "backend.reservedEnv" -}}
APP_ENV APP_DEBUG APP_URL LOG_CHANNEL LOG_STDERR_FORMATTER LOG_LEVEL DB_CONNECTION DB_HOST DB_PORT DB_DATABASE DB_USERNAME DB_SSLMODE APP_KEY DB_PASSWORD PHP_FPM_REQUEST_TERMINATE_TIMEOUT PHP_FPM_PROCESS_CONTROL_TIMEOUT
{{- end -}}

{{/* emptyDir volumes of the php containers (read-only root filesystem). */}}
{{- define "backend.php.volumes" -}}
- name: php-tmp
  emptyDir: {}
- name: laravel-storage
  emptyDir: {}
- name: laravel-storage-cache
  emptyDir: {}
- name: laravel-storage-sessions
  emptyDir: {}
- name: laravel-storage-views
  emptyDir: {}
- name: laravel-storage-logs
  emptyDir: {}
- name: laravel-bootstrap-cache
  emptyDir: {}
{{- end -}}

{{/*
Mounts of those volumes. Each nested directory is an emptyDir of its own (mode 0777), so it
exists and is writable even though the parent storage/ emptyDir starts empty.
*/}}
{{- define "backend.php.volumeMounts" -}}
- name: php-tmp
  mountPath: /tmp
- name: laravel-storage
  mountPath: /var/www/html/storage
- name: laravel-storage-cache
  mountPath: /var/www/html/storage/framework/cache
- name: laravel-storage-sessions
  mountPath: /var/www/html/storage/framework/sessions
- name: laravel-storage-views
  mountPath: /var/www/html/storage/framework/views
- name: laravel-storage-logs
  mountPath: /var/www/html/storage/logs
- name: laravel-bootstrap-cache
  mountPath: /var/www/html/bootstrap/cache
{{- end -}}

{{/*
envFrom of a php container: the ConfigMap (unless inline) and the Secret.
Usage: include "backend.php.envFrom" (dict "context" $ "inline" false)
*/}}
{{- define "backend.php.envFrom" -}}
envFrom:
  {{- if not .inline }}
  - configMapRef:
      name: {{ include "backend.configMapName" .context }}
  {{- end }}
  - secretRef:
      name: {{ include "backend.secretName" .context }}
{{- end -}}

{{/*
The ConfigMap's variables as `env` list items, for a plain (non-hook) Job that is applied
before the release upgrades the ConfigMap.
*/}}
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

{{/* Pod anti-affinity preset (Bitnami-style soft/hard) across nodes for the web pods. */}}
{{- define "backend.affinity" -}}
{{- if .Values.affinity -}}
{{ toYaml .Values.affinity }}
{{- else if eq .Values.podAntiAffinityPreset "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "backend.web.selectorLabels" . | nindent 12 }}
{{- else if eq .Values.podAntiAffinityPreset "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "backend.web.selectorLabels" . | nindent 10 }}
{{- end -}}
{{- end -}}

{{/*
A NetworkPolicy peer list item from {namespaceSelector, podSelector}; an empty
namespaceSelector is left out (the release's namespace).
Usage: include "backend.networkPolicy.peer" .Values.networkPolicy.dns
*/}}
{{- define "backend.networkPolicy.peer" -}}
{{- $peer := dict "podSelector" (default (dict) .podSelector) -}}
{{- if .namespaceSelector -}}
{{- $_ := set $peer "namespaceSelector" .namespaceSelector -}}
{{- end -}}
{{- toYaml (list $peer) -}}
{{- end -}}

{{/*
Egress rules to the database (its ipBlock, or its selectors) and to the cluster DNS, shared by
the backend's and PgBouncer's NetworkPolicies.
*/}}
{{- define "backend.networkPolicy.databaseAndDnsEgress" -}}
{{- $np := .Values.networkPolicy -}}
- to:
    {{- if $np.database.ipBlock }}
    - ipBlock:
        cidr: {{ $np.database.ipBlock | quote }}
    {{- else }}
    {{- include "backend.networkPolicy.peer" $np.database | nindent 4 }}
    {{- end }}
  ports:
    - port: {{ $np.database.port }}
      protocol: TCP
- to:
    {{- include "backend.networkPolicy.peer" $np.dns | nindent 4 }}
  ports:
    - port: {{ $np.dns.port }}
      protocol: UDP
    - port: {{ $np.dns.port }}
      protocol: TCP
{{- end -}}

{{/*
A migration/seed Job.
Usage: include "backend.job" (dict "context" $ "kind" "migrate" "command" $cmd "weight" "0")
hook=true: a post-install/post-upgrade hook reading the release's ConfigMap and Secret.
hook=false: a plain Job, applied by the prod flow before the release is upgraded: the
non-secret environment is inline (the ConfigMap may not exist yet or still hold the previous
revision's values), the Secret must already exist (secrets.existingSecret, or the release's
from an earlier install) and the pod uses the namespace's `default` ServiceAccount unless an
existing one is named (serviceAccount.create=false).
*/}}
{{- define "backend.job" -}}
{{- $ := .context -}}
{{- $m := $.Values.migrations -}}
{{- $hook := $m.hook -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "backend.jobName" (dict "context" $ "kind" .kind) }}
  namespace: {{ $.Release.Namespace | quote }}
  labels:
    {{- include "backend.migrations.labels" $ | nindent 4 }}
  {{- $hookAnnotations := dict }}
  {{- if $hook }}
  {{- $hookAnnotations = dict "helm.sh/hook" "post-install,post-upgrade" "helm.sh/hook-weight" (toString .weight) "helm.sh/hook-delete-policy" "before-hook-creation" }}
  {{- end }}
  {{- with include "backend.annotations" (dict "context" $ "extra" $hookAnnotations) }}
  {{- . | nindent 2 }}
  {{- end }}
spec:
  backoffLimit: {{ $m.backoffLimit }}
  activeDeadlineSeconds: {{ $m.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ $m.ttlSecondsAfterFinished }}
  template:
    metadata:
      labels:
        {{- include "backend.migrations.labels" $ | nindent 8 }}
      {{- with $.Values.commonAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      restartPolicy: Never
      {{- if $hook }}
      serviceAccountName: {{ include "backend.serviceAccountName" $ }}
      {{- else }}
      serviceAccountName: {{ ternary "default" (include "backend.serviceAccountName" $) $.Values.serviceAccount.create }}
      {{- end }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with include "backend.imagePullSecrets" $ }}
      {{- . | nindent 6 }}
      {{- end }}
      securityContext:
        {{- toYaml $.Values.podSecurityContext | nindent 8 }}
      {{- with $.Values.priorityClassName }}
      priorityClassName: {{ . | quote }}
      {{- end }}
      {{- with $.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .kind }}
          image: {{ include "backend.image" (dict "image" $.Values.php.image "context" $) | quote }}
          imagePullPolicy: {{ $.Values.php.image.pullPolicy }}
          command:
            {{- toYaml .command | nindent 12 }}
          {{- include "backend.php.envFrom" (dict "context" $ "inline" (not $hook)) | nindent 10 }}
          {{- if or (not $hook) $.Values.pgbouncer.enabled }}
          env:
            {{- if not $hook }}
            {{- include "backend.php.inlineEnv" $ | trim | nindent 12 }}
            {{- end }}
            {{- if $.Values.pgbouncer.enabled }}
            {{- include "backend.job.directDatabaseEnv" $ | nindent 12 }}
            {{- end }}
          {{- end }}
          resources:
            {{- toYaml $m.resources | nindent 12 }}
          securityContext:
            {{- toYaml $.Values.php.containerSecurityContext | nindent 12 }}
          volumeMounts:
            {{- include "backend.php.volumeMounts" $ | nindent 12 }}
      volumes:
        {{- include "backend.php.volumes" $ | nindent 8 }}
{{- end -}}

{{/* One HPA utilisation metric: of one container (ContainerResource) or of the whole pod (Resource). */}}
{{- define "backend.hpa.metric" -}}
{{- if .container -}}
- type: ContainerResource
  containerResource:
    name: {{ .name }}
    container: {{ .container }}
    target:
      type: Utilization
      averageUtilization: {{ .target }}
{{- else -}}
- type: Resource
  resource:
    name: {{ .name }}
    target:
      type: Utilization
      averageUtilization: {{ .target }}
{{- end -}}
{{- end -}}
