// pilot's HTTP API: readiness and its own view of the world as JSON (registry, proxy sync
// status, per-proxy config, config snapshot, push counters) for meshctl and the console.
import Fastify, { type FastifyInstance } from 'fastify';
import { resourceKey, type ApiError, type ReadyReport } from '#api';
import type { PilotMetrics } from './metrics.js';
import type { ConfigStore } from './model/config-store.js';
import type { ProxyRegistry } from './model/proxies.js';
import type { Pusher } from './push/pusher.js';
import type { ServiceRegistry } from './registry/service-registry.js';

export interface PilotApiDeps {
  config: ConfigStore;
  proxies: ProxyRegistry;
  registry: ServiceRegistry;
  /** The adapters behind the aggregate, for their names and health. */
  registries: readonly ServiceRegistry[];
  pusher: Pusher;
  metrics: PilotMetrics;
}

export function buildPilotApi(deps: PilotApiDeps): FastifyInstance {
  const app = Fastify({ logger: false });

  app.get('/ready', async (_req, reply) => {
    const snap = deps.config.snapshot;
    const report: ReadyReport = snap
      ? { component: 'pilot', ready: true, version: snap.version }
      : { component: 'pilot', ready: false, detail: 'waiting for a config snapshot from galley' };
    return reply.code(report.ready ? 200 : 503).send(report);
  });

  app.get('/debug/registryz', async () => {
    const snap = deps.registry.snapshot();
    return {
      registries: deps.registries.map((r) => {
        const extra = r as { connected?: boolean; lastError?: string; resyncs?: number; events?: number };
        return {
          name: r.name, ...(extra.connected !== undefined ? { connected: extra.connected } : {}), ...(extra.lastError ? { lastError: extra.lastError } : {}),
          ...(extra.resyncs !== undefined ? { resyncs: extra.resyncs, events: extra.events ?? 0 } : {}),
        };
      }),
      services: snap.services,
      instances: snap.instances,
    };
  });

  app.get('/debug/syncz', async () => deps.pusher.syncz());

  app.get<{ Querystring: { proxyID?: string } }>('/debug/config_dump', async (req, reply) => {
    const id = req.query.proxyID;
    if (!id) return reply.code(400).send({ code: 'PILOT_PROXY_ID_REQUIRED', message: 'query parameter proxyID is required' } satisfies ApiError);
    if (!deps.proxies.get(id)) return reply.code(404).send({ code: 'PILOT_PROXY_NOT_FOUND', message: `no connected proxy ${id}` } satisfies ApiError);
    const sent = deps.pusher.state(id)?.sent;
    if (!sent) return reply.code(404).send({ code: 'PILOT_CONFIG_NOT_SENT', message: `nothing has been sent to ${id} yet` } satisfies ApiError);
    return { proxy: id, version: sent.version, nonce: sent.nonce, sentAt: new Date(sent.at).toISOString(), config: sent.config };
  });

  app.get('/debug/configz', async () => {
    const snap = deps.config.snapshot;
    return {
      version: snap?.version ?? null,
      publishedAt: snap?.publishedAt ?? null,
      receivedAt: deps.config.receivedAt === undefined ? null : new Date(deps.config.receivedAt).toISOString(),
      resources: (snap?.resources ?? []).map((r) => { try { return resourceKey(r); } catch { return '?'; } }),
      problems: snap ? deps.pusher.pushContext().problems : [],
    };
  });

  app.get('/debug/push_status', async () => {
    const byStatus: Record<string, number> = {};
    for (const e of deps.pusher.syncz()) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
    return {
      configVersion: deps.config.snapshot?.version ?? null,
      proxies: deps.proxies.list().length,
      byStatus,
      pushPending: deps.pusher.pushPending,
      ...deps.pusher.counters,
    };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  return app;
}
