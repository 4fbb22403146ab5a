{{/* Parts shared by the backend's and PgBouncer's NetworkPolicies. */}}

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
Egress rules to the database (its ipBlock, or its selectors) and to the cluster DNS: both
policies need exactly the same, so a change of networkPolicy.database reaches both.
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
{{ include "backend.networkPolicy.dnsEgress" . }}
{{- end -}}

{{/* Egress rule to the cluster DNS (UDP and TCP), for every policy of the chart. */}}
{{- define "backend.networkPolicy.dnsEgress" -}}
{{- $np := .Values.networkPolicy -}}
- to:
    {{- include "backend.networkPolicy.peer" $np.dns | nindent 4 }}
  ports:
    - port: {{ $np.dns.port }}
      protocol: UDP
    - port: {{ $np.dns.port }}
      protocol: TCP
{{- end -}}
