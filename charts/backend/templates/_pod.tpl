{{/* Pod parts shared by the web and PgBouncer Deployments and the migration/seed Jobs. */}}

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

{{/* emptyDir volumes of the php containers (read-only root filesystem), each with its sizeLimit. */}}
{{- define "backend.php.volumes" -}}
{{- $limits := .Values.php.sizeLimits -}}
{{- range $name, $key := dict "php-tmp" "tmp" "laravel-storage" "storage" "laravel-storage-cache" "cache" "laravel-storage-sessions" "sessions" "laravel-storage-views" "views" "laravel-storage-logs" "logs" "laravel-bootstrap-cache" "bootstrapCache" }}
- name: {{ $name }}
  emptyDir:
    sizeLimit: {{ index $limits $key }}
{{- end }}
{{- end -}}

{{/*
The app's secrets as files (never as environment variables): a read-only volume of the Secret
`backend.secretName` with only the keys the container needs, mounted at backend.secrets.dir. The
images read <NAME>_FILE (see README, "What the images must provide").
Usage: include "backend.secrets.volume" (dict "context" $ "keys" (list "APP_KEY" "DB_PASSWORD"))
*/}}
{{- define "backend.secrets.dir" -}}
/run/secrets/backend
{{- end -}}

{{- define "backend.secrets.volume" -}}
- name: app-secrets
  secret:
    secretName: {{ include "backend.secretName" .context }}
    # owner root, group fsGroup (podSecurityContext): readable by the container's user only
    defaultMode: 0440
    items:
      {{- range .keys }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end -}}

{{- define "backend.secrets.volumeMount" -}}
- name: app-secrets
  mountPath: {{ include "backend.secrets.dir" . }}
  readOnly: true
{{- end -}}

{{/* <NAME>_FILE variables naming the mounted secret files. Usage: as backend.secrets.volume. */}}
{{- define "backend.secrets.fileEnv" -}}
{{- $dir := include "backend.secrets.dir" .context -}}
{{- range .keys }}
- name: {{ . }}_FILE
  value: {{ printf "%s/%s" $dir . | quote }}
{{- end }}
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
Topology spread of the web pods: topologySpreadConstraints when set, else (topologySpread.enabled)
one constraint per node and one per zone over the web pods' selector labels.
*/}}
{{- define "backend.topologySpreadConstraints" -}}
{{- if .Values.topologySpreadConstraints -}}
{{ toYaml .Values.topologySpreadConstraints }}
{{- else if .Values.topologySpread.enabled -}}
{{- range $key := list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
- maxSkew: {{ $.Values.topologySpread.maxSkew }}
  topologyKey: {{ $key }}
  whenUnsatisfiable: {{ $.Values.topologySpread.whenUnsatisfiable }}
  labelSelector:
    matchLabels:
      {{- include "backend.web.selectorLabels" $ | nindent 6 }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
Scheduling fields every pod of the chart carries: priorityClassName, nodeSelector, tolerations.
*/}}
{{- define "backend.pod.scheduling" -}}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
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
