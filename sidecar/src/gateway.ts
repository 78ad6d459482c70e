// Gateway mode: one listener per Gateway server port in the pushed config, bound on
// MESH_GATEWAY_BIND at the mapped port (MESH_GATEWAY_PORT_MAP). Listeners follow the config:
// new ports bind before the swap (a bind failure NACKs the push and leaves everything as it
// was), dropped ports close after it. Requests route with the listener's route configuration
// and leave over mTLS exactly like outbound ones.
//
// TLS termination (Gateway servers with protocol HTTPS, tls.mode SIMPLE or MUTUAL): each port
// sniffs the first byte of a connection; a TLS handshake is served with the certificate of the
// server whose hosts match the client's SNI. Certificates and keys are read from the paths the
// config names (or the credential folder for credentialName) while a push is prepared: a
// missing or unreadable file NACKs the push naming the file, and the last good certificates
// keep serving. Key material stays in this process: config, logs and the admin API carry paths.

import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { GatewayTlsServer, Listener } from '#api';
import type { CompiledConfig } from './compile.js';
import { ConfigError, configErrorCodes } from './compile.js';
import type { DataPlane } from './data-plane.js';
import { newExchange } from './exchange.js';
import { requestHasBody, stripHopByHop } from './headers.js';
import { createSniffingServer, hardenServer, listenOn, TLS_HANDSHAKE, type ListeningServer } from './listen.js';
import { outboundService } from './outbound.js';
import { gatewayPolicyService } from './gateway-policy.js';
import { PEER_HEADER } from './peer.js';
import { serveExchange } from './serve.js';

/** A gateway certificate or key that cannot be read or used (the push is NACKed). */
export const GATEWAY_CREDENTIAL_ERROR = 'SC0110';

export interface GatewayListenerStatus {
  port: number;
  boundPort: number;
  routeConfig: string;
  /** TLS servers on the port: hosts, mode and the files in use (never their content). */
  tls?: { hosts: string[]; mode: string; certificate: string; privateKey: string; caCertificates?: string }[];
}

/** One TLS server of a port, ready for handshakes. */
interface TlsEntry {
  hosts: string[];
  mode: 'SIMPLE' | 'MUTUAL';
  context: tls.SecureContext;
  options: tls.SecureContextOptions;
  sans: string[];
  files: { certificate: string; privateKey: string; caCertificates?: string };
}

const TLS_VERSIONS: Record<string, tls.SecureVersion | undefined> = {
  TLSV1_0: 'TLSv1', TLSV1_1: 'TLSv1.1', TLSV1_2: 'TLSv1.2', TLSV1_3: 'TLSv1.3', TLS_AUTO: undefined,
};

/** Does a Gateway host (`*`, `*.example.com`, exact) cover a name? */
export function gatewayHostMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1));
  return pattern === name;
}

/** The TLS server a client's SNI picks: an exact host, then the longest `*.suffix`, then `*`;
 *  a client that sends no SNI gets the `*` server, else the first. */
export function pickTlsServer<T extends { hosts: string[] }>(entries: readonly T[], servername: string | undefined): T | undefined {
  if (!servername) return entries.find((e) => e.hosts.includes('*')) ?? entries[0];
  const name = servername.toLowerCase();
  const exact = entries.find((e) => e.hosts.includes(name));
  if (exact) return exact;
  let best: T | undefined;
  let bestLen = -1;
  for (const e of entries) {
    for (const h of e.hosts) {
      if (h.startsWith('*.') && name.endsWith(h.slice(1)) && h.length > bestLen) { best = e; bestLen = h.length; }
    }
  }
  return best ?? entries.find((e) => e.hosts.includes('*'));
}

/** Where a server's certificate, key and CA are: its paths, else its credentialName in the
 *  credential folder (`<name>/tls.crt,tls.key,ca.crt` or `<name>.crt,.key,-cacert.crt`, as
 *  Istio's SDS names a secret's keys). Relative paths are relative to the folder. */
export function credentialFiles(t: GatewayTlsServer, credentialDir: string, exists: (path: string) => boolean): { certificate?: string; privateKey?: string; caCertificates?: string } {
  const inDir = (p: string) => (isAbsolute(p) ? p : resolve(credentialDir, p));
  let certificate = t.serverCertificate ? inDir(t.serverCertificate) : undefined;
  let privateKey = t.privateKey ? inDir(t.privateKey) : undefined;
  let caCertificates = t.caCertificates ? inDir(t.caCertificates) : undefined;
  if (t.credentialName) {
    const folder = join(credentialDir, t.credentialName);
    const flat = (ext: string) => join(credentialDir, `${t.credentialName}${ext}`);
    const useFolder = exists(join(folder, 'tls.crt')) || !exists(flat('.crt'));
    certificate ??= useFolder ? join(folder, 'tls.crt') : flat('.crt');
    privateKey ??= useFolder ? join(folder, 'tls.key') : flat('.key');
    if (t.mode === 'MUTUAL') caCertificates ??= useFolder ? join(folder, 'ca.crt') : flat('-cacert.crt');
  }
  return { certificate, privateKey, caCertificates };
}

/** Reads a listener's TLS servers into secure contexts; throws a ConfigError naming the file. */
export function loadTlsEntries(l: Listener, credentialDir: string): TlsEntry[] {
  const out: TlsEntry[] = [];
  for (const [i, t] of (l.tls ?? []).entries()) {
    const place = `listeners[${l.name}].tls[${i}]`;
    const fail = (field: string, msg: string): never => { throw new ConfigError(GATEWAY_CREDENTIAL_ERROR, `${place}.${field}`, msg); };
    if (t.mode !== 'SIMPLE' && t.mode !== 'MUTUAL') fail('mode', `expected SIMPLE or MUTUAL, got ${JSON.stringify(t.mode)}`);
    const files = credentialFiles(t, credentialDir, existsSync);
    const read = (field: string, path: string | undefined): Buffer => {
      if (!path) return fail(field, t.credentialName ? `credential ${JSON.stringify(t.credentialName)} not found in ${credentialDir}` : 'not set (serverCertificate and privateKey, or credentialName)');
      try { return readFileSync(path); } catch (err) {
        return fail(field, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    const cert = read('serverCertificate', files.certificate);
    const key = read('privateKey', files.privateKey);
    const ca = t.mode === 'MUTUAL' ? read('caCertificates', files.caCertificates) : undefined;
    const minVersion = t.minProtocolVersion ? TLS_VERSIONS[t.minProtocolVersion.toUpperCase()] : 'TLSv1.2';
    const maxVersion = t.maxProtocolVersion ? TLS_VERSIONS[t.maxProtocolVersion.toUpperCase()] : undefined;
    const options: tls.SecureContextOptions = { cert, key, ...(ca ? { ca } : {}), ...(minVersion ? { minVersion } : {}), ...(maxVersion ? { maxVersion } : {}) };
    let context: tls.SecureContext;
    try {
      context = tls.createSecureContext(options);
    } catch (err) {
      // OpenSSL's message (bad PEM, key does not match) never quotes the key.
      return fail('privateKey', `cannot use ${files.certificate} with ${files.privateKey}${ca ? ` and ${files.caCertificates}` : ''}: ${(err as Error).message}`);
    }
    out.push({
      hosts: t.hosts.map((h) => h.toLowerCase()), mode: t.mode, context, options, sans: t.subjectAltNames ?? [],
      files: { certificate: files.certificate!, privateKey: files.privateKey!, ...(files.caCertificates && ca ? { caCertificates: files.caCertificates } : {}) },
    });
  }
  return out;
}

/** MUTUAL: a verified client certificate, and one of the accepted SANs when some are listed. */
function clientAccepted(socket: tls.TLSSocket, entry: TlsEntry): boolean {
  if (entry.mode !== 'MUTUAL') return true;
  if (!socket.authorized) return false;
  if (!entry.sans.length) return true;
  const names = (socket.getPeerCertificate()?.subjectaltname ?? '').split(',').map((s) => s.trim().replace(/^(DNS|URI|IP Address|email):/, ''));
  return entry.sans.some((s) => names.includes(s));
}

interface PortServer {
  listening: ListeningServer;
  plain: http.Server;
  secure: https.Server;
}

export class GatewayListeners {
  private readonly servers = new Map<number, PortServer>();
  /** TLS servers per port of each compiled config; the served config's are in force. */
  private readonly tlsByConfig = new WeakMap<CompiledConfig, Map<number, TlsEntry[]>>();

  constructor(
    private readonly plane: DataPlane,
    private readonly bind: string,
    private readonly portMap: Map<number, number>,
    private readonly credentialDir: string = '/etc/istio/gateway-credentials',
  ) {}

  private tlsFor(port: number): TlsEntry[] {
    const c = this.plane.current;
    return (c && this.tlsByConfig.get(c)?.get(port)) ?? [];
  }

  private createServer(logicalPort: number): Omit<PortServer, 'listening'> & { front: net.Server } {
    const plane = this.plane;
    // AuthorizationPolicy / RequestAuthentication selecting the gateway, before routing.
    const service = gatewayPolicyService(plane, logicalPort, outboundService(plane, () => {
      const c = plane.current;
      const l = c?.gatewayListeners.get(logicalPort);
      return l?.routeConfig ? c!.routeTables.get(l.routeConfig) : undefined;
    }));
    const handle = (secure: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      const listener = plane.current?.gatewayListeners.get(logicalPort);
      if (!secure && listener?.httpsRedirectHosts?.length) {
        // Gateway server tls.httpsRedirect, as Envoy's require_tls: 301 to the same host and path.
        const host = String(req.headers.host ?? '').toLowerCase();
        const name = host.replace(/:\d+$/, '');
        if (name && listener.httpsRedirectHosts.some((h) => gatewayHostMatches(h, name))) {
          res.writeHead(301, { location: `https://${host}${req.url ?? '/'}`, 'content-length': 0 });
          res.end();
          return;
        }
      }
      const ex = newExchange(req, 'gateway', performance.now());
      const h = ex.headers;
      ex.hasBody = requestHasBody(h);
      stripHopByHop(h);
      // The edge: the client's address is the one fact we know; whatever it claims is dropped.
      h['x-forwarded-for'] = req.socket.remoteAddress ?? '';
      h['x-forwarded-proto'] = secure ? 'https' : 'http';
      delete h['x-forwarded-client-cert'];
      if (h['x-request-id'] === undefined) h['x-request-id'] = randomUUID();
      h[PEER_HEADER] = plane.peerHeader;
      serveExchange(ex, service, res, plane.log);
    };
    const plain = http.createServer({ keepAliveTimeout: 65_000 }, handle(false));
    hardenServer(plain);
    let defaultOptions: tls.SecureContextOptions | undefined;
    const secure = https.createServer({
      keepAliveTimeout: 65_000,
      ALPNProtocols: ['http/1.1'],
      // Client certificates are asked for on every TLS port and verified per server (MUTUAL)
      // once the SNI has chosen it; Node fixes requestCert per server, not per SNI context.
      requestCert: true,
      rejectUnauthorized: false,
      SNICallback: (servername, cb) => {
        const entry = pickTlsServer(this.tlsFor(logicalPort), servername);
        if (entry) cb(null, entry.context);
        else cb(new Error(`no Gateway server for SNI ${servername}`), undefined);
      },
    }, handle(true));
    secure.on('secureConnection', (socket: tls.TLSSocket) => {
      const entry = pickTlsServer(this.tlsFor(logicalPort), socket.servername || undefined);
      if (!entry || !clientAccepted(socket, entry)) {
        plane.log.debug({ port: logicalPort, sni: socket.servername, error: socket.authorizationError }, 'gateway TLS client refused');
        socket.destroy();
      }
    });
    secure.on('tlsClientError', (err) => plane.log.debug({ port: logicalPort, err: err.message }, 'gateway TLS handshake failed'));
    hardenServer(secure);
    plain.emit('listening');
    secure.emit('listening');

    const front = createSniffingServer((socket, first) => {
      const entries = this.tlsFor(logicalPort);
      const handshake = first[0] === TLS_HANDSHAKE;
      // A TLS port takes only TLS, a plain port only plain HTTP (as Envoy's filter chains).
      if (handshake !== entries.length > 0) { socket.destroy(); return; }
      if (handshake) {
        // Clients without SNI get the default context: the `*` server's, else the first.
        const def = pickTlsServer(entries, undefined)!;
        if (def.options !== defaultOptions) { secure.setSecureContext(def.options); defaultOptions = def.options; }
        secure.emit('connection', socket);
      } else {
        plain.emit('connection', socket);
        socket.resume();
      }
    });
    return { front, plain, secure };
  }

  /** Binds the listeners `next` adds and loads every TLS certificate it names; on any
   *  failure closes what it bound and throws (NACK): the served config keeps its listeners
   *  and certificates. */
  async prepare(next: CompiledConfig): Promise<void> {
    const tlsByPort = new Map<number, TlsEntry[]>();
    for (const [port, l] of next.gatewayListeners) {
      if (l.tls?.length) tlsByPort.set(port, loadTlsEntries(l, this.credentialDir));
    }
    const added: number[] = [];
    try {
      for (const port of next.gatewayListeners.keys()) {
        if (this.servers.has(port)) continue;
        const bound = this.portMap.get(port) ?? port;
        const s = this.createServer(port);
        try {
          const listening = await listenOn(s.front, this.bind, bound);
          this.servers.set(port, { listening, plain: s.plain, secure: s.secure });
          added.push(port);
        } catch (err) {
          throw new ConfigError(configErrorCodes.bindFailed, `listeners[${next.gatewayListeners.get(port)!.name}]`, `cannot bind ${this.bind}:${bound}: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      await Promise.all(added.map((p) => { const s = this.servers.get(p)!; this.servers.delete(p); return closePort(s, 0); }));
      throw err;
    }
    this.tlsByConfig.set(next, tlsByPort);
  }

  /** Closes listeners the served config no longer has. */
  commit(current: CompiledConfig): void {
    for (const [port, s] of this.servers) {
      if (!current.gatewayListeners.has(port)) {
        this.servers.delete(port);
        void closePort(s);
      }
    }
  }

  list(): GatewayListenerStatus[] {
    const c = this.plane.current;
    return [...this.servers.entries()].map(([port, s]) => {
      const entries = this.tlsFor(port);
      return {
        port, boundPort: s.listening.port, routeConfig: c?.gatewayListeners.get(port)?.routeConfig ?? '',
        ...(entries.length ? { tls: entries.map((e) => ({ hosts: e.hosts, mode: e.mode, certificate: e.files.certificate, privateKey: e.files.privateKey, ...(e.files.caCertificates ? { caCertificates: e.files.caCertificates } : {}) })) } : {}),
      };
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => closePort(s)));
    this.servers.clear();
  }
}

async function closePort(s: PortServer, graceMs = 2000): Promise<void> {
  const closed = s.listening.close(graceMs);
  s.plain.closeIdleConnections();
  s.secure.closeIdleConnections();
  const force = setTimeout(() => { s.plain.closeAllConnections(); s.secure.closeAllConnections(); }, graceMs);
  force.unref();
  await closed;
  clearTimeout(force);
  // They never listened themselves (connections are handed over): stop their timers only.
  s.plain.close(() => {});
  s.secure.close(() => {});
}
