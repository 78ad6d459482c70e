// The config Istio 1.1 installs with mixer, so default telemetry needs no user config: the
// stdio handler with the `accesslog` (HTTP) and `tcpaccesslog` logentry instances and their
// rules, as in Istio's helm chart (response flags included). The standard Prometheus metrics
// are built in (adapters/prometheus.ts). A user resource with the same kind, namespace and
// name replaces a default one.
import { parseAllDocuments } from 'yaml';
import { resourceKey, type Resource } from '#api';

const DEFAULTS = `
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: { name: stdio, namespace: istio-system }
spec:
  compiledAdapter: stdio
  params:
    outputAsJson: true
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: { name: accesslog, namespace: istio-system }
spec:
  compiledTemplate: logentry
  params:
    severity: '"Info"'
    timestamp: request.time
    variables:
      sourceIp: source.ip | ip("0.0.0.0")
      sourceApp: source.labels["app"] | ""
      sourcePrincipal: source.principal | ""
      sourceName: source.name | ""
      sourceWorkload: source.workload.name | ""
      sourceNamespace: source.namespace | ""
      sourceOwner: source.owner | ""
      destinationApp: destination.labels["app"] | ""
      destinationIp: destination.ip | ip("0.0.0.0")
      destinationServiceHost: destination.service.host | ""
      destinationWorkload: destination.workload.name | ""
      destinationName: destination.name | ""
      destinationNamespace: destination.namespace | ""
      destinationOwner: destination.owner | ""
      destinationPrincipal: destination.principal | ""
      protocol: request.scheme | context.protocol | "http"
      method: request.method | ""
      url: request.path | ""
      responseCode: response.code | 0
      responseFlags: context.proxy_error_code | "-"
      responseSize: response.size | 0
      requestSize: request.size | 0
      requestId: request.headers["x-request-id"] | ""
      latency: response.duration | "0ms"
      connection_security_policy: conditional((context.reporter.kind | "inbound") == "outbound", "unknown", conditional(connection.mtls | false, "mutual_tls", "none"))
      userAgent: request.useragent | ""
      responseTimestamp: response.time
      receivedBytes: request.total_size | 0
      sentBytes: response.total_size | 0
      referer: request.referer | ""
      reporter: conditional((context.reporter.kind | "inbound") == "outbound", "source", "destination")
    monitored_resource_type: '"global"'
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: { name: tcpaccesslog, namespace: istio-system }
spec:
  compiledTemplate: logentry
  params:
    severity: '"Info"'
    timestamp: context.time | timestamp("2017-01-01T00:00:00Z")
    variables:
      connectionEvent: connection.event | ""
      sourceIp: source.ip | ip("0.0.0.0")
      sourceApp: source.labels["app"] | ""
      sourcePrincipal: source.principal | ""
      sourceWorkload: source.workload.name | ""
      sourceNamespace: source.namespace | ""
      destinationApp: destination.labels["app"] | ""
      destinationServiceHost: destination.service.host | ""
      destinationWorkload: destination.workload.name | ""
      destinationNamespace: destination.namespace | ""
      destinationPrincipal: destination.principal | ""
      protocol: context.protocol | "tcp"
      connectionDuration: connection.duration | "0ms"
      connection_security_policy: conditional((context.reporter.kind | "inbound") == "outbound", "unknown", conditional(connection.mtls | false, "mutual_tls", "none"))
      receivedBytes: connection.received.bytes | 0
      sentBytes: connection.sent.bytes | 0
      totalReceivedBytes: connection.received.bytes_total | 0
      totalSentBytes: connection.sent.bytes_total | 0
      responseFlags: context.proxy_error_code | "-"
      reporter: conditional((context.reporter.kind | "inbound") == "outbound", "source", "destination")
    monitored_resource_type: '"global"'
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: { name: stdio, namespace: istio-system }
spec:
  match: context.protocol == "http" || context.protocol == "grpc"
  actions:
  - handler: stdio
    instances: [ accesslog ]
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: { name: stdiotcp, namespace: istio-system }
spec:
  match: context.protocol == "tcp"
  actions:
  - handler: stdio
    instances: [ tcpaccesslog ]
`;

export function defaultResources(): Resource[] {
  return parseAllDocuments(DEFAULTS).map((d) => {
    const r = d.toJS() as Resource;
    return { ...r, source: { file: '<mixer defaults>', line: 1 } };
  });
}

/** Defaults first, then the user's resources; a user resource replaces the default of the same key. */
export function withDefaults(user: readonly Resource[], defaults: readonly Resource[]): Resource[] {
  const keys = new Set(user.map((r) => resourceKey(r)));
  return [...defaults.filter((r) => !keys.has(resourceKey(r))), ...user];
}
