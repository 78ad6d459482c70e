// pilot's Prometheus metrics, named after istiod's, on a Registry of its own.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createPilotMetrics(registry: Registry = new Registry()) {
  return {
    registry,
    pushes: new Counter({ name: 'pilot_xds_pushes', help: 'Config pushes sent to proxies, by outcome', labelNames: ['type'], registers: [registry] }),
    rejects: new Counter({ name: 'pilot_total_xds_rejects', help: 'Pushes proxies NACKed', registers: [registry] }),
    proxies: new Gauge({ name: 'pilot_xds', help: 'Proxies pilot knows', registers: [registry] }),
    services: new Gauge({ name: 'pilot_services', help: 'Services in the registry', registers: [registry] }),
    convergence: new Histogram({
      name: 'pilot_proxy_convergence_time', help: 'Seconds from a push to its ACK',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry],
    }),
    generateErrors: new Counter({ name: 'pilot_generate_errors', help: 'Config generations that failed', registers: [registry] }),
    refusedProxyMessages: new Counter({
      name: 'pilot_proxy_messages_refused', help: 'Proxy messages ignored because their subject does not prove their sender, by verb and reason',
      labelNames: ['verb', 'reason'], registers: [registry],
    }),
  };
}

export type PilotMetrics = ReturnType<typeof createPilotMetrics>;
