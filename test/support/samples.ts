// Istio's own YAML corpus (../shared/istio-samples beside the clone, as CI lays it out).
// Tests that read it skip where it is absent.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');

export const ISTIO_SAMPLES = [join(root, '..', 'shared', 'istio-samples'), '/work/shared/istio-samples'].find((d) => existsSync(d))
  ?? join(root, '..', 'shared', 'istio-samples');

export function istioSample(...parts: string[]): string {
  return join(ISTIO_SAMPLES, ...parts);
}
