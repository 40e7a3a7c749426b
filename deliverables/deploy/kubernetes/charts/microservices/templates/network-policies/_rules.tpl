{{/*
Egress to cluster DNS. Every pod needs it to resolve Service names.
*/}}
{{- define "microservices.dnsEgress" -}}
- to:
    {{- toYaml .Values.networkPolicy.dnsTo | nindent 4 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{/*
Egress to DynamoDB: the DynamoDB Local pods of this release; otherwise the port of
dynamodb.endpoint (or HTTPS for AWS's endpoint) at any address, since the destination is outside
what a pod selector can name.
*/}}
{{- define "microservices.dynamodbEgress" -}}
{{- if .Values.dynamodb.enabled -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "microservices.selectorLabels" (dict "root" . "component" "dynamodb-local") | nindent 10 }}
  ports:
    - port: 8000
      protocol: TCP
{{- else -}}
{{- $port := 443 }}
{{- with .Values.dynamodb.endpoint }}
{{- $url := urlParse . }}
{{- $hostPort := splitList ":" $url.host }}
{{- $port = ternary (last $hostPort | int) (ternary 443 80 (eq $url.scheme "https")) (gt (len $hostPort) 1) }}
{{- end -}}
- to:
    - ipBlock:
        cidr: 0.0.0.0/0
  ports:
    - port: {{ $port }}
      protocol: TCP
{{- end }}
{{- end }}

{{/*
A peer list naming one component of this release.
*/}}
{{- define "microservices.componentPeer" -}}
- podSelector:
    matchLabels:
      {{- include "microservices.selectorLabels" . | nindent 6 }}
{{- end }}

{{/*
Ingress to a service's management port (/metrics and the detailed /health, no token): from
Prometheus only, and only while the chart sets up its scraping (metrics.enabled).
*/}}
{{- define "microservices.managementIngress" -}}
{{- if .Values.metrics.enabled -}}
- ports:
    - port: management
      protocol: TCP
  from:
    {{- toYaml .Values.networkPolicy.prometheusFrom | nindent 4 }}
{{- end }}
{{- end }}
