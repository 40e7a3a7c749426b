{{/*
The environment of one service, as ConfigMap data. The Deployment hashes this same text into a
pod annotation, so a configuration change rolls the pods. Takes (dict "root" $ "component" name
"values" service-values).
*/}}
{{- define "microservices.serviceConfig" -}}
{{- $root := .root -}}
{{- $values := .values -}}
PORT: "8000"
MANAGEMENT_PORT: {{ $root.Values.management.port | int | quote }}
PROCESSOR_TOKENS_FILE: {{ include "microservices.processorTokensPath" $root | quote }}
{{ include "microservices.dynamodbEnv" $root }}
SHUTDOWN_DRAIN_SECONDS: {{ $values.shutdown.drainSeconds | int | quote }}
SHUTDOWN_TIMEOUT_SECONDS: {{ $values.shutdown.timeoutSeconds | int | quote }}
HTTP_HEADER_TIMEOUT_SECONDS: {{ $values.http.headerTimeoutSeconds | int | quote }}
HTTP_IDLE_TIMEOUT_SECONDS: {{ $values.http.idleTimeoutSeconds | int | quote }}
HTTP_REQUEST_TIMEOUT_SECONDS: {{ $values.http.requestTimeoutSeconds | int | quote }}
HTTP_MAX_CONNECTIONS: {{ $values.http.maxConnections | int | quote }}
HTTP_MAX_IN_FLIGHT: {{ $values.http.maxInFlight | int | quote }}
HTTP_MAX_HEADER_BYTES: {{ $values.http.maxHeaderBytes | int | quote }}
HTTP_RATE_LIMIT_PER_SECOND: {{ $values.http.rateLimit.perSecond | int | quote }}
HTTP_RATE_LIMIT_BURST: {{ $values.http.rateLimit.burst | int | quote }}
HTTP_TRUSTED_PROXY_HOPS: {{ $values.http.trustedProxyHops | int | quote }}
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
AUTH_ISSUER: {{ include "microservices.authIssuer" $root | quote }}
AUTH_AUDIENCE: {{ $values.auth.audience | quote }}
AUTH_SUBJECT_CLAIM: {{ $values.auth.subjectClaim | quote }}
CUSTOMER_RATE_LIMIT_PER_SECOND: {{ $values.auth.customerRateLimit.perSecond | int | quote }}
CUSTOMER_RATE_LIMIT_BURST: {{ $values.auth.customerRateLimit.burst | int | quote }}
{{- if $values.auth.jwksUrl }}
AUTH_JWKS_URL: {{ $values.auth.jwksUrl | quote }}
{{- else }}
AUTH_JWKS_FILE: {{ include "microservices.jwksPath" . | quote }}
{{- end }}
{{- else }}
INVENTORY_TABLE: {{ $root.Values.dynamodb.tables.inventory | quote }}
RESERVATIONS_TABLE: {{ $root.Values.dynamodb.tables.reservations | quote }}
{{- /* Its reservation transaction also confirms order-api's order record. */}}
ORDERS_TABLE: {{ $root.Values.dynamodb.tables.orders | quote }}
{{- end }}
{{- end }}
