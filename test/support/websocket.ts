// A minimal RFC 6455 client and echo server for tests (no `ws` dependency): text, close and
// ping frames, masked from the client, unmasked from the server.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface Frame { opcode: number; payload: Buffer }

export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const head: number[] = [0x80 | opcode];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else throw new Error('frame too large for this test helper');
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** Accumulates bytes and yields complete frames. */
export class FrameReader {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): Frame[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    for (;;) {
      if (this.buf.length < 2) break;
      const opcode = this.buf[0]! & 0x0f;
      const masked = (this.buf[1]! & 0x80) !== 0;
      let len = this.buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) { if (this.buf.length < 4) break; len = this.buf.readUInt16BE(2); off = 4; }
      else if (len === 127) throw new Error('64-bit frame lengths not supported by this helper');
      const keyLen = masked ? 4 : 0;
      if (this.buf.length < off + keyLen + len) break;
      const key = this.buf.subarray(off, off + keyLen);
      const payload = Buffer.from(this.buf.subarray(off + keyLen, off + keyLen + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i % 4]!;
      out.push({ opcode, payload });
      this.buf = this.buf.subarray(off + keyLen + len);
    }
    return out;
  }
}

export interface WsEchoServer {
  server: http.Server;
  port: number;
  /** Sockets currently open (HTTP and upgraded). */
  open: Set<Socket>;
  /** Headers of each upgrade request received. */
  upgrades: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** Answers upgrades on any path but `/reject*` (426): first sends `hello <name>`, then echoes text frames as
 *  `echo:<text>` and answers a close with a close. Plain requests get `<name>`. */
export async function startWsEchoServer(name: string): Promise<WsEchoServer> {
  const open = new Set<Socket>();
  const upgrades: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((_req, res) => { res.end(name); });
  server.on('connection', (s: Socket) => { open.add(s); s.once('close', () => open.delete(s)); });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades.push(req.headers);
    const key = req.headers['sec-websocket-key'];
    if (req.url?.startsWith('/reject')) {
      socket.end('HTTP/1.1 426 Upgrade Required\r\ncontent-type: text/plain\r\ncontent-length: 16\r\nconnection: close\r\n\r\nno upgrade here\n');
      return;
    }
    if (typeof key !== 'string') { socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'); return; }
    socket.on('error', () => socket.destroy());
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\n\r\n`);
    socket.write(encodeFrame(1, Buffer.from(`hello ${name}`), false));
    const reader = new FrameReader();
    const onData = (c: Buffer) => {
      for (const f of reader.push(c)) {
        if (f.opcode === 1) socket.write(encodeFrame(1, Buffer.concat([Buffer.from('echo:'), f.payload]), false));
        else if (f.opcode === 8) { socket.end(encodeFrame(8, f.payload, false)); }
        else if (f.opcode === 9) socket.write(encodeFrame(10, f.payload, false));
      }
    };
    if (head.length) onData(head);
    socket.on('data', onData);
    // The peer went away without a close frame: close our side too, as WebSocket servers do.
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server, port: (server.address() as AddressInfo).port, open, upgrades,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

export interface WsClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The answer's body when the upgrade was refused. */
  body: string;
  socket?: Duplex;
  /** The next frame (waits for it). */
  next(): Promise<Frame>;
  sendText(text: string): void;
  /** Sends a close frame and resolves when the socket closed. */
  close(): Promise<void>;
  closed: Promise<void>;
}

/** Opens a WebSocket through `port`: proxy form when `target` is absolute, origin form otherwise. */
export function wsConnect(port: number, target: string, headers: Record<string, string> = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const req = http.request({
      host: '127.0.0.1', port, path: target, method: 'GET', agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': key, 'sec-websocket-version': '13', ...headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(refused(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString())));
      res.on('error', reject);
    });
    req.on('upgrade', (res: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (res.headers['sec-websocket-accept'] !== acceptKey(key)) { socket.destroy(); reject(new Error('bad sec-websocket-accept')); return; }
      const reader = new FrameReader();
      const frames: Frame[] = [];
      const waiters: ((f: Frame) => void)[] = [];
      const deliver = (c: Buffer) => {
        for (const f of reader.push(c)) {
          const w = waiters.shift();
          if (w) w(f); else frames.push(f);
        }
      };
      if (head.length) deliver(head);
      socket.on('data', deliver);
      socket.on('error', () => socket.destroy());
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      resolve({
        status: 101, headers: res.headers, body: '', socket, closed,
        next: () => new Promise<Frame>((r, rej) => {
          const f = frames.shift();
          if (f) { r(f); return; }
          if (socket.destroyed) { rej(new Error('socket closed')); return; }
          waiters.push(r);
          socket.once('close', () => rej(new Error('socket closed before a frame arrived')));
        }),
        sendText: (text) => { socket.write(encodeFrame(1, Buffer.from(text), true)); },
        close: async () => {
          socket.write(encodeFrame(8, Buffer.from([0x03, 0xe8]), true));
          await closed;
        },
      });
    });
    req.end();
  });
}

function refused(status: number, headers: http.IncomingHttpHeaders, body: string): WsClient {
  const none = () => Promise.reject(new Error(`upgrade refused with ${status}`));
  return { status, headers, body, next: none, sendText: () => {}, close: async () => {}, closed: Promise.resolve() };
}
