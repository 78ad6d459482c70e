// Runs a mesh plan: starts processes group by group, waits until each answers ready,
// keeps their logs in files, and stops everything it started, in reverse order.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import http from 'node:http';
import type { Logger } from '#api';
import type { ProcessSpec } from './plan.js';

export interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  logFile: string;
}

export class StartError extends Error {
  constructor(readonly process: string, reason: string, readonly logTail: string) {
    super(`${process} did not become ready: ${reason}${logTail ? `\n--- last lines of its log ---\n${logTail.split('\n').slice(-8).join('\n')}` : ''}`);
    this.name = 'StartError';
  }
}

async function probe(spec: ProcessSpec): Promise<boolean> {
  if ('tcp' in spec.ready) {
    const port = spec.ready.tcp;
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
  }
  // node:http, not fetch: the launcher probes ~25 processes over and over while they start,
  // and fetch made that ~1 s of launcher CPU per start on 2 cores where CPU is the bound.
  const url = spec.ready.http;
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

export class Supervisor {
  private readonly running: Running[] = [];
  private stopping = false;

  constructor(private readonly opts: { logDir: string; log: Logger; cwd: string; readyTimeoutMs: number }) {
    mkdirSync(opts.logDir, { recursive: true });
  }

  list(): readonly Running[] {
    return this.running;
  }

  /** Starts the specs together and waits until every one is ready. */
  async startGroup(specs: ProcessSpec[]): Promise<void> {
    const started = specs.map((spec) => this.spawn(spec));
    await Promise.all(started.map((r) => this.waitReady(r)));
  }

  private spawn(spec: ProcessSpec): Running {
    const logFile = join(this.opts.logDir, `${spec.name}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(spec.command, spec.args, {
      cwd: this.opts.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const running: Running = { spec, child, logFile };
    child.on('exit', (code, signal) => {
      if (!this.stopping) this.opts.log.error({ process: spec.name, code, signal, log: logFile }, 'process exited');
    });
    child.on('error', (err) => this.opts.log.error({ process: spec.name, err: err.message }, 'process failed to start'));
    this.running.push(running);
    return running;
  }

  private async waitReady(r: Running): Promise<void> {
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    // No Node process answers within its first 200 ms, and each refused probe costs the
    // launcher CPU that the starting processes need (2 cores, ~25 processes): start late,
    // probe every 100 ms.
    await new Promise((res) => setTimeout(res, 'tcp' in r.spec.ready ? 20 : 200));
    for (;;) {
      if (r.child.exitCode !== null || r.child.signalCode !== null) {
        throw new StartError(r.spec.name, `exited with ${r.child.exitCode ?? r.child.signalCode}`, tail(r.logFile));
      }
      if (await probe(r.spec)) return;
      if (Date.now() > deadline) throw new StartError(r.spec.name, `no answer from ${JSON.stringify(r.spec.ready)} within ${this.opts.readyTimeoutMs} ms`, tail(r.logFile));
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** SIGTERM in reverse start order, SIGKILL whatever is left after the grace period. */
  async stopAll(graceMs = 5000): Promise<void> {
    this.stopping = true;
    const alive = [...this.running].reverse().filter((r) => r.child.exitCode === null && r.child.signalCode === null);
    const exits = alive.map((r) => new Promise<void>((resolve) => {
      if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
      r.child.once('exit', () => resolve());
    }));
    for (const r of alive) r.child.kill('SIGTERM');
    const timer = setTimeout(() => { for (const r of alive) if (r.child.exitCode === null) r.child.kill('SIGKILL'); }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }

  /** The running process of that name (chaos tests read its pid and send it signals). */
  get(name: string): Running | undefined {
    return this.running.find((r) => r.spec.name === name);
  }

  /** Kills one process (chaos; SIGKILL unless told), waits for its exit and forgets it; returns its spec for `start`. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<ProcessSpec> {
    const i = this.running.findIndex((r) => r.spec.name === name);
    if (i < 0) throw new Error(`no process named ${name}`);
    const old = this.running[i]!;
    this.running.splice(i, 1);
    if (old.child.exitCode !== null || old.child.signalCode !== null) return old.spec;
    // An expected exit: drop the "process exited" error log.
    old.child.removeAllListeners('exit');
    const exited = new Promise<void>((resolve) => old.child.once('exit', () => resolve()));
    old.child.kill(signal);
    await exited;
    return old.spec;
  }

  /** Starts one process (again) and waits until it is ready. */
  async start(spec: ProcessSpec): Promise<void> {
    await this.startGroup([spec]);
  }

  /** Kills one process hard (chaos) and starts it again with the same spec. */
  async restart(name: string): Promise<void> {
    await this.start(await this.kill(name));
  }
}
