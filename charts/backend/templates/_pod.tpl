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
