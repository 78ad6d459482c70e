// The proxy's Prometheus view: its own Registry whose collectors read the plain counters at
// scrape time, so nothing is formatted or labelled per request.

import { Counter, Gauge, Registry } from 'prom-client';
import type { DataPlane } from './data-plane.js';

export function createProxyMetrics(plane: DataPlane): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ proxy: plane.workload.proxyId, workload: plane.workload.name, namespace: plane.workload.namespace });
  const c = plane.counters;

  new Counter({
    name: 'mesh_proxy_requests_total', help: 'Requests handled, by listener direction', labelNames: ['direction'], registers: [registry],
    collect() { this.reset(); for (const [d, n] of Object.entries(c.requests)) this.inc({ direction: d }, n); },
  });
  new Counter({
    name: 'mesh_proxy_responses_total', help: 'Responses, by status class', labelNames: ['code_class'], registers: [registry],
    collect() { this.reset(); for (const [k, n] of Object.entries(c.responses)) this.inc({ code_class: k }, n); },
  });
  new Counter({
    name: 'mesh_proxy_response_flags_total', help: 'Envoy-style response flags seen', labelNames: ['flag'], registers: [registry],
    collect() { this.reset(); for (const [k, n] of Object.entries(c.flags)) this.inc({ flag: k }, n); },
  });
  new Counter({
    name: 'mesh_proxy_retries_total', help: 'Retries attempted', registers: [registry],
    collect() { this.reset(); this.inc(c.retries); },
  });
  new Counter({
    name: 'mesh_proxy_config_pushes_total', help: 'Config pushes, by outcome', labelNames: ['result'], registers: [registry],
    collect() { this.reset(); for (const [k, n] of Object.entries(c.config)) this.inc({ result: k }, n); },
  });
  new Counter({
    name: 'mesh_proxy_telemetry_dropped_total', help: 'Telemetry records dropped (buffer full or bus away)', registers: [registry],
    collect() { this.reset(); this.inc(plane.telemetry.stats.dropped); },
  });
  new Gauge({
    name: 'mesh_proxy_upstream_connections', help: 'Upstream connections in the keep-alive pools', labelNames: ['tls', 'state'], registers: [registry],
    collect() {
      const s = plane.agents.stats();
      this.set({ tls: 'mtls', state: 'active' }, s.mtls.active);
      this.set({ tls: 'mtls', state: 'idle' }, s.mtls.idle);
      this.set({ tls: 'plain', state: 'active' }, s.plain.active);
      this.set({ tls: 'plain', state: 'idle' }, s.plain.idle);
    },
  });
  new Gauge({
    name: 'mesh_proxy_upstream_requests_active', help: 'Requests in flight per cluster', labelNames: ['cluster'], registers: [registry],
    collect() {
      this.reset();
      for (const cl of plane.current?.clusters.values() ?? []) {
        let n = 0;
        for (const e of cl.endpoints) n += e.stats.active;
        this.set({ cluster: cl.name }, n);
      }
    },
  });
  return registry;
}
