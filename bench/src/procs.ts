// Child processes of a benchmark run: spawn, wait until they answer, read their CPU time and
// resident memory from /proc (the whole process tree: nginx is a master and a worker), stop.
// Every process started here is registered so one `stopAll()` (also on Ctrl-C) ends them all.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<Proc>();
/** Linux's USER_HZ: /proc times are in these ticks (100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

export function spawnProc(name: string, command: string, args: string[], opts: { env?: Record<string, string>; logDir: string; cwd?: string; ipc?: boolean }): Proc {
  const logFile = join(opts.logDir, `${name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const p: Proc = {
    name, child, pid: child.pid ?? -1, logFile,
    async stop(signal = 'SIGTERM') {
      running.delete(p);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  running.add(p);
  return p;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

export function logTail(p: Proc, lines = 15): string {
  try {
    return readFileSync(p.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export async function waitUntil<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

export async function httpOk(url: string, init: RequestInit = {}): Promise<boolean> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

/** Waits for a TCP port, failing early (with the log's tail) if the process died. */
export async function waitPort(p: Proc, port: number, timeoutMs = 30_000): Promise<void> {
  await waitUntil(async () => {
    if (p.child.exitCode !== null) throw Object.assign(new Error(`${p.name} exited (${p.child.exitCode}):\n${logTail(p)}`), { fatal: true });
    return tcpOpen(port);
  }, `${p.name} on port ${port}`, timeoutMs).catch((err) => {
    throw new Error(`${(err as Error).message}\n${logTail(p)}`);
  });
}

export async function waitHttp(p: Proc, url: string, timeoutMs = 30_000): Promise<void> {
  await waitUntil(async () => {
    if (p.child.exitCode !== null) throw new Error('exited');
    return httpOk(url);
  }, `${p.name} at ${url}`, timeoutMs).catch((err) => {
    throw new Error(`${(err as Error).message}\n${logTail(p)}`);
  });
}

function children(pid: number): number[] {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return tasks.flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** The process and its descendants. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...children(out[i]!));
  return out;
}

/** User + system CPU seconds used so far by the process tree. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces) start after the last ')'.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* exited */ }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Resident set size in bytes of the process tree. */
export function rssBytes(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch { /* exited */ }
  }
  return kb * 1024;
}

export const MiB = 1024 * 1024;

/** Asks a child started with `ipc` (a bench runner) for its memory after a full GC. */
export function memoryAfterGc(p: Proc): Promise<NodeJS.MemoryUsage> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${p.name} did not report its memory`)), 10_000);
    p.child.once('message', (m) => { clearTimeout(t); resolve(m as NodeJS.MemoryUsage); });
    p.child.send({ cmd: 'memory' });
  });
}

export interface LoopDelay { p50: number; p99: number; max: number }

/** Asks a bench runner for its event-loop delay (ms) since the last ask, and resets it. */
export function eventLoopDelay(p: Proc): Promise<LoopDelay> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${p.name} did not report its event-loop delay`)), 10_000);
    p.child.once('message', (m) => { clearTimeout(t); resolve(m as LoopDelay); });
    p.child.send({ cmd: 'loop' });
  });
}
