// Validates Prometheus Operator objects against their CRD schemas.
//
// stdin: a JSON array of objects (ServiceMonitor, PrometheusRule).
// stdout: a JSON array, one entry per object: {kind, name, error} (error null when valid).
// The schemas are the CRDs' openAPIV3Schema as compiled into @kubernetes-models/prometheus-operator
// (types, required fields, enums and patterns such as the duration format).
import { readFileSync } from "node:fs";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const models = { ServiceMonitor, PrometheusRule };
const objects = JSON.parse(readFileSync(0, "utf8"));
const results = objects.map((object) => {
  const Model = models[object.kind];
  const name = object.metadata?.name ?? "?";
  if (object.apiVersion !== "monitoring.coreos.com/v1" || !Model) {
    return { kind: object.kind, name, error: `no schema for ${object.apiVersion} ${object.kind}` };
  }
  try {
    new Model(object).validate();
    return { kind: object.kind, name, error: null };
  } catch (err) {
    return { kind: object.kind, name, error: String(err.message ?? err) };
  }
});
process.stdout.write(JSON.stringify(results));
