{{/*
Template-time invariants the JSON schema cannot express. Each message names the values
involved, their current values and what is allowed. Every broken invariant is collected first
and reported in one failure, so a values file is fixed in one round instead of one per problem.
Included by the Deployment and the migration Job, so they also hold for
`helm template --show-only templates/migrations-job.yaml`.
*/}}
{{- define "backend.validateValues" -}}
{{- $v := .Values -}}
{{- $errors := list -}}

{{- /* Secrets: exactly one of existingSecret or appKey(/dbPassword). */ -}}
{{- if $v.secrets.existingSecret -}}
{{- if or $v.secrets.appKey $v.secrets.dbPassword -}}
{{- $errors = append $errors (printf "secrets.existingSecret (%q) and secrets.appKey/secrets.dbPassword are mutually exclusive: with an existing Secret the chart renders none, so the inline secrets would be ignored. Set only one form." $v.secrets.existingSecret) -}}
{{- end -}}
{{- else if not $v.secrets.appKey -}}
{{- $errors = append $errors "secrets.appKey is required (the Laravel APP_KEY, e.g. base64:...), or set secrets.existingSecret to the name of a Secret holding APP_KEY and DB_PASSWORD" -}}
{{- end -}}

{{- /* Autoscaling bounds. */ -}}
{{- if $v.autoscaling.enabled -}}
{{- if gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas) -}}
{{- $errors = append $errors (printf "autoscaling.minReplicas (%d) must be <= autoscaling.maxReplicas (%d)" (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if and (kindIs "invalid" $v.autoscaling.targetCPUUtilizationPercentage) (kindIs "invalid" $v.autoscaling.targetMemoryUtilizationPercentage) -}}
{{- $errors = append $errors "autoscaling.targetCPUUtilizationPercentage and autoscaling.targetMemoryUtilizationPercentage are both null: the HPA needs at least one metric (or set autoscaling.enabled=false)" -}}
{{- end -}}
{{- end -}}

{{- /* Graceful shutdown arithmetic. */ -}}
{{- $grace := int $v.terminationGracePeriodSeconds -}}
{{- $sleep := int $v.lifecycle.preStopSleepSeconds -}}
{{- $pct := int $v.php.fpm.processControlTimeout -}}
{{- $rtt := int $v.php.fpm.requestTerminateTimeout -}}
{{- if le $grace (add $sleep $pct) -}}
{{- $errors = append $errors (printf "terminationGracePeriodSeconds (%d) must be greater than lifecycle.preStopSleepSeconds (%d) + php.fpm.processControlTimeout (%d) = %d, or php-fpm is SIGKILLed before its graceful stop ends" $grace $sleep $pct (add $sleep $pct)) -}}
{{- end -}}
{{- if lt $pct $rtt -}}
{{- $errors = append $errors (printf "php.fpm.processControlTimeout (%d) must be >= php.fpm.requestTerminateTimeout (%d), or a graceful stop cuts requests php-fpm would still let run" $pct $rtt) -}}
{{- end -}}

{{- /* app.extraEnv may not shadow the chart's variables (nor carry secrets into the ConfigMap). */ -}}
{{- $reserved := splitList " " (include "backend.reservedEnv" .) -}}
{{- range $name, $_ := $v.app.extraEnv -}}
{{- if has $name $reserved -}}
{{- $errors = append $errors (printf "app.extraEnv.%s: %s is set by the chart (from app.*, database.*, secrets.* or php.fpm.*); set it there instead" $name $name) -}}
{{- end -}}
{{- end -}}

{{- /* Ingress. */ -}}
{{- if $v.ingress.enabled -}}
{{- if not $v.ingress.host -}}
{{- $errors = append $errors "ingress.host is required when ingress.enabled=true" -}}
{{- end -}}
{{- if and $v.ingress.tls.enabled (not $v.ingress.tls.secretName) -}}
{{- $errors = append $errors "ingress.tls.secretName is required when ingress.tls.enabled=true" -}}
{{- end -}}
{{- end -}}

{{- /* Database TLS: a verifying sslmode needs the CA; PgBouncer then needs a certificate to serve. */ -}}
{{- $ca := $v.database.ca | default dict -}}
{{- if and $ca.configMapName $ca.secretName -}}
{{- $errors = append $errors (printf "database.ca.configMapName (%q) and database.ca.secretName (%q) are mutually exclusive: the CA comes from one object. Set only one." $ca.configMapName $ca.secretName) -}}
{{- end -}}
{{- if has $v.database.sslmode (list "verify-ca" "verify-full") -}}
{{- if not (include "backend.database.caFile" .) -}}
{{- $errors = append $errors (printf "database.sslmode=%s checks the server's certificate against a CA: set database.ca.configMapName or database.ca.secretName (and database.ca.key)" $v.database.sslmode) -}}
{{- end -}}
{{- if and $v.pgbouncer.enabled (not $v.pgbouncer.tls.secretName) -}}
{{- $errors = append $errors (printf "database.sslmode=%s with pgbouncer.enabled=true needs pgbouncer.tls.secretName (a kubernetes.io/tls Secret whose certificate the CA of database.ca signs): the app's connections to PgBouncer would otherwise be plaintext" $v.database.sslmode) -}}
{{- end -}}
{{- end -}}

{{- /* images.requireDigest: every image in use pinned by digest (a tag can be moved). */ -}}
{{- if $v.images.requireDigest -}}
{{- $images := list (list "php.image" $v.php.image) (list "nginx.image" $v.nginx.image) -}}
{{- if $v.pgbouncer.enabled -}}
{{- $images = append $images (list "pgbouncer.image" $v.pgbouncer.image) -}}
{{- end -}}
{{- range $images -}}
{{- if not (index . 1).digest -}}
{{- $errors = append $errors (printf "%s.digest is required (images.requireDigest=true): pin the image by digest (sha256:<64 hex>), a tag (%s) can be moved" (index . 0) (include "backend.image" (dict "image" (index . 1) "context" $))) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- /* PodDisruptionBudgets: exactly one of minAvailable and maxUnavailable. */ -}}
{{- $budgets := list -}}
{{- if $v.pdb.enabled -}}
{{- $budgets = append $budgets (list "pdb" $v.pdb) -}}
{{- if $v.pgbouncer.enabled -}}
{{- $budgets = append $budgets (list "pgbouncer.pdb" $v.pgbouncer.pdb) -}}
{{- end -}}
{{- end -}}
{{- range $budgets -}}
{{- $name := index . 0 -}}
{{- $min := (index . 1).minAvailable -}}
{{- $max := (index . 1).maxUnavailable -}}
{{- if and (kindIs "invalid" $min) (kindIs "invalid" $max) -}}
{{- $errors = append $errors (printf "%s.minAvailable and %s.maxUnavailable are both null: set exactly one of them" $name $name) -}}
{{- else if and (not (kindIs "invalid" $min)) (not (kindIs "invalid" $max)) -}}
{{- $errors = append $errors (printf "%s.minAvailable (%v) and %s.maxUnavailable (%v) are mutually exclusive (a PodDisruptionBudget takes one): set the other to null" $name $min $name $max) -}}
{{- end -}}
{{- end -}}

{{- /* A plain migration Job needs a unique name per run: a Job's pod template is immutable. */ -}}
{{- if and $v.migrations.enabled (not $v.migrations.hook) (eq (toString $v.migrations.nameSuffix) "") -}}
{{- $errors = append $errors "migrations.nameSuffix is required when migrations.hook=false (e.g. the release revision): a plain Job cannot be changed once created, so each run needs a new name" -}}
{{- end -}}

{{- /* Alert rules: thresholds in range, `for` a duration Prometheus parses (units largest first). */ -}}
{{- $durationRe := "^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$" -}}
{{- range $name, $rule := $v.metrics.prometheusRule.rules -}}
{{- $at := printf "metrics.prometheusRule.rules.%s" $name -}}
{{- if hasKey $rule "for" -}}
{{- $for := toString $rule.for -}}
{{- if or (eq $for "") (not (regexMatch $durationRe $for)) -}}
{{- $errors = append $errors (printf "%s.for (%q) is not a Prometheus duration: use digits with units y, w, d, h, m, s, ms, largest first (e.g. 30s, 5m, 1h30m)" $at $for) -}}
{{- end -}}
{{- end -}}
{{- if hasKey $rule "threshold" -}}
{{- $t := float64 $rule.threshold -}}
{{- if or (le $t 0.0) (gt $t 1.0) -}}
{{- $errors = append $errors (printf "%s.threshold (%v) is a ratio of requests: it must be above 0 and at most 1 (0.05 is 5%%)" $at $rule.threshold) -}}
{{- end -}}
{{- end -}}
{{- if and (hasKey $rule "thresholdSeconds") (le (float64 $rule.thresholdSeconds) 0.0) -}}
{{- $errors = append $errors (printf "%s.thresholdSeconds (%v) must be a latency above 0 seconds" $at $rule.thresholdSeconds) -}}
{{- end -}}
{{- range $count := list "listenQueue" "waitingClients" "restarts" -}}
{{- if and (hasKey $rule $count) (lt (float64 (index $rule $count)) 0.0) -}}
{{- $errors = append $errors (printf "%s.%s (%v) must be a count >= 0" $at $count (index $rule $count)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- with $errors -}}
{{- fail (printf "charts/backend: %d %s in the values:\n- %s" (len .) (ternary "problem" "problems" (eq (len .) 1)) (join "\n- " .)) -}}
{{- end -}}
{{- end -}}
