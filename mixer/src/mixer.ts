// Assembles one mixer: registry, adapters, intake, checks, the bus and both listeners.
// main.ts calls this; integration tests call it in-process with ports 0.
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { appendFileSync } from 'node:fs';
import { connectBus, mixerAdapterKinds, mixerTemplateKinds, subjects, type Logger, type PolicyChanged } from '#api';
import type { MixerSettings } from './settings.js';
import { PrometheusAdapter } from './adapters/prometheus.js';
import { EdgeStatsAdapter } from './adapters/edge-stats.js';
import { ReportIngest, subscribeReports } from './report.js';
import { CheckEngine, subscribeChecks } from './check.js';
import { buildMetricsServer, buildMixerApi } from './api.js';
import { adapterFactories } from './adapters/index.js';
import { MixerRuntime } from './runtime.js';
import { defaultResources, withDefaults } from './config/defaults.js';
import { followGalley } from './config/source.js';
import { TraceAssembler } from './tracing/traces.js';
import { ZipkinExporter } from './tracing/zipkin.js';

/** Where stdio handlers write: stdout, stderr, nowhere, or a file. */
function accessLogSink(where: string): (line: string) => void {
  if (where === 'off') return () => {};
  if (where === 'stdout') return (line) => { process.stdout.write(`${line}\n`); };
  if (where === 'stderr') return (line) => { process.stderr.write(`${line}\n`); };
  return (line) => appendFileSync(where, `${line}\n`);
}

export interface RunningMixer {
  apiUrl: string;
  metricsUrl: string;
  registry: Registry;
  runtime: MixerRuntime;
  traces: TraceAssembler;
  close(): Promise<void>;
}

export async function startMixer(settings: MixerSettings, log: Logger, opts: { processMetrics?: boolean } = {}): Promise<RunningMixer> {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mixer_process_' });
  const edges = new EdgeStatsAdapter();
  const runtime = new MixerRuntime({
    factories: adapterFactories,
    ctx: { registry, log, output: accessLogSink(settings.accessLog), now: Date.now },
    configNamespace: settings.configNamespace,
    adapterKinds: mixerAdapterKinds,
    templateKinds: mixerTemplateKinds,
    validDurationMs: settings.checkValidMs,
    validUseCount: settings.checkValidUses,
    quotaTimeoutMs: settings.quotaTimeoutMs,
    log,
  });
  const defaults = settings.defaultConfig ? defaultResources() : [];
  runtime.apply(defaults, 'defaults');
  const zipkin = settings.zipkinUrl ? new ZipkinExporter({ url: settings.zipkinUrl, registry, log }) : undefined;
  const traces = new TraceAssembler({ completeAfterMs: settings.traceCompleteMs, ...(zipkin ? { export: (spans) => zipkin.enqueue(spans) } : {}) });
  const adapters = [new PrometheusAdapter({ registry }), edges, runtime, traces];
  const ingest = new ReportIngest({ adapters, registry, log });
  const checks = new CheckEngine({ registry, runtime, log });

  let busReady = false;
  const api = buildMixerApi({
    ingest, checks, adapters, edges, runtime, traces, log, maxReportBytes: settings.maxReportBytes,
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
  // A new policy config voids every answer sidecars cached under the old one.
  runtime.onChange((configVersion) => bus.publish(subjects.policyChanged, { configVersion } satisfies PolicyChanged));
  const galley = followGalley(bus, (snapshot) => {
    const problems = runtime.apply(withDefaults(snapshot.resources, defaults), snapshot.version);
    const errors = problems.filter((p) => p.level === 'Error');
    log.info({ version: snapshot.version, rules: (runtime.configz().rules as unknown[]).length, problems: problems.length }, 'mixer config applied');
    for (const p of errors) log.warn({ code: p.code, resource: p.resource, file: p.file, line: p.line }, p.message);
  }, log);
  traces.start();
  zipkin?.start();
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
    runtime,
    traces,
    async close() {
      busReady = false;
      galley.stop();
      traces.stop();
      await zipkin?.stop();
      await Promise.allSettled([bus.close(), api.close(), metrics.close()]);
      await runtime.close();
    },
  };
}
