// Listening and closing servers the same way everywhere: resolve the bound port, and on close
// stop accepting, end idle keep-alive connections, and give busy ones a moment.

import type { Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';

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
