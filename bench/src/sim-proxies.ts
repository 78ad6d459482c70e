// Simulated proxies for P4: each is a real NATS client running the sidecar's own config
// client (sidecar/src/xds.ts: announce, heartbeat, ACK/NACK by version and nonce) and its own
// config apply (sidecar/src/compile.ts), with no listeners. Before each ACK it tells the
// bench which write marker the applied config carries (`bench.sim.applied`; one connection
// publishes both, so the bench sees them in that order).
// `node sim-proxies.js '{"natsUrl":..,"from":0,"count":250,"registerBelow":10}'`; prints
// `ready` once every proxy has announced; SIGTERM departs and exits.

import { connectBus, createLogger, type Bus, type ProxyAnnouncement, type ProxyConfig } from '#api';
import { compileProxyConfig } from '../../sidecar/src/compile.js';
import { ConfigClient } from '../../sidecar/src/xds.js';

export const APPLIED_SUBJECT = 'bench.sim.applied';
export const MARKER_HEADER = 'x-bench-write';

export interface SimApplied { proxyId: string; version: string; marker: string }

/** The write marker a config carries: the exact value of the route match on MARKER_HEADER. */
export function markerOf(config: ProxyConfig): string {
  for (const rc of config.routes ?? []) {
    for (const vh of rc.virtualHosts ?? []) {
      for (const r of vh.routes ?? []) {
        for (const h of r.match?.headers ?? []) if (h.name === MARKER_HEADER && h.match && 'exact' in h.match) return h.match.exact;
      }
    }
  }
  return '';
}

interface Spec { natsUrl: string; from: number; count: number; registerBelow: number }

async function main(spec: Spec): Promise<void> {
  const log = createLogger('sim', 'silent');
  const running: { bus: Bus; client: ConfigClient }[] = [];
  const startedAt = new Date().toISOString();
  const start = async (i: number) => {
    const proxyId = `sim-${i}.default`;
    const backs = i < spec.registerBelow;
    let serving: string | undefined;
    const bus = await connectBus({ servers: spec.natsUrl, name: `sim ${proxyId}`, log });
    const announcement = (): ProxyAnnouncement => ({
      proxyId, kind: 'sidecar',
      workload: {
        name: `sim-${i}`, namespace: 'default', serviceAccount: 'sim', labels: { app: 'sim', version: 'v1' },
        services: backs ? ['sim'] : [], ports: backs ? [{ name: 'http', port: 9080, targetPort: 30_000 + i, protocol: 'HTTP' }] : [],
      },
      inbound: { address: '127.0.0.1', port: 40_000 + (i % 20_000) },
      register: backs,
      ...(serving ? { servingVersion: serving } : {}),
      startedAt,
    });
    const client = new ConfigClient({
      bus, proxyId, announcement, servingVersion: () => serving, heartbeatMs: 5000, log,
      apply: async (push) => {
        compileProxyConfig(push.config, push.version, { proxyId });
        serving = push.version;
        bus.publish(APPLIED_SUBJECT, { proxyId, version: push.version, marker: markerOf(push.config) } satisfies SimApplied);
      },
    });
    await client.start();
    running.push({ bus, client });
  };
  // Connect in small batches: a thousand simultaneous connects would only measure the accept queue.
  for (let i = spec.from; i < spec.from + spec.count; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, spec.from + spec.count - i) }, (_, k) => start(i + k)));
  }
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    void (async () => {
      await Promise.allSettled(running.map(async (r) => { await r.client.stop(); await r.bus.close(); }));
      process.exit(0);
    })();
  });
}

if (process.argv[1]?.endsWith('sim-proxies.js') && process.argv[2]) {
  main(JSON.parse(process.argv[2]) as Spec).catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
