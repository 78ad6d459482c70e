// prom-client (with the OpenTelemetry API it pulls in) is a fifth of a sidecar's start-up
// module loading, yet only a scrape needs it: load it on the first scrape.

import type { Registry } from 'prom-client';
import type { DataPlane } from './data-plane.js';

export interface LazyMetrics {
  metrics(): Promise<string>;
  contentType(): Promise<string>;
}

export function lazyProxyMetrics(plane: DataPlane): LazyMetrics {
  let registry: Promise<Registry> | undefined;
  const get = () => (registry ??= import('./metrics.js').then((m) => m.createProxyMetrics(plane)));
  return {
    async metrics() { return (await get()).metrics(); },
    async contentType() { return (await get()).contentType; },
  };
}
