// A real nats-server per suite (nats.js transport-node/tests style), on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './wait.js';
import net from 'node:net';

export interface NatsServer {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
  /** kill -9 then start again on the same port (chaos and resync tests). */
  restart(): Promise<void>;
}

export async function startNats(opts: { port?: number; config?: string } = {}): Promise<NatsServer> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (opts.config) {
    const file = join(dir, 'nats.conf');
    writeFileSync(file, opts.config);
    args.push('-c', file);
  }
  let proc = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ready = async () => {
    await waitFor(async () => new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    }), { timeoutMs: 10_000, what: `nats-server on ${port}` });
  };
  await ready();
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    get proc() { return proc; },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
    async restart() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      proc = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      await ready();
    },
  };
  return server;
}
