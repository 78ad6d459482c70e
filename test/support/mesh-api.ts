// Reads the mesh the way meshctl does (components' own JSON), for journey tests.
import { waitFor } from './wait.js';

export interface SyncRow { proxy: string; workload: string; status: string; version?: string; inbound?: string; error?: string }

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}

export async function syncz(pilot: string): Promise<SyncRow[]> {
  const body = await getJson<SyncRow[] | { proxies: SyncRow[] }>(`${pilot}/debug/syncz`);
  return Array.isArray(body) ? body : body.proxies;
}

/** Every expected proxy is known to pilot and SYNCED. */
export async function waitAllSynced(pilot: string, expected: number, timeoutMs: number): Promise<SyncRow[]> {
  return waitFor(async () => {
    const rows = await syncz(pilot);
    return rows.length >= expected && rows.every((r) => r.status === 'SYNCED') ? rows : undefined;
  }, { timeoutMs, what: `${expected} proxies SYNCED` });
}

export async function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

/** Which reviews version rendered a productpage: v1 no stars, v2 black, v3 red. */
export function reviewsVersion(html: string): 'v1' | 'v2' | 'v3' | 'unavailable' {
  if (/color="red"/.test(html)) return 'v3';
  if (/color="black"/.test(html)) return 'v2';
  if (/product reviews are currently unavailable/i.test(html)) return 'unavailable';
  return 'v1';
}

/** Sums a Prometheus counter over the series whose labels include all of `match`. */
export function counterSum(exposition: string, name: string, match: Record<string, string>): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels = line.slice(name.length + 1, close);
    if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) sum += Number(line.slice(close + 1).trim());
  }
  return sum;
}
