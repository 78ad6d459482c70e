// wrk as the closed-loop load generator (P1): run it, parse rps and its latency distribution.
import { execFile } from 'node:child_process';

export interface WrkResult {
  rps: number;
  requests: number;
  errors: number;
  non2xx: number;
  latencyMs: { p50: number; p75: number; p90: number; p99: number };
}

function ms(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export function parseWrk(out: string): WrkResult {
  const pct = (p: string) => ms(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
    errors: errs ? errs.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    latencyMs: { p50: pct('50'), p75: pct('75'), p90: pct('90'), p99: pct('99') },
  };
}

/** One thread (the machine has two cores; the proxies need the other), keep-alive. */
export function runWrk(url: string, o: { connections: number; seconds: number; host?: string; threads?: number }): Promise<WrkResult> {
  const args = ['-t', String(o.threads ?? 1), '-c', String(o.connections), '-d', `${o.seconds}s`, '--latency'];
  if (o.host) args.push('-H', `Host: ${o.host}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (o.seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`wrk failed: ${err.message}\n${stderr}`)); return; }
      const r = parseWrk(stdout);
      if (!Number.isFinite(r.rps)) { reject(new Error(`cannot read wrk output:\n${stdout}`)); return; }
      resolve(r);
    });
  });
}
