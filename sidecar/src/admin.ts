// The admin API (loopback only): readiness, the config being served, clusters with endpoint
// health and counters, stats as JSON and Prometheus text. Mutations are POST only.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ReadyReport } from '#api';
import type { DataPlane } from './data-plane.js';
import type { ConfigClient } from './xds.js';
import type { GatewayListeners } from './gateway.js';

export interface AdminDeps {
  plane: DataPlane;
  xds?: ConfigClient;
  gateways?: GatewayListeners;
  metrics: { metrics(): Promise<string>; contentType(): Promise<string> };
  /** Where the listeners ended up (ports may be ephemeral). */
  listeners: () => Record<string, { address: string; port: number }>;
  setLogLevel: (level: string) => void;
}

/** Stand-ins for fastify's schema compilers: never called, since no admin route has a schema. */
const noSchemaCompilers = {
  buildValidator: () => () => () => true,
  buildSerializer: () => () => (data: unknown) => JSON.stringify(data),
} as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'silent']);

export function buildAdmin(deps: AdminDeps): FastifyInstance {
  const { plane } = deps;
  const app = Fastify({
    logger: false,
    // No route here has a schema; fastify would otherwise load ajv and fast-json-stringify
    // when the instance is built (~60 ms CPU per sidecar start, x every proxy in the mesh).
    schemaController: { compilersFactory: noSchemaCompilers },
  });

  app.get('/ready', async (_req, reply) => {
    // Like Envoy behind pilot-agent: ready once it can both authenticate and route.
    const id = plane.identity.current();
    const ready = id !== undefined && plane.current !== undefined;
    const report: ReadyReport = {
      component: 'sidecar',
      ready,
      detail: !id ? 'no workload certificate yet' : plane.current ? `serving config ${plane.status.version}` : 'no config from pilot yet (requests answer 404 NR)',
      ...(plane.status.version ? { version: plane.status.version } : {}),
    };
    return reply.code(ready ? 200 : 503).send(report);
  });

  app.get('/config_dump', async () => ({
    proxyId: plane.workload.proxyId,
    version: plane.status.version ?? null,
    appliedAt: plane.status.appliedAt ?? null,
    lastRejected: plane.status.lastRejected ?? null,
    config: plane.current?.config ?? null,
    identity: plane.identity.status(),
    xds: deps.xds?.status ?? null,
    listeners: deps.listeners(),
    gateways: deps.gateways?.list() ?? [],
  }));

  app.get('/clusters', async () => ({
    version: plane.status.version ?? null,
    clusters: [...(plane.current?.clusters.values() ?? [])].map((c) => ({
      name: c.name,
      type: c.def.type,
      lbPolicy: c.def.lbPolicy,
      tls: c.def.tls.mode,
      service: c.service,
      ...(c.def.consistentHash ? { consistentHash: c.def.consistentHash } : {}),
      ...(c.pool ? { circuitBreakers: { limits: c.pool.limits, ...c.pool.stats() } } : {}),
      ...(c.outlier ? { outlierDetection: { config: c.outlier.config, events: c.outlier.events.map((ev) => ({ type: ev.type, endpoint: ev.endpoint.key, ...(ev.type === 'ejected' ? { until: new Date(ev.untilMs).toISOString(), reason: ev.reason } : {}) })) } } : {}),
      endpoints: c.endpoints.map((e) => ({
        address: e.endpoint.address,
        port: e.endpoint.port,
        healthy: e.endpoint.healthy && e.stats.ejectedUntil <= Date.now(),
        ejected: e.stats.ejectedUntil > Date.now(),
        workload: e.endpoint.workload ?? null,
        identity: e.endpoint.identity ?? null,
        ...e.stats,
      })),
    })),
  }));

  app.get('/stats', async () => ({
    ...plane.counters,
    telemetry: plane.telemetry.snapshot(),
    upstreamConnections: plane.agents.stats(),
    mirrored: plane.forwarder.shadowStats,
  }));

  app.get('/stats/prometheus', async (_req, reply) => {
    reply.header('content-type', await deps.metrics.contentType());
    return deps.metrics.metrics();
  });

  app.post('/logging', async (req, reply) => {
    const level = (req.query as Record<string, string | undefined>).level;
    if (!level || !LEVELS.has(level)) {
      return reply.code(400).send({ code: 'SC0200', message: `level must be one of ${[...LEVELS].join(', ')}` });
    }
    deps.setLogLevel(level);
    return { level };
  });

  return app;
}
