{{/*
One HPA utilisation metric: of one container (ContainerResource), or of the whole pod
(Resource) when autoscaling.container is empty.
Usage: include "backend.hpa.metric" (dict "name" "cpu" "target" 70 "container" "php-fpm")
*/}}
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
