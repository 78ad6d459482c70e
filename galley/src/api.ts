// galley's HTTP API: readiness, its view of the config (status with every message, the
// snapshot), dry-run validation, metrics. Built here, listened to in main.ts.

import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ApiError, ConfigSnapshot, ReadyReport } from '#api';
import type { StatusReport } from './store.js';
import type { ValidateResult } from './galley.js';

export interface GalleyView {
  ready(): ReadyReport;
  status(): StatusReport;
  snapshot(): ConfigSnapshot;
  validate(file: string, text: string): ValidateResult;
}

export interface GalleyApiDeps {
  galley: GalleyView;
  registry: Registry;
  /** Largest body POST /validate accepts. */
  maxBodyBytes?: number;
}

const fileName = /^[\w.@+-][\w./@+-]*$/;

export function buildGalleyApi(deps: GalleyApiDeps): FastifyInstance {
  const bodyLimit = deps.maxBodyBytes ?? 1024 * 1024;
  const app = Fastify({ logger: false, bodyLimit });
  // Any body is YAML text (JSON included, being YAML): never let fastify parse it as JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));

  app.get('/ready', async (_req, reply) => {
    const r = deps.galley.ready();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
  app.get('/status', async () => deps.galley.status());
  app.get('/snapshot', async () => deps.galley.snapshot());
  app.post<{ Querystring: { file?: string }; Body: string }>('/validate', async (req, reply) => {
    const file = req.query.file ?? 'input.yaml';
    if (!fileName.test(file) || file.includes('..')) {
      const err: ApiError = { code: 'GALLEY_BAD_FILE_NAME', message: `file ${JSON.stringify(file)}: use a relative name such as reviews.yaml` };
      return reply.code(400).send(err);
    }
    if (typeof req.body !== 'string' || req.body.trim() === '') {
      const err: ApiError = { code: 'GALLEY_EMPTY_BODY', message: 'POST the YAML text to validate as the request body' };
      return reply.code(400).send(err);
    }
    return deps.galley.validate(file, req.body);
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });
  return app;
}
