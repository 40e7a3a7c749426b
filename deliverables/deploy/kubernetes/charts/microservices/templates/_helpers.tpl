{{/*
The chart name, for the app.kubernetes.io/name label.
*/}}
{{- define "microservices.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of one component's objects: namePrefix + component. No release name by default, so
the Services are `order-api` and `order-processor`, as `minikube service order-api` and the
services' default ORDER_PROCESSOR_URL expect. Takes (dict "root" $ "component" "order-api").
*/}}
{{- define "microservices.componentName" -}}
{{- printf "%s%s" .root.Values.namePrefix .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "microservices.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of one component: stable for the life of a release (selectors are immutable).
Takes (dict "root" $ "component" "order-api").
*/}}
{{- define "microservices.selectorLabels" -}}
app.kubernetes.io/name: {{ include "microservices.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Every label of one component's objects. Takes (dict "root" $ "component" "order-api").
*/}}
{{- define "microservices.labels" -}}
helm.sh/chart: {{ include "microservices.chart" .root }}
{{ include "microservices.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: order-system
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
An app image (order-api, order-processor, orderctl): [registry/]repository:tag, the tag falling
back to image.tag and then the chart's appVersion. Takes (dict "root" $ "image" .Values.x.image).
*/}}
{{- define "microservices.appImage" -}}
{{- $root := .root -}}
{{- $repository := .image.repository -}}
{{- with $root.Values.image.registry }}
{{- $repository = printf "%s/%s" (trimSuffix "/" .) $repository -}}
{{- end }}
{{- $tag := .image.tag | default $root.Values.image.tag | default $root.Chart.AppVersion -}}
{{- printf "%s:%s" $repository (toString $tag) }}
{{- end }}

{{/*
The DynamoDB endpoint the services and orderctl use: the in-release DynamoDB Local Service, or
dynamodb.endpoint (empty: AWS's regional endpoint, no DYNAMODB_ENDPOINT set).
*/}}
{{- define "microservices.dynamodbEndpoint" -}}
{{- if .Values.dynamodb.enabled }}
{{- printf "http://%s:8000" (include "microservices.componentName" (dict "root" . "component" "dynamodb-local")) }}
{{- else }}
{{- .Values.dynamodb.endpoint }}
{{- end }}
{{- end }}

{{/*
"true" when the monitoring objects render: enabled in values and the cluster serves the
Prometheus Operator's API (CRDs installed). `helm template` knows only built-in APIs unless
given `--api-versions monitoring.coreos.com/v1`.
*/}}
{{- define "microservices.monitoringEnabled" -}}
{{- if and .Values.metrics.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}true{{ end }}
{{- end }}

{{/*
Restricted Pod Security Standard, pod level. The images run as the distroless nonroot user.
*/}}
{{- define "microservices.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Restricted Pod Security Standard, container level.
*/}}
{{- define "microservices.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
{{- end }}

{{/*
Environment shared by every workload that talks to DynamoDB. Region always set: DynamoDB Local
ignores it, real DynamoDB needs it.
*/}}
{{- define "microservices.dynamodbEnv" -}}
AWS_REGION: {{ .Values.dynamodb.region | quote }}
DYNAMODB_TIMEOUT_MS: {{ .Values.dynamodb.client.timeoutMs | int | quote }}
DYNAMODB_MAX_ATTEMPTS: {{ .Values.dynamodb.client.maxAttempts | int | quote }}
LOG_FORMAT: {{ .Values.config.logFormat | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
{{- with include "microservices.dynamodbEndpoint" . }}
DYNAMODB_ENDPOINT: {{ . | quote }}
{{- end }}
{{- if include "microservices.usesCredentialsFile" . }}
AWS_SHARED_CREDENTIALS_FILE: "/etc/aws/credentials"
{{- end }}
{{- end }}

{{/*
AWS credentials for real DynamoDB, from dynamodb.credentialsSecret: the Secret's `credentials`
key mounted as the SDK's shared credentials file. Three pieces, each empty without a Secret:
the env variable (in the ConfigMaps), the volume and the mount.
*/}}
{{- define "microservices.usesCredentialsFile" -}}
{{- if and (not .Values.dynamodb.enabled) .Values.dynamodb.credentialsSecret }}true{{ end }}
{{- end }}

{{- define "microservices.credentialsVolume" -}}
{{- if include "microservices.usesCredentialsFile" . -}}
- name: aws-credentials
  secret:
    secretName: {{ .Values.dynamodb.credentialsSecret }}
    items:
      - key: credentials
        path: credentials
{{- end }}
{{- end }}

{{- define "microservices.credentialsMount" -}}
{{- if include "microservices.usesCredentialsFile" . -}}
- name: aws-credentials
  mountPath: /etc/aws
  readOnly: true
{{- end }}
{{- end }}

{{/*
order-api's identity (orderApi.auth). With neither jwksUrl nor jwks, the chart is its own
development issuer: Secret <namePrefix>dev-issuer holds an ES256 key (dev-issuer-secret.yaml),
an init container of order-api writes its public JWKS into an emptyDir that order-api reads as
AUTH_JWKS_FILE, and `helm test` and the token pod of NOTES.txt sign with it. With a real issuer,
no key exists in the cluster. "true" for the development issuer.
*/}}
{{- define "microservices.devIssuer" -}}
{{- if not (or .Values.orderApi.auth.jwksUrl .Values.orderApi.auth.jwks) }}true{{ end }}
{{- end }}

{{- define "microservices.devIssuerName" -}}urn:order-system:dev{{- end }}

{{/*
AUTH_ISSUER: the configured issuer, or the development one.
*/}}
{{- define "microservices.authIssuer" -}}
{{- if include "microservices.devIssuer" . }}{{ include "microservices.devIssuerName" . }}{{ else }}{{ .Values.orderApi.auth.issuer }}{{ end }}
{{- end }}

{{- define "microservices.devIssuerSecret" -}}
{{- include "microservices.componentName" (dict "root" . "component" "dev-issuer") }}
{{- end }}

{{- define "microservices.devIssuerKeyPath" -}}/etc/dev-issuer/signing-key.pem{{- end }}

{{/*
The development key, for the pods that sign with it or publish its JWKS: never order-api's own
container, nor any other long-running one.
*/}}
{{- define "microservices.devIssuerVolume" -}}
- name: dev-issuer
  secret:
    secretName: {{ include "microservices.devIssuerSecret" . }}
    items:
      - key: signing-key.pem
        path: {{ include "microservices.devIssuerKeyPath" . | base }}
{{- end }}

{{- define "microservices.devIssuerMount" -}}
- name: dev-issuer
  mountPath: {{ include "microservices.devIssuerKeyPath" . | dir }}
  readOnly: true
{{- end }}

{{/*
order-api's JWKS file (AUTH_JWKS_FILE): written by the init container from the development key
into an emptyDir, or orderApi.auth.jwks from its own ConfigMap. The volume, the mount and the
file's path. Empty for order-processor and when orderApi.auth.jwksUrl is used. Takes
(dict "root" $ "component" name).
*/}}
{{- define "microservices.usesJwksFile" -}}
{{- if and (eq .component "order-api") (not .root.Values.orderApi.auth.jwksUrl) }}true{{ end }}
{{- end }}

{{- define "microservices.jwksPath" -}}/etc/order-api/auth/jwks.json{{- end }}

{{- define "microservices.jwksVolume" -}}
{{- if include "microservices.usesJwksFile" . -}}
- name: auth-jwks
{{- if include "microservices.devIssuer" .root }}
  emptyDir:
    sizeLimit: 1Mi
{{ include "microservices.devIssuerVolume" .root }}
{{- else }}
  configMap:
    name: {{ include "microservices.componentName" (dict "root" .root "component" "order-api-jwks") }}
{{- end }}
{{- end }}
{{- end }}

{{- define "microservices.jwksMount" -}}
{{- if include "microservices.usesJwksFile" . -}}
- name: auth-jwks
  mountPath: {{ include "microservices.jwksPath" . | dir }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
The processor token list (processorAuth), mounted into both services as PROCESSOR_TOKENS_FILE:
the user's Secret, or the one the chart creates (services/processor-auth-secret.yaml). The name,
the file's path, the volume and the mount.
*/}}
{{- define "microservices.processorAuthSecret" -}}
{{- .Values.processorAuth.existingSecret | default (include "microservices.componentName" (dict "root" . "component" "processor-auth")) }}
{{- end }}

{{- define "microservices.processorTokensPath" -}}/etc/processor-auth/tokens{{- end }}

{{- define "microservices.processorAuthVolume" -}}
- name: processor-auth
  secret:
    secretName: {{ include "microservices.processorAuthSecret" . }}
    items:
      - key: tokens
        path: {{ include "microservices.processorTokensPath" . | base }}
{{- end }}

{{- define "microservices.processorAuthMount" -}}
- name: processor-auth
  mountPath: {{ include "microservices.processorTokensPath" . | dir }}
  readOnly: true
{{- end }}

{{/*
The label that tells a service's `-management` Service (the management port) from its API
Service: both select the same pods and carry the same component label, which is the job label.
*/}}
{{- define "microservices.managementLabel" -}}
order-system/port: management
{{- end }}

{{/*
Checks the schema cannot express. Included by every template that depends on them.
*/}}
{{- define "microservices.validate" -}}
{{- range $key, $service := dict "orderApi" .Values.orderApi "orderProcessor" .Values.orderProcessor }}
{{- $needed := add (int $service.shutdown.drainSeconds) (int $service.shutdown.timeoutSeconds) }}
{{- if le (int $service.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be greater than shutdown.drainSeconds + shutdown.timeoutSeconds (%d): Kubernetes would kill the pod before it finishes in-flight requests" $key (int $service.terminationGracePeriodSeconds) (int $needed)) }}
{{- end }}
{{- if and $service.autoscaling.enabled (gt (int $service.autoscaling.minReplicas) (int $service.autoscaling.maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas (%d) must not exceed maxReplicas (%d)" $key (int $service.autoscaling.minReplicas) (int $service.autoscaling.maxReplicas)) }}
{{- end }}
{{- end }}
{{- $auth := .Values.orderApi.auth }}
{{- if and $auth.jwksUrl $auth.jwks }}
{{- fail "set at most one of orderApi.auth.jwksUrl (a real issuer's JWKS URL) and orderApi.auth.jwks (its JWKS document); neither: the chart's development issuer" }}
{{- end }}
{{- if include "microservices.devIssuer" . }}
{{- if and $auth.issuer (ne $auth.issuer (include "microservices.devIssuerName" .)) }}
{{- fail (printf "orderApi.auth.issuer (%s) needs a real issuer's keys, orderApi.auth.jwksUrl or orderApi.auth.jwks; without them the chart's development issuer is %s" $auth.issuer (include "microservices.devIssuerName" .)) }}
{{- end }}
{{- else if not $auth.issuer }}
{{- fail "orderApi.auth.issuer is required with orderApi.auth.jwksUrl or orderApi.auth.jwks: the `iss` of the real issuer's tokens" }}
{{- end }}
{{- if and $auth.jwks (not (hasKey (fromJson $auth.jwks) "keys")) }}
{{- fail "orderApi.auth.jwks must be a JWKS document: {\"keys\": [...]}" }}
{{- end }}
{{- if and .Values.dynamodb.enabled .Values.dynamodb.endpoint }}
{{- fail "dynamodb.endpoint is only used with dynamodb.enabled=false: the release runs DynamoDB Local and points every service at it" }}
{{- end }}
{{- if and .Values.dynamodb.endpoint .Values.dynamodb.credentialsSecret }}
{{- fail "dynamodb.credentialsSecret is for AWS's own endpoint (dynamodb.endpoint empty): with an endpoint set, the services use placeholder keys unless AWS_ACCESS_KEY_ID is set, and would ignore the credentials file" }}
{{- end }}
{{- if and .Values.dynamodb.enabled .Values.dynamodb.credentialsSecret }}
{{- fail "dynamodb.credentialsSecret is only used with dynamodb.enabled=false: DynamoDB Local needs no credentials" }}
{{- end }}
{{- end }}

{{/*
The environment of orderctl's table setup (the table-init Job), as ConfigMap data.
*/}}
{{- define "microservices.tableInitConfig" -}}
{{ include "microservices.dynamodbEnv" . }}
ORDERS_TABLE: {{ .Values.dynamodb.tables.orders | quote }}
INVENTORY_TABLE: {{ .Values.dynamodb.tables.inventory | quote }}
RESERVATIONS_TABLE: {{ .Values.dynamodb.tables.reservations | quote }}
{{- end }}

{{/*
Replicas that run at least once in steady state: what decides whether a PodDisruptionBudget
makes sense. Takes a service's values.
*/}}
{{- define "microservices.minReplicas" -}}
{{- if .autoscaling.enabled }}{{ .autoscaling.minReplicas | int }}{{ else }}{{ .replicaCount | int }}{{ end }}
{{- end }}

{{/*
The `kubectl run --overrides` (strategic merge) of the token pod NOTES.txt shows: a one-off
orderctl pod that mounts the development key, takes AUTH_ISSUER and AUTH_AUDIENCE from
order-api's ConfigMap (so its tokens are the ones order-api accepts) and meets the restricted
Pod Security Standard. make/helm.mk's helm-token sends the same for the default values (the
tests compare them).
*/}}
{{- define "microservices.tokenPodName" -}}
{{- include "microservices.componentName" (dict "root" . "component" "orderctl-token") }}
{{- end }}

{{- define "microservices.tokenPodOverrides" -}}
{{- $container := dict "name" (include "microservices.tokenPodName" .) -}}
{{- $_ := set $container "envFrom" (list (dict "configMapRef" (dict "name" (include "microservices.componentName" (dict "root" . "component" "order-api"))))) -}}
{{- $_ = set $container "env" (list (dict "name" "ORDER_API_SIGNING_KEY" "value" (include "microservices.devIssuerKeyPath" .))) -}}
{{- $_ = set $container "volumeMounts" (include "microservices.devIssuerMount" . | fromYamlArray) -}}
{{- $_ = set $container "securityContext" (include "microservices.containerSecurityContext" . | fromYaml) -}}
{{- $spec := dict "automountServiceAccountToken" false "containers" (list $container) -}}
{{- $_ = set $spec "securityContext" (include "microservices.podSecurityContext" . | fromYaml) -}}
{{- $_ = set $spec "volumes" (include "microservices.devIssuerVolume" . | fromYamlArray) -}}
{{- dict "spec" $spec | toJson }}
{{- end }}
