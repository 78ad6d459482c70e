// Istio's tcp-echo sample: every line received is answered `<prefix> <line>` (prefix `hello`
// by default, the version otherwise distinguishable: `hello v2 ...` when configured so).
import net from 'node:net';

export function buildTcpEcho(prefix: string): net.Server {
  const server = net.createServer((socket) => {
    socket.setEncoding('utf8');
    let pending = '';
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        socket.write(`${prefix} ${line}\n`);
      }
    });
    // The client finished sending: answer what is left and close our side too.
    socket.on('end', () => {
      if (pending) socket.write(`${prefix} ${pending}\n`);
      socket.end();
    });
    socket.on('error', () => socket.destroy());
  });
  return server;
}
