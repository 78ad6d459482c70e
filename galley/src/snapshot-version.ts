// The snapshot version: a short sha256 of the canonical JSON of the resources (keys sorted),
// so the same config gives the same version in every process and after every restart.

import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function snapshotVersion(resources: readonly unknown[]): string {
  return createHash('sha256').update(canonicalJson(resources)).digest('hex').slice(0, 16);
}
