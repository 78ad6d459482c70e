// The floor any Node data plane pays: a bare mTLS forwarding pair with http.request and
// keep-alive agents, no routing, no telemetry, no http-proxy.
//   client: plain HTTP on <listen> -> https (client cert) to <target>
//   server: https with required client cert on <listen> -> plain HTTP to <target>
// `node node-pair.js client|server <listenPort> <targetPort> <key> <cert> <roots>`

import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';

const [role, listenRaw, targetRaw, keyFile, certFile, rootsFile] = process.argv.slice(2);
const listen = Number(listenRaw);
const target = Number(targetRaw);
const tls = { key: readFileSync(keyFile!), cert: readFileSync(certFile!), ca: readFileSync(rootsFile!) };

// Hop-by-hop headers are not forwarded (RFC 9110 7.6.1); the agents manage connections.
function forwardHeaders(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = { ...h };
  delete out.connection;
  delete out['keep-alive'];
  delete out['proxy-connection'];
  delete out['transfer-encoding'];
  return out;
}

function forwarder(request: (opts: http.RequestOptions, cb: (res: http.IncomingMessage) => void) => http.ClientRequest, agent: http.Agent) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const up = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: forwardHeaders(req.headers), agent }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, forwardHeaders(ures.headers));
      ures.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(503);
      res.end();
    });
    req.pipe(up);
  };
}

let server: http.Server;
if (role === 'client') {
  // SPIFFE certs have no host name to check; the chain is verified against the roots.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 256, ...tls, checkServerIdentity: () => undefined });
  server = http.createServer({ keepAliveTimeout: 65_000 }, forwarder(https.request, agent));
} else if (role === 'server') {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 65_000 }, forwarder(http.request, agent));
} else {
  throw new Error(`role must be client or server, not ${role}`);
}
server.listen(listen, '127.0.0.1');
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
