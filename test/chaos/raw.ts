// Raw sockets for hostile input: write exact bytes, read what comes back until the peer closes
// or goes quiet, and read a process's resources from /proc.

import net from 'node:net';
import tls from 'node:tls';
import { readdirSync, readFileSync } from 'node:fs';

export interface RawAnswer {
  /** Every status code seen, in order (a smuggled second request would add one). */
  statuses: number[];
  text: string;
  /** How the exchange ended: the peer closed, reset, we stopped waiting, or TLS refused. */
  end: 'closed' | 'reset' | 'quiet' | 'tls-error';
  error?: string;
}

function collect(sock: net.Socket, quietMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (end: RawAnswer['end'], error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      sock.destroy();
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ statuses, text, end, ...(error ? { error } : {}) });
    };
    const arm = () => { clearTimeout(quiet); quiet = setTimeout(() => finish('quiet'), quietMs); };
    arm();
    sock.on('data', (d: Buffer) => { text += d.toString('latin1'); arm(); });
    sock.on('end', () => finish('closed'));
    sock.on('close', () => finish('closed'));
    sock.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNRESET' ? 'reset' : (err.code ?? '').startsWith('ERR_SSL') || /ssl|tls|certificate/i.test(err.message) ? 'tls-error' : 'reset', err.code ?? err.message));
  });
}

/** Sends `bytes` on a fresh plain connection and returns what came back. */
export function rawHttp(port: number, bytes: string | Buffer, quietMs = 1500): Promise<RawAnswer> {
  const sock = net.connect(port, '127.0.0.1');
  const answer = collect(sock, quietMs);
  sock.on('connect', () => sock.write(bytes));
  return answer;
}

/** A TLS handshake with the given options, then `bytes`; TLS refusals come back as end 'tls-error'. */
export function rawTls(port: number, options: tls.ConnectionOptions, bytes: string, quietMs = 1500): Promise<RawAnswer> {
  const sock = tls.connect({ port, host: '127.0.0.1', ...options });
  const answer = collect(sock, quietMs);
  sock.on('secureConnect', () => sock.write(bytes));
  return answer;
}

/** VmRSS of a process in KiB (from /proc/<pid>/status). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Open file descriptors of a process (sockets included). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
