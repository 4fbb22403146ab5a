{{/* One Job template for the migrations and the seeds, so that the two cannot drift apart. */}}

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
  {{- $annotations := include "backend.checkov.lowUidSkip" $ | fromYaml }}
  {{- if $hook }}
  {{- $annotations = merge $annotations (dict "helm.sh/hook" "post-install,post-upgrade" "helm.sh/hook-weight" (toString .weight) "helm.sh/hook-delete-policy" "before-hook-creation") }}
  {{- end }}
  {{- with include "backend.annotations" (dict "context" $ "extra" $annotations) }}
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
      {{- with include "backend.pod.scheduling" $ | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      containers:
        - name: {{ .kind }}
          image: {{ include "backend.image" (dict "image" $.Values.php.image "context" $) | quote }}
          imagePullPolicy: {{ $.Values.php.image.pullPolicy }}
          # args, not command: the image's entrypoint runs first (it reads the *_FILE secrets
          # and prepares storage/), then execs the command.
          args:
            {{- toYaml .command | nindent 12 }}
          {{- if $hook }}
          {{- include "backend.php.envFrom" $ | nindent 10 }}
          {{- end }}
          env:
            {{- if not $hook }}
            {{- include "backend.php.inlineEnv" $ | trim | nindent 12 }}
            {{- end }}
            {{- if $.Values.pgbouncer.enabled }}
            {{- include "backend.job.directDatabaseEnv" $ | nindent 12 }}
            {{- end }}
            {{- include "backend.secrets.fileEnv" (dict "context" $ "keys" (splitList " " (include "backend.php.secretKeys" $))) | trim | nindent 12 }}
          resources:
            {{- toYaml $m.resources | nindent 12 }}
          securityContext:
            {{- toYaml $.Values.php.containerSecurityContext | nindent 12 }}
          volumeMounts:
            {{- include "backend.php.volumeMounts" $ | nindent 12 }}
            {{- include "backend.secrets.volumeMount" $ | nindent 12 }}
            {{- with include "backend.database.caVolumeMount" $ | trim }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "backend.php.volumes" $ | trim | nindent 8 }}
        {{- include "backend.secrets.volume" (dict "context" $ "keys" (splitList " " (include "backend.php.secretKeys" $))) | nindent 8 }}
        {{- with include "backend.database.caVolume" $ | trim }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}
