// Istio durations as users write them (`7s`, `0.5s`, `100ms`, `1m`, `1h`, `1m30s`) to ms.
const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** Returns undefined for anything that is not a duration, so callers fall back to defaults. */
export function durationMs(raw: string | number | undefined): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? raw * 1000 : undefined;
  const text = String(raw).trim();
  if (!text) return undefined;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * unitMs[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== text.length || pos === 0) return undefined;
  return Math.round(total * 1000) / 1000;
}
