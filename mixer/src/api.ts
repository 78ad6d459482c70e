// Mixer's HTTP surfaces, built without listening so tests can inject requests:
// the API (ready, check, report, debug) and the metrics server (the only caller of metrics()).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ApiError, Logger, ReadyReport } from '#api';
import type { ReportIngest } from './report.js';
import type { CheckEngine } from './check.js';
import type { Adapter } from './adapters/adapter.js';
import type { EdgeStatsAdapter } from './adapters/edge-stats.js';
import type { MixerRuntime } from './runtime.js';
import type { TraceAssembler } from './tracing/traces.js';
import type { StdioHandler } from './adapters/stdio.js';

export interface MixerApiDeps {
  ingest: ReportIngest;
  checks: CheckEngine;
  adapters: readonly Adapter[];
  /** Readiness as the process sees it (bus connected, subscriptions live). */
  readiness: () => { ready: boolean; detail?: string };
  log: Logger;
  maxReportBytes: number;
  startedAt?: string;
  /** Live per-edge stats and recent requests for the console and `meshctl top`. */
  edges?: EdgeStatsAdapter;
  /** Policy and telemetry config, for /debug/configz and /debug/accesslog. */
  runtime?: MixerRuntime;
  /** Assembled traces for /debug/traces. */
  traces?: TraceAssembler;
}

export function buildMixerApi(deps: MixerApiDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: deps.maxReportBytes });
  const startedAt = deps.startedAt ?? new Date().toISOString();

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const body: ApiError = { code: status === 500 ? 'MIXER_INTERNAL' : err.code ?? 'MIXER_BAD_REQUEST', message: err.message };
    if (status === 500) deps.log.error({ err }, 'mixer API error');
    void reply.status(status).send(body);
  });

  app.get('/ready', async (_req, reply) => {
    const r = deps.readiness();
    const report: ReadyReport = { component: 'mixer', ready: r.ready, ...(r.detail ? { detail: r.detail } : {}) };
    return reply.status(r.ready ? 200 : 503).send(report);
  });

  app.post('/report', async (req, reply) => {
    const result = deps.ingest.ingest(req.body, 'http');
    if (!result.ok) return reply.status(400).send({ code: result.code, message: result.message } satisfies ApiError);
    return reply.status(200).send({ accepted: result.batch.records.length });
  });

  app.post('/check', async (req) => deps.checks.check(req.body));

  // Mixer's view of its policy/telemetry config: handlers, instances, rules, bindings, problems.
  app.get('/debug/configz', async (_req, reply) => (deps.runtime ? deps.runtime.configz() : reply.status(404).send({ code: 'MIXER_NO_RUNTIME', message: 'no policy runtime' } satisfies ApiError)));

  // The last access log lines each stdio handler wrote.
  app.get<{ Querystring: { limit?: string } }>('/debug/accesslog', async (req) => {
    const limit = Math.min(200, Math.max(1, Number(req.query.limit) || 50));
    const rt = deps.runtime;
    const handlers = rt ? (rt.configz().handlers as { name: string; adapter: string }[]).filter((h) => h.adapter === 'stdio') : [];
    return Object.fromEntries(handlers.map((h) => [h.name, (rt!.handler(h.name) as StdioHandler | undefined)?.recent(limit) ?? []]));
  });

  // Traces assembled from reports (Zipkin v2 spans), newest first; `/debug/traces/<traceId or x-request-id>` for one.
  app.get<{ Querystring: { limit?: string } }>('/debug/traces', async (req, reply) => {
    if (!deps.traces) return reply.status(404).send({ code: 'MIXER_NO_TRACES', message: 'tracing is not enabled' } satisfies ApiError);
    const limit = Math.min(500, Math.max(1, Number(req.query.limit) || 20));
    return { traces: deps.traces.list(limit) };
  });
  app.get<{ Params: { id: string } }>('/debug/traces/:id', async (req, reply) => {
    const t = deps.traces?.get(req.params.id);
    if (!t) return reply.status(404).send({ code: 'MIXER_TRACE_NOT_FOUND', message: `no trace ${req.params.id}` } satisfies ApiError);
    return t;
  });

  app.get('/debug/stats', async () => ({
    component: 'mixer',
    startedAt,
    report: deps.ingest.stats(),
    check: deps.checks.describe(),
    adapters: Object.fromEntries(deps.adapters.map((a) => [a.name, a.describe()])),
  }));

  // Per-edge rate, error rate and p50/p99 over a sliding window; recent requests by x-request-id.
  app.get('/debug/edges', async (_req, reply) => (deps.edges ? deps.edges.edgeViews() : reply.status(404).send({ code: 'MIXER_NO_EDGE_STATS', message: 'edge stats are not enabled' } satisfies ApiError)));
  app.get<{ Querystring: { limit?: string } }>('/debug/requests', async (req, reply) => {
    if (!deps.edges) return reply.status(404).send({ code: 'MIXER_NO_EDGE_STATS', message: 'edge stats are not enabled' } satisfies ApiError);
    const limit = Math.min(500, Math.max(1, Number(req.query.limit) || 50));
    return { traces: deps.edges.recentTraces(limit) };
  });

  return app;
}

export function buildMetricsServer(deps: { registry: Registry; log: Logger }): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.get('/metrics', async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).send(text);
  });
  return app;
}
