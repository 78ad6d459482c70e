// Assembles one mixer: registry, adapters, intake, checks, the bus and both listeners.
// main.ts calls this; integration tests call it in-process with ports 0.
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { connectBus, type Logger } from '#api';
import type { MixerSettings } from './settings.js';
import { PrometheusAdapter } from './adapters/prometheus.js';
import { ReportIngest, subscribeReports } from './report.js';
import { CheckEngine, subscribeChecks } from './check.js';
import { buildMetricsServer, buildMixerApi } from './api.js';

export interface RunningMixer {
  apiUrl: string;
  metricsUrl: string;
  registry: Registry;
  close(): Promise<void>;
}

export async function startMixer(settings: MixerSettings, log: Logger, opts: { processMetrics?: boolean } = {}): Promise<RunningMixer> {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mixer_process_' });
  const adapters = [new PrometheusAdapter({ registry })];
  const ingest = new ReportIngest({ adapters, registry, log });
  const checks = new CheckEngine({ registry, validDurationMs: settings.checkValidMs, validUseCount: settings.checkValidUses });

  let busReady = false;
  const api = buildMixerApi({
    ingest, checks, adapters, log, maxReportBytes: settings.maxReportBytes,
    readiness: () => (busReady ? { ready: true } : { ready: false, detail: `not connected to the bus at ${settings.natsUrl}` }),
  });
  const metrics = buildMetricsServer({ registry, log });

  await api.listen({ port: settings.port, host: settings.bind });
  await metrics.listen({ port: settings.metricsPort, host: settings.metricsBind });
  const url = (a: AddressInfo) => `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  const apiUrl = url(api.server.address() as AddressInfo);
  const metricsUrl = url(metrics.server.address() as AddressInfo);
  log.info({ api: apiUrl, metrics: metricsUrl }, 'mixer listening');

  const bus = await connectBus({
    servers: settings.natsUrl, name: 'mixer', log,
    ...(settings.natsUser ? { user: settings.natsUser, pass: settings.natsPass } : {}),
  });
  subscribeReports(bus, ingest);
  subscribeChecks(bus, checks);
  await bus.flush();
  busReady = true;
  log.info({ nats: settings.natsUrl }, 'mixer subscribed to reports and checks');
  // Subscriptions survive reconnects (the client re-subscribes); reports sent meanwhile are lost,
  // which telemetry tolerates, so there is nothing to resync.
  void (async () => {
    for await (const s of bus.nc.status()) {
      if (s.type === 'disconnect') busReady = false;
      else if (s.type === 'reconnect') busReady = true;
    }
  })();
  void bus.nc.closed().then(() => { busReady = false; });

  return {
    apiUrl,
    metricsUrl,
    registry,
    async close() {
      busReady = false;
      await Promise.allSettled([bus.close(), api.close(), metrics.close()]);
    },
  };
}
