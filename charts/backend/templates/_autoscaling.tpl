{{/*
True (non-empty) when the cluster serves the HPA's ContainerResource metric: the
HPAContainerMetrics feature is beta and on by default from Kubernetes 1.27 (GA in 1.30). Below,
the API server would drop such metrics, so the HPA falls back to the pod's Resource metric.
*/}}
{{- define "backend.hpa.containerMetrics" -}}
{{- if semverCompare ">=1.27.0-0" .Capabilities.KubeVersion.Version -}}true{{- end -}}
{{- end -}}

{{/*
A PodDisruptionBudget's bound: maxUnavailable when set, else minAvailable (backend.validateValues
makes sure exactly one is set). Usage: include "backend.pdb.bound" .Values.pdb
*/}}
{{- define "backend.pdb.bound" -}}
{{- if not (kindIs "invalid" .maxUnavailable) -}}
maxUnavailable: {{ .maxUnavailable }}
{{- else -}}
minAvailable: {{ .minAvailable }}
{{- end -}}
{{- end -}}

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
