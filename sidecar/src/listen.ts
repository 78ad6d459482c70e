// Listening and closing servers the same way everywhere: resolve the bound port, and on close
// stop accepting, end idle keep-alive connections, and give busy ones a moment.

import type { Server as HttpServer } from 'node:http';
import net, { type Server, type Socket } from 'node:net';

export interface ListeningServer {
  server: Server;
  port: number;
  close(graceMs?: number): Promise<void>;
}

type ClosableServer = Server & { closeIdleConnections?: () => void; closeAllConnections?: () => void };

export function listenOn(server: Server, host: string, port: number): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      resolve({ server, port: bound, close: (graceMs) => closeServer(server as ClosableServer, graceMs) });
    });
  });
}

export function closeServer(server: ClosableServer, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) { resolve(); return; }
    const force = setTimeout(() => server.closeAllConnections?.(), graceMs);
    force.unref();
    server.close(() => { clearTimeout(force); resolve(); });
    server.closeIdleConnections?.();
  });
}

/**
 * Behaviour every HTTP listener shares: bad requests get a 400 (431 when the head is over
 * the limit, as Node answers without a listener), CONNECT is refused.
 */
export function hardenServer(server: HttpServer): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') { socket.destroy(); return; }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  server.on('connect', (_req, socket) => {
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
}

/** A connection that sends nothing is closed after this long (nothing to sniff). */
const SNIFF_TIMEOUT_MS = 15_000;

/** The first byte of a TLS handshake record. */
export const TLS_HANDSHAKE = 0x16;

/**
 * A front listener for ports that take TLS and plaintext alike: it waits for a connection's
 * first bytes, puts them back, and hands the paused socket to `dispatch`, which gives it to
 * the server that speaks that protocol (or destroys it). That server brings its own timeout
 * and error handling. noDelay: an http(s) server sets TCP_NODELAY on the sockets it accepts,
 * a bare net.Server does not; without it Node's separate head and body writes meet the
 * peer's delayed ACK (Nagle), up to 40 ms per response.
 */
export function createSniffingServer(dispatch: (socket: Socket, first: Buffer) => void): Server {
  return net.createServer({ noDelay: true }, (socket) => {
    const onError = () => socket.destroy();
    const onIdle = () => socket.destroy();
    socket.on('error', onError);
    socket.setTimeout(SNIFF_TIMEOUT_MS, onIdle);
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.off('timeout', onIdle);
      socket.off('error', onError);
      socket.pause();
      socket.unshift(first);
      dispatch(socket, first);
    });
  });
}
