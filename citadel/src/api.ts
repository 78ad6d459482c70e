// citadel's HTTP API: readiness, the trust bundle, the issued-cert inventory, its CA view
// and metrics. Built without listening, so tests inject() into it.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ApiError, ReadyReport } from '#api';
import type { CertificateAuthority } from './ca.js';
import type { Inventory } from './inventory.js';
import type { CitadelMetrics } from './metrics.js';

export interface CitadelApiDeps {
  ca: CertificateAuthority;
  inventory: Inventory;
  metrics: CitadelMetrics;
  attestation: string;
  /** Whether the bus connection is up. */
  busConnected: () => boolean;
}

/** Stand-ins for fastify's schema compilers: never called, since no route here has a schema. */
const noSchemaCompilers = {
  buildValidator: () => () => () => true,
  buildSerializer: () => () => (data: unknown) => JSON.stringify(data),
} as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

export function buildCitadelApi(deps: CitadelApiDeps): FastifyInstance {
  // Without schemas fastify need not load ajv and fast-json-stringify (~60 ms CPU at start).
  const app = Fastify({ logger: false, schemaController: { compilersFactory: noSchemaCompilers } });

  app.get('/ready', async (_req, reply) => {
    const busUp = deps.busConnected();
    const report: ReadyReport = {
      component: 'citadel',
      ready: busUp,
      detail: busUp ? `signing with root ${deps.ca.signingRoot().serial}` : 'not connected to the bus',
      version: deps.ca.trustBundle().version,
    };
    return reply.code(busUp ? 200 : 503).send(report);
  });

  app.get('/trust-bundle.pem', async (_req, reply) => {
    return reply.type('text/plain; charset=utf-8').send(deps.ca.rootsPem());
  });

  app.get<{ Querystring: { proxyId?: string; spiffeId?: string; limit?: string } }>('/certs', async (req, reply) => {
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      const err: ApiError = { code: 'BAD_REQUEST', message: `query limit=${req.query.limit} must be a positive integer` };
      return reply.code(400).send(err);
    }
    return {
      ...deps.inventory.stats(),
      certs: deps.inventory.list({ proxyId: req.query.proxyId, spiffeId: req.query.spiffeId, limit }),
    };
  });

  app.get('/debug/ca', async () => {
    const bundle = deps.ca.trustBundle();
    const view = (r: ReturnType<CertificateAuthority['signingRoot']>) => ({
      serial: r.serial, subject: r.subject, notBefore: r.notBefore, notAfter: r.notAfter, fingerprint256: r.fingerprint256,
    });
    return {
      trustDomain: deps.ca.trustDomain,
      attestation: deps.attestation,
      signingRoot: view(deps.ca.signingRoot()),
      roots: deps.ca.roots().map(view),
      trustBundleVersion: bundle.version,
      inventory: deps.inventory.stats(),
    };
  });

  app.get('/metrics', async (_req, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return app;
}
