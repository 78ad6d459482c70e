// Mixer's HTTP surfaces, built without listening so tests can inject requests:
// the API (ready, check, report, debug) and the metrics server (the only caller of metrics()).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ApiError, Logger, ReadyReport } from '#api';
import type { ReportIngest } from './report.js';
import type { CheckEngine } from './check.js';
import type { Adapter } from './adapters/adapter.js';

export interface MixerApiDeps {
  ingest: ReportIngest;
  checks: CheckEngine;
  adapters: readonly Adapter[];
  /** Readiness as the process sees it (bus connected, subscriptions live). */
  readiness: () => { ready: boolean; detail?: string };
  log: Logger;
  maxReportBytes: number;
  startedAt?: string;
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

  app.get('/debug/stats', async () => ({
    component: 'mixer',
    startedAt,
    report: deps.ingest.stats(),
    check: deps.checks.describe(),
    adapters: Object.fromEntries(deps.adapters.map((a) => [a.name, a.describe()])),
  }));

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
