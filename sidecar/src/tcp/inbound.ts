// TCP streams on the mTLS inbound port: a TLS connection whose SNI is
// `outbound_.<port>_.<subset>_.<host>` (sni.ts) is a stream for the workload's TCP port
// <port>. The handshake already verified the client certificate against the trust bundle
// (mTLS is the only way in: a plaintext connection cannot name a TCP port, so STRICT and
// PERMISSIVE behave alike here). Then AuthorizationPolicy with TCP semantics (authz.ts), mixer
// policy (protocol `tcp`), then a plain connection to the app on 127.0.0.1:targetPort, piped
// both ways.

import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseSpiffeId, type CheckRequest } from '#api';
import type { DataPlane } from '../data-plane.js';
import { inboundPolicyOf } from '../inbound-policy.js';
import { peerOf } from '../peer.js';
import { tunnel } from '../tunnel.js';
import { serviceForPort } from '../workload.js';
import { authorizeTcp } from './authz.js';
import { parseTcpSni } from './sni.js';
import { TcpConnectionReport, UNKNOWN_PEER } from './telemetry.js';

/** How long the app may take to accept the connection. */
const APP_CONNECT_TIMEOUT_MS = 10_000;

export class TcpInbound {
  /** Streams open now (the TLS side), destroyed when the listener closes. */
  readonly open = new Set<TLSSocket>();
  stats = { accepted: 0, denied: 0, refused: 0 };

  constructor(private readonly plane: DataPlane) {}

  /** Takes the connection when its SNI names a TCP stream; false leaves it to HTTP. */
  claim(socket: TLSSocket): boolean {
    const sni = parseTcpSni(socket.servername);
    if (!sni) return false;
    this.accept(socket, sni.port, sni.host);
    return true;
  }

  private accept(socket: TLSSocket, servicePort: number, host: string): void {
    const plane = this.plane;
    const w = plane.workload;
    // TCP half-close: a client that ended its side still gets the rest of the answer (read
    // when the client's FIN arrives, so setting it now is in time).
    socket.allowHalfOpen = true;
    socket.on('error', () => socket.destroy());
    const port = w.ports.find((p) => p.port === servicePort);
    if (!port || port.protocol !== 'TCP') {
      this.stats.refused++;
      plane.log.debug({ servicePort, host }, 'TCP stream for a port that is not a TCP port of this workload: closed');
      socket.destroy();
      return;
    }
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    const principal = peerOf(socket).principal;
    const spiffe = principal ? parseSpiffeId(principal) : undefined;
    const report = new TcpConnectionReport(plane.telemetry, {
      reporter: 'destination',
      source: { ...UNKNOWN_PEER, namespace: spiffe?.namespace ?? 'unknown', principal },
      destination: plane.selfPeer(),
      service: serviceForPort(w, host),
      mtls: true,
    });
    report.opened();

    const policies = inboundPolicyOf(plane.current).policy.authz;
    if (policies.length > 0) {
      const ports = port.targetPort !== port.port ? [port.port, port.targetPort] : [port.port];
      const d = authorizeTcp(policies, { principal, sourceIp: socket.remoteAddress ?? '', destinationIp: socket.localAddress ?? '', ports });
      if (!d.allowed) {
        // Envoy's RBAC network filter: the connection is closed, nothing reaches the app.
        this.stats.denied++;
        plane.log.debug({ principal, port: servicePort, policy: d.policy }, 'RBAC: TCP connection denied');
        socket.once('close', () => report.closed());
        socket.destroy();
        return;
      }
    }

    // Mixer policy (Istio 1.1 checks TCP connections at open too), from the cache when it can.
    const policy = plane.policy;
    if (!policy) { this.connectApp(socket, port.targetPort, report); return; }
    socket.pause();
    const self = plane.selfPeer();
    const service = serviceForPort(w, host);
    const parts = service.split('.');
    const req: CheckRequest = {
      proxyId: w.proxyId,
      source: report.info.source,
      destination: { ...self, service, serviceName: parts[0] ?? service, serviceNamespace: parts[1] ?? self.namespace },
      reporterKind: 'inbound',
      destinationPort: servicePort,
      connection: { mtls: true, ...(typeof socket.servername === 'string' ? { requestedServerName: socket.servername } : {}) },
      protocol: 'tcp',
    };
    if (socket.remoteAddress) req.sourceIp = socket.remoteAddress;
    const hit = policy.cached(req);
    (hit ? Promise.resolve(hit) : policy.ask(req)).then((d) => {
      if (d.allowed) { this.connectApp(socket, port.targetPort, report); return; }
      this.stats.denied++;
      plane.log.debug({ principal, port: servicePort, message: d.message }, 'mixer policy: TCP connection denied');
      socket.once('close', () => report.closed());
      socket.destroy();
    }, () => socket.destroy());
  }

  /** Pipes an admitted stream to the app on 127.0.0.1:targetPort. */
  private connectApp(socket: TLSSocket, targetPort: number, report: TcpConnectionReport): void {
    const plane = this.plane;
    if (socket.destroyed) { report.closed(); return; }
    this.stats.accepted++;
    socket.pause();
    const app = net.connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    const timer = setTimeout(() => app.destroy(new Error('app connect timeout')), APP_CONNECT_TIMEOUT_MS);
    timer.unref();
    const onEarlyClose = () => app.destroy();
    socket.once('close', onEarlyClose);
    let connected = false;
    app.on('error', (err) => {
      clearTimeout(timer);
      if (!connected) {
        report.flag('UF');
        plane.log.debug({ err, port: targetPort }, 'TCP: app refused the connection');
      }
      socket.destroy();
    });
    app.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      socket.off('close', onEarlyClose);
      const bytes = { up: 0, down: 0 };
      tunnel(socket, app, bytes, () => {
        report.received = bytes.up;
        report.sent = bytes.down;
        report.closed();
      });
      socket.resume();
    });
    app.once('close', () => { if (!connected) report.closed(); });
  }

  closeAll(): void {
    for (const s of this.open) s.destroy();
    this.open.clear();
  }
}
