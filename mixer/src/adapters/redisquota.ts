// Istio 1.1's redisquota with its FIXED_WINDOW algorithm over a real Redis (one INCRBY and
// one PEXPIRE per allocation, pipelined). A Redis that is down or slow makes quota calls
// fail fast (connect errors, a short timeout, a brief back-off): the engine then lets the
// request through, so a dead backend never turns every request into a 429 (istio/istio#12115).
import net from 'node:net';
import { HandlerConfigError, type AdapterFactory, type Handler } from './handler.js';
import { QuotaLimits } from './quota-limits.js';

type Reply = string | number | null | Error;

/** A minimal RESP client: commands pipelined on one connection, replies in order. */
export class RespClient {
  private sock: net.Socket | undefined;
  private buf = '';
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private downUntil = 0;

  constructor(private readonly host: string, private readonly port: number, private readonly timeoutMs: number, private readonly now: () => number) {}

  private connect(): net.Socket {
    if (this.sock && !this.sock.destroyed) return this.sock;
    const s = net.connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    s.setEncoding('utf8');
    s.on('data', (d: string) => { this.buf += d; this.drain(); });
    const fail = (err: Error) => {
      this.downUntil = this.now() + 1000;
      for (const p of this.pending.splice(0)) p.reject(err);
      s.destroy();
    };
    s.on('error', fail);
    s.on('close', () => fail(new Error('redis connection closed')));
    this.sock = s;
    return s;
  }

  private drain(): void {
    for (;;) {
      const parsed = parseReply(this.buf);
      if (!parsed) return;
      this.buf = this.buf.slice(parsed.length);
      this.pending.shift()?.resolve(parsed.reply);
    }
  }

  command(...args: (string | number)[]): Promise<Reply> {
    if (this.now() < this.downUntil) return Promise.reject(new Error('redis is down (backing off)'));
    const sock = this.connect();
    return new Promise<Reply>((resolve, reject) => {
      const t = setTimeout(() => {
        this.downUntil = this.now() + 1000;
        reject(new Error(`redis did not answer within ${this.timeoutMs} ms`));
        sock.destroy();
      }, this.timeoutMs);
      this.pending.push({ resolve: (r) => { clearTimeout(t); resolve(r); }, reject: (e) => { clearTimeout(t); reject(e); } });
      sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
    });
  }

  close(): void {
    this.sock?.destroy();
  }
}

function parseReply(buf: string): { reply: Reply; length: number } | undefined {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return undefined;
  const head = buf.slice(1, eol);
  switch (buf[0]) {
    case '+': return { reply: head, length: eol + 2 };
    case '-': return { reply: new Error(head), length: eol + 2 };
    case ':': return { reply: Number(head), length: eol + 2 };
    case '$': {
      const n = Number(head);
      if (n < 0) return { reply: null, length: eol + 2 };
      if (buf.length < eol + 2 + n + 2) return undefined;
      return { reply: buf.slice(eol + 2, eol + 2 + n), length: eol + 2 + n + 2 };
    }
    default: return { reply: new Error(`unexpected redis reply ${JSON.stringify(buf.slice(0, 20))}`), length: eol + 2 };
  }
}

export const redisquotaAdapter: AdapterFactory = {
  adapter: 'redisquota',
  templates: ['quota'],
  build(name, params, ctx): Handler {
    const url = String(params.redisServerUrl ?? '');
    const m = /^(?:redis:\/\/)?([^:/]+):(\d+)$/.exec(url);
    if (!m) throw new HandlerConfigError(`redisServerUrl: expected host:port, got ${JSON.stringify(url)}`);
    const quotas = (params.quotas ?? []) as Record<string, unknown>[];
    for (const [i, q] of quotas.entries()) {
      if (q.rateLimitAlgorithm !== undefined && q.rateLimitAlgorithm !== 'FIXED_WINDOW') {
        throw new HandlerConfigError(`quotas[${i}].rateLimitAlgorithm: only FIXED_WINDOW is supported`);
      }
    }
    const limits = new QuotaLimits(quotas, 1000);
    const client = new RespClient(m[1]!, Number(m[2]), Number(params.timeoutMs ?? 200), ctx.now);
    let errors = 0;
    return {
      name, adapter: 'redisquota',
      async quota(instance, args) {
        const r = limits.resolve(instance);
        if (!r) return { granted: args.amount, validDurationMs: 0 };
        const window = Math.max(1, r.limit.validDurationMs);
        const slot = Math.floor(ctx.now() / window);
        const key = `mesh-quota:${r.key}:${slot}`;
        try {
          const [count] = await Promise.all([client.command('INCRBY', key, args.amount), client.command('PEXPIRE', key, window * 2)]);
          if (count instanceof Error || typeof count !== 'number') throw count instanceof Error ? count : new Error('redis: INCRBY did not answer a number');
          if (count <= r.limit.maxAmount) return { granted: args.amount, validDurationMs: window };
          const left = r.limit.maxAmount - (count - args.amount);
          if (args.bestEffort && left > 0) return { granted: left, validDurationMs: window };
          return { granted: 0, validDurationMs: Math.max(1, (slot + 1) * window - ctx.now()) };
        } catch (err) {
          errors++;
          throw err;
        }
      },
      describe: () => ({ redis: `${m[1]}:${m[2]}`, quotas: limits.names(), errors }),
      close: () => client.close(),
    };
  },
};
