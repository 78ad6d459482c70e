// The admin API (loopback only): readiness, the config being served, clusters with endpoint
// health and counters, stats as JSON and Prometheus text. Mutations are POST only.
//
// On node:http with a route table, not fastify: loading fastify was ~0.18 s of CPU per
// sidecar start (x every proxy in the mesh, on a 2-core machine where start-up is CPU-bound)
// for six routes without schemas, hooks or plugins.

import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'silent']);

/** What a route answers: a status, a body (objects go out as JSON), optional headers. */
interface Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Handler = (query: URLSearchParams) => Reply | Promise<Reply>;

/** The slice of a server the sidecar uses: listen, its address, close. */
export interface AdminApp {
  readonly server: Server;
  listen(opts: { host: string; port: number }): Promise<void>;
  close(): Promise<void>;
}

function send(res: ServerResponse, method: string | undefined, r: Reply): void {
  const isText = typeof r.body === 'string';
  const text = isText ? (r.body as string) : JSON.stringify(r.body);
  res.writeHead(r.status ?? 200, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...r.headers,
  });
  res.end(method === 'HEAD' ? undefined : text);
}

export function buildAdmin(deps: AdminDeps): AdminApp {
  const { plane } = deps;
  const routes = new Map<string, Handler>();
  const app = {
    get: (path: string, h: Handler) => { routes.set(`GET ${path}`, h); },
    post: (path: string, h: Handler) => { routes.set(`POST ${path}`, h); },
  };

  app.get('/ready', () => {
    // Like Envoy behind pilot-agent: ready once it can both authenticate and route.
    const id = plane.identity.current();
    const ready = id !== undefined && plane.current !== undefined;
    const report: ReadyReport = {
      component: 'sidecar',
      ready,
      detail: !id ? 'no workload certificate yet' : plane.current ? `serving config ${plane.status.version}` : 'no config from pilot yet (requests answer 404 NR)',
      ...(plane.status.version ? { version: plane.status.version } : {}),
    };
    return { status: ready ? 200 : 503, body: report };
  });

  app.get('/config_dump', () => json({
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

  app.get('/clusters', () => json({
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

  app.get('/stats', () => json({
    ...plane.counters,
    telemetry: plane.telemetry.snapshot(),
    upstreamConnections: plane.agents.stats(),
    mirrored: plane.forwarder.shadowStats,
  }));

  app.get('/stats/prometheus', async () => ({
    body: await deps.metrics.metrics(),
    headers: { 'content-type': await deps.metrics.contentType() },
  }));

  app.post('/logging', (query) => {
    const level = query.get('level');
    if (!level || !LEVELS.has(level)) {
      return { status: 400, body: { code: 'SC0200', message: `level must be one of ${[...LEVELS].join(', ')}` } };
    }
    deps.setLogLevel(level);
    return json({ level });
  });

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://admin.local');
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const handler = routes.get(`${method} ${url.pathname}`);
    if (!handler) {
      const other = [...routes.keys()].some((k) => k.endsWith(` ${url.pathname}`));
      send(res, req.method, other
        ? { status: 405, body: { code: 'SC0405', message: `method ${req.method} not allowed on ${url.pathname}` } }
        : { status: 404, body: { code: 'SC0404', message: `no admin route ${req.method} ${url.pathname}` } });
      return;
    }
    // Mutations carry their arguments in the query; drain any body so the socket stays usable.
    req.resume();
    Promise.resolve()
      .then(() => handler(url.searchParams))
      .then((r) => send(res, req.method, r))
      .catch((err: unknown) => {
        if (res.headersSent) res.destroy();
        else send(res, req.method, { status: 500, body: { code: 'SC0500', message: (err as Error).message } });
      });
  });
  return {
    server,
    listen: ({ host, port }) => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    }),
    close: () => new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function json(body: unknown): Reply {
  return { body };
}

