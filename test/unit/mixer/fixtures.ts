import type { ReportRecord } from '#api';

/** productpage-v1 -> reviews-v3, as the destination sidecar reports it. */
export function record(over: Partial<ReportRecord> = {}): ReportRecord {
  return {
    reporter: 'destination',
    source: { workload: 'productpage-v1', namespace: 'default', app: 'productpage', version: 'v1', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage' },
    destination: {
      workload: 'reviews-v3', namespace: 'default', app: 'reviews', version: 'v3', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
      service: 'reviews.default.svc.cluster.local', serviceName: 'reviews', serviceNamespace: 'default',
    },
    protocol: 'http',
    method: 'GET',
    path: '/reviews/0',
    responseCode: 200,
    responseFlags: '-',
    durationMs: 12,
    requestBytes: 0,
    responseBytes: 350,
    connectionSecurityPolicy: 'mutual_tls',
    timestamp: Date.now(),
    ...over,
  };
}

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Registry } from 'prom-client';
import { createLogger, mixerAdapterKinds, mixerTemplateKinds, type CheckRequest, type Resource } from '#api';
import { MixerRuntime } from '../../../mixer/src/runtime.js';
import { adapterFactories } from '../../../mixer/src/adapters/index.js';
import { istioSample } from '../../support/samples.js';

export const SAMPLES_DIR = istioSample('1.1.0', 'bookinfo-policy');

/** Istio YAML as galley publishes it (namespace defaulted, source file and line kept). */
export function resourcesFromYaml(text: string, file = 'test.yaml'): Resource[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Resource | null).filter((r): r is Resource => !!r && typeof r === 'object' && !!r.kind).map((r) => ({
    ...r,
    metadata: { ...r.metadata, namespace: r.metadata?.namespace || 'default' },
    spec: (r.spec ?? {}) as Record<string, unknown>,
    source: { file, line: 1 },
  }));
}

export function sample(name: string): Resource[] | undefined {
  const file = join(SAMPLES_DIR, name);
  return existsSync(file) ? resourcesFromYaml(readFileSync(file, 'utf8'), name) : undefined;
}

export function sampleFiles(): string[] {
  return existsSync(SAMPLES_DIR) ? readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.yaml')).sort() : [];
}

export function newRuntime(opts: { registry?: Registry; now?: () => number; output?: (l: string) => void; validDurationMs?: number } = {}) {
  const registry = opts.registry ?? new Registry();
  const lines: string[] = [];
  const runtime = new MixerRuntime({
    factories: adapterFactories,
    ctx: { registry, log: createLogger('mixer-test', 'silent'), output: opts.output ?? ((l) => lines.push(l)), now: opts.now ?? Date.now },
    configNamespace: 'istio-system',
    adapterKinds: mixerAdapterKinds,
    templateKinds: mixerTemplateKinds,
    validDurationMs: opts.validDurationMs ?? 60_000,
    validUseCount: 10_000,
    quotaTimeoutMs: 200,
    log: createLogger('mixer-test', 'silent'),
  });
  return { runtime, registry, lines };
}

type Peer = CheckRequest['source'];
export function peer(workload: string, sa: string, labels: Record<string, string>): Peer {
  return { workload, namespace: 'default', app: labels.app ?? 'unknown', version: labels.version ?? 'unknown', principal: `spiffe://cluster.local/ns/default/sa/${sa}`, labels };
}

export const peers = {
  productpage: peer('productpage-v1', 'bookinfo-productpage', { app: 'productpage', version: 'v1' }),
  reviewsV2: peer('reviews-v2', 'bookinfo-reviews', { app: 'reviews', version: 'v2' }),
  reviewsV3: peer('reviews-v3', 'bookinfo-reviews', { app: 'reviews', version: 'v3' }),
  gateway: peer('istio-ingressgateway', 'istio-ingressgateway-service-account', { app: 'istio-ingressgateway', istio: 'ingressgateway' }),
  ratings: peer('ratings-v1', 'bookinfo-ratings', { app: 'ratings', version: 'v1' }),
  details: peer('details-v1', 'bookinfo-details', { app: 'details', version: 'v1' }),
};

export function checkReq(source: Peer, dest: Peer, service: string, headers: Record<string, string> = {}, path = '/'): CheckRequest {
  return {
    proxyId: `${dest.workload}-abcde.default`,
    source,
    destination: { ...dest, service: `${service}.default.svc.cluster.local`, serviceName: service, serviceNamespace: 'default' },
    request: { method: 'GET', path, host: `${service}:9080`, headers: { host: `${service}:9080`, ...headers }, time: Date.now() },
    reporterKind: 'inbound',
    sourceIp: '127.0.0.1',
    connection: { mtls: true },
    protocol: 'http',
  };
}
