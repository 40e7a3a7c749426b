{{/*
The environment of one service, as ConfigMap data. The Deployment hashes this same text into a
pod annotation, so a configuration change rolls the pods. Takes (dict "root" $ "component" name
"values" service-values).
*/}}
{{- define "microservices.serviceConfig" -}}
{{- $root := .root -}}
{{- $values := .values -}}
PORT: "8000"
{{ include "microservices.dynamodbEnv" $root }}
SHUTDOWN_DRAIN_SECONDS: {{ $values.shutdown.drainSeconds | int | quote }}
SHUTDOWN_TIMEOUT_SECONDS: {{ $values.shutdown.timeoutSeconds | int | quote }}
{{- with $root.Values.config.otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- if eq .component "order-api" }}
ORDERS_TABLE: {{ $root.Values.dynamodb.tables.orders | quote }}
ORDER_PROCESSOR_URL: {{ printf "http://%s:%d" (include "microservices.componentName" (dict "root" $root "component" "order-processor")) (int $root.Values.orderProcessor.service.port) | quote }}
PROCESSOR_TIMEOUT_MS: {{ $values.processor.timeoutMs | int | quote }}
PROCESSOR_MAX_ATTEMPTS: {{ $values.processor.maxAttempts | int | quote }}
RECONCILER_INTERVAL_SECONDS: {{ $values.reconciler.intervalSeconds | int | quote }}
RECONCILER_GRACE_SECONDS: {{ $values.reconciler.graceSeconds | int | quote }}
RECONCILER_MAX_ATTEMPTS: {{ $values.reconciler.maxAttempts | int | quote }}
RECONCILER_MAX_AGE_SECONDS: {{ $values.reconciler.maxAgeSeconds | int | quote }}
AUTH_ISSUER: {{ $values.auth.issuer | quote }}
AUTH_AUDIENCE: {{ $values.auth.audience | quote }}
AUTH_SUBJECT_CLAIM: {{ $values.auth.subjectClaim | quote }}
{{- if $values.auth.jwksUrl }}
AUTH_JWKS_URL: {{ $values.auth.jwksUrl | quote }}
{{- else }}
AUTH_JWKS_FILE: {{ include "microservices.jwksPath" . | quote }}
{{- end }}
{{- else }}
INVENTORY_TABLE: {{ $root.Values.dynamodb.tables.inventory | quote }}
RESERVATIONS_TABLE: {{ $root.Values.dynamodb.tables.reservations | quote }}
{{- end }}
{{- end }}
