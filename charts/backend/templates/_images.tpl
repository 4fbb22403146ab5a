{{/* Image references and pull secrets, shared by the web, PgBouncer, Job and test pods. */}}

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
