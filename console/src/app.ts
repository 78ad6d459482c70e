// The console's HTTP surface, built without listening: the static web app (no CDN, a strict
// Content-Security-Policy proves it), its JSON API assembled from the components' own views,
// readiness, the console's own debug view and metrics.

import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Registry } from 'prom-client';
import type { ApiError, ReadyReport } from '#api';
import type { ComponentName, Fetched, Upstream } from './upstreams.js';
import type { WebAssets } from './assets.js';
import { buildGraph } from './views/graph.js';
import { buildConfigView } from './views/config.js';
import { buildCertsView } from './views/certs.js';
import type { CaBody, CertsBody, EdgesBody, GalleyStatusBody, RegistryzBody, SyncRow, TraceBody } from './views/inputs.js';

export interface ConsoleDeps {
  upstream: Upstream;
  assets: WebAssets;
  /** Component URLs as configured, shown on the overview and in /debug/upstreams. */
  urls: Record<ComponentName, string>;
  prometheusUrl?: string;
  registry?: Registry;
  now?: () => Date;
  version?: string;
}

export interface Problem {
  component: ComponentName;
  code: string;
  message: string;
}

/** Every /api answer: the view, and what could not be read for it (shown as a banner). */
export interface Envelope<T> {
  view: T;
  problems: Problem[];
}

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function buildConsoleApp(deps: ConsoleDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  const registry = deps.registry ?? new Registry();
  const now = deps.now ?? (() => new Date());
  const upstreamErrors = new Counter({ name: 'console_upstream_errors_total', help: 'reads of a component API that failed', labelNames: ['component', 'code'], registers: [registry] });
  const lastSeen = new Map<string, { at: string; ok: boolean; error?: string }>();

  /** Reads several components at once; failures become problems, never exceptions. */
  async function read<T>(component: ComponentName, path: string, problems: Problem[]): Promise<T | undefined> {
    const r: Fetched<T> = await deps.upstream<T>(component, path);
    lastSeen.set(`${component} ${path}`, { at: now().toISOString(), ok: r.ok, ...(r.ok ? {} : { error: r.error }) });
    if (r.ok) return r.body;
    upstreamErrors.inc({ component, code: r.code });
    problems.push({ component, code: r.code, message: r.error });
    return undefined;
  }

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const body: ApiError = { code: status === 500 ? 'CONSOLE_INTERNAL' : err.code ?? 'CONSOLE_BAD_REQUEST', message: err.message };
    void reply.status(status).send(body);
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    return payload;
  });

  // ---- the web app ----
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(deps.assets.html));
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const asset = deps.assets.files.get(req.params.name);
    if (!asset) return reply.code(404).send({ code: 'CONSOLE_NO_ASSET', message: `no asset ${req.params.name}` } satisfies ApiError);
    return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
  });
  app.get('/favicon.ico', async (_req, reply) => reply.type('image/svg+xml').send(deps.assets.favicon));

  // ---- readiness and own view ----
  app.get('/ready', async () => ({ component: 'console', ready: true, ...(deps.version ? { version: deps.version } : {}) } satisfies ReadyReport));
  app.get('/debug/upstreams', async () => ({ urls: deps.urls, prometheus: deps.prometheusUrl ?? null, lastReads: Object.fromEntries(lastSeen) }));
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  // ---- the JSON the page renders ----
  app.get('/api/overview', async () => {
    const problems: Problem[] = [];
    const names: ComponentName[] = ['galley', 'pilot', 'citadel', 'mixer'];
    const ready = await Promise.all(names.map(async (component) => {
      const r = await deps.upstream<ReadyReport>(component, '/ready');
      if (!r.ok) { problems.push({ component, code: r.code, message: r.error }); return { component, url: deps.urls[component], healthy: false, detail: 'unreachable' }; }
      return { component, url: deps.urls[component], healthy: r.status === 200 && r.body.ready !== false, detail: r.body.detail ?? '', version: r.body.version ?? '' };
    }));
    const [proxies, galley] = await Promise.all([
      read<SyncRow[]>('pilot', '/debug/syncz', problems),
      read<GalleyStatusBody>('galley', '/status', problems),
    ]);
    const byStatus: Record<string, number> = {};
    for (const p of proxies ?? []) byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
    const view = {
      components: ready,
      proxies: { total: proxies?.length ?? 0, byStatus },
      config: { version: galley?.version ?? null, files: galley?.files.length ?? 0, invalid: (galley?.files ?? []).filter((f) => f.state === 'invalid').length },
      prometheus: deps.prometheusUrl || null,
    };
    return envelope(view, problems);
  });

  app.get('/api/graph', async () => {
    const problems: Problem[] = [];
    const [registry, proxies, edges] = await Promise.all([
      read<RegistryzBody>('pilot', '/debug/registryz', problems),
      read<SyncRow[]>('pilot', '/debug/syncz', problems),
      read<EdgesBody>('mixer', '/debug/edges', problems),
    ]);
    return envelope(buildGraph({ registry, proxies, edges, now: now() }), problems);
  });

  app.get('/api/config', async () => {
    const problems: Problem[] = [];
    const [status, configz] = await Promise.all([
      read<GalleyStatusBody>('galley', '/status', problems),
      read<{ problems?: unknown[] }>('pilot', '/debug/configz', problems),
    ]);
    return envelope(buildConfigView(status, configz?.problems ?? []), problems);
  });

  app.get('/api/proxies', async () => {
    const problems: Problem[] = [];
    const rows = await read<SyncRow[]>('pilot', '/debug/syncz', problems);
    return envelope([...(rows ?? [])].sort((a, b) => a.proxy.localeCompare(b.proxy)), problems);
  });

  app.get<{ Querystring: { proxy?: string } }>('/api/proxy-config', async (req, reply) => {
    const id = req.query.proxy;
    if (!id) return reply.code(400).send({ code: 'CONSOLE_PROXY_REQUIRED', message: 'query parameter proxy is required' } satisfies ApiError);
    const problems: Problem[] = [];
    const dump = await read<unknown>('pilot', `/debug/config_dump?proxyID=${encodeURIComponent(id)}`, problems);
    return envelope(dump ?? null, problems);
  });

  app.get('/api/certs', async () => {
    const problems: Problem[] = [];
    const [certs, ca] = await Promise.all([
      read<CertsBody>('citadel', '/certs', problems),
      read<CaBody>('citadel', '/debug/ca', problems),
    ]);
    return envelope(buildCertsView(certs, ca, now()), problems);
  });

  app.get('/api/traces', async () => {
    const problems: Problem[] = [];
    const body = await read<TraceBody>('mixer', '/debug/requests?limit=40', problems);
    return envelope(body?.traces ?? [], problems);
  });

  return app;
}

function envelope<T>(view: T, problems: Problem[]): Envelope<T> {
  return { view, problems };
}
