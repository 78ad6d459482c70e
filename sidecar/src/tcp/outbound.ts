// How an app reaches a TCP service: Consul Connect's "upstream local bind port". Each
// declared upstream (`MESH_TCP_UPSTREAMS=redis:6379=16379`) gets a loopback listener; a
// connection to it is a stream for that service port. The cluster comes from pilot's TCP
// listener for the service (a VirtualService `tcp` route may pick subsets and weights), else
// the service port's default cluster. An endpoint is picked by the cluster's balancer, and the
// stream goes over mTLS to the server sidecar's inbound port with the SNI
// `outbound_.<port>_.<subset>_.<host>` (sni.ts) and the SPIFFE ids the cluster allows; plain
// TCP when the cluster is not ISTIO_MUTUAL. In compose, capture (sidecar/capture/init.sh)
// redirects the service port to the local port, so the app just dials `redis:6379`.
// No config, no cluster, no endpoint, overflow or a failed connect: the app's connection is
// closed (Envoy's tcp_proxy has nothing else to answer with), with the flag in telemetry.
// Connect outcomes feed the cluster's outlier detection (connect failures eject endpoints).

import net from 'node:net';
import tls, { createSecureContext, type SecureContext } from 'node:tls';
import { clusterName, fqdn, SettingsError, type Listener } from '#api';
import { checkSpiffe } from '../agents.js';
import type { CompiledCluster } from '../compile.js';
import type { DataPlane } from '../data-plane.js';
import { listenOn, type ListeningServer } from '../listen.js';
import type { TlsIdentity } from '../tls-identity.js';
import { tunnel } from '../tunnel.js';
import { tcpSni } from './sni.js';
import { TcpConnectionReport, UNKNOWN_PEER } from './telemetry.js';

export interface TcpUpstream {
  /** Service FQDN. */
  host: string;
  port: number;
  /** Loopback port the app connects to (0: any free port, for tests). */
  localPort: number;
}

/** `redis:6379=16379,tcp-echo.other:9000=19000` (short names are in `namespace`). */
export function parseTcpUpstreams(raw: string, namespace: string, env = 'MESH_TCP_UPSTREAMS'): TcpUpstream[] {
  const out: TcpUpstream[] = [];
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9.-]+):(\d{1,5})=(\d{1,5})$/i.exec(part);
    const port = Number(m?.[2]);
    const localPort = Number(m?.[3]);
    if (!m || port < 1 || port > 65535 || localPort > 65535) throw new SettingsError(env, raw, `"${part}" is not host:servicePort=localPort`);
    out.push({ host: fqdn(m[1]!.toLowerCase(), namespace), port, localPort });
  }
  return out;
}

/** The weighted destinations for an upstream, from the pushed config. */
export function tcpTargets(plane: DataPlane, up: TcpUpstream): { cluster: CompiledCluster; weight: number }[] {
  const c = plane.current;
  if (!c) return [];
  const listener: Listener | undefined = c.config.listeners.find((l) => l.protocol === 'TCP' && l.kind === 'outbound' && l.port === up.port && l.service === up.host);
  const names = listener?.weightedClusters?.length ? listener.weightedClusters
    : [{ name: listener?.cluster ?? clusterName('outbound', up.port, '', up.host), weight: 100 }];
  const out: { cluster: CompiledCluster; weight: number }[] = [];
  for (const n of names) {
    const cluster = c.clusters.get(n.name);
    if (cluster) out.push({ cluster, weight: n.weight });
  }
  return out;
}

function pickWeighted<T extends { weight: number }>(list: T[], random: number): T | undefined {
  const total = list.reduce((a, t) => a + Math.max(0, t.weight), 0);
  if (list.length <= 1 || total <= 0) return list[0];
  let point = random * total;
  for (const t of list) { point -= Math.max(0, t.weight); if (point < 0) return t; }
  return list[list.length - 1];
}

export class TcpOutbound {
  private readonly listeners = new Map<string, ListeningServer>();
  private readonly open = new Set<net.Socket>();
  private readonly contexts = new WeakMap<TlsIdentity, SecureContext>();
  stats = { accepted: 0, failed: 0 };

  constructor(private readonly plane: DataPlane, private readonly random: () => number = Math.random) {}

  /** Binds one loopback listener per upstream; returns `host:port` -> bound port. */
  async start(upstreams: TcpUpstream[], bind = '127.0.0.1'): Promise<Record<string, number>> {
    const bound: Record<string, number> = {};
    for (const up of upstreams) {
      // allowHalfOpen: a client that ends its side still gets the rest of the answer (TCP
      // half-close, as Envoy's tcp_proxy keeps it).
      const server = net.createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (s) => this.accept(s, up));
      const l = await listenOn(server, bind, up.localPort);
      this.listeners.set(`${up.host}:${up.port}`, l);
      bound[`${up.host}:${up.port}`] = l.port;
    }
    return bound;
  }

  private secureContext(): SecureContext | undefined {
    const id = this.plane.identity.current();
    if (!id) return undefined;
    let ctx = this.contexts.get(id);
    if (!ctx) this.contexts.set(id, ctx = createSecureContext({ key: id.keyPem, cert: id.certChainPem, ca: id.rootsPem, minVersion: 'TLSv1.2' }));
    return ctx;
  }

  private accept(client: net.Socket, up: TcpUpstream): void {
    const plane = this.plane;
    this.open.add(client);
    client.once('close', () => this.open.delete(client));
    client.on('error', () => client.destroy());
    const target = pickWeighted(tcpTargets(plane, up), this.random());
    const cluster = target?.cluster;
    const ep = cluster?.balancer.pick();
    const report = new TcpConnectionReport(plane.telemetry, {
      reporter: 'source',
      source: plane.selfPeer(),
      destination: ep?.destination ?? UNKNOWN_PEER,
      service: cluster && cluster.service !== 'unknown' ? cluster.service : up.host,
      mtls: cluster?.mtls ?? false,
    });
    report.opened();
    const fail = (flag: 'NR' | 'UH' | 'UO' | 'UF', why: string) => {
      this.stats.failed++;
      report.flag(flag);
      plane.log.debug({ upstream: `${up.host}:${up.port}`, flag }, why);
      client.destroy();
      report.closed();
    };
    if (!cluster) { fail('NR', 'TCP: no cluster for this upstream'); return; }
    if (!ep) { fail('UH', 'TCP: no healthy endpoint'); return; }
    // connectionPool.tcp.maxConnections: one slot per connection, no queue for TCP.
    const pool = cluster.pool;
    if (pool) {
      const slot = pool.acquire();
      if ('queued' in slot) { slot.cancel(); pool.overflows++; fail('UO', 'TCP: maxConnections reached'); return; }
      if (!slot.granted) { fail('UO', 'TCP: maxConnections reached'); return; }
      client.once('close', () => pool.release());
    }
    let upstream: net.Socket;
    if (cluster.mtls) {
      const secureContext = this.secureContext();
      if (!secureContext) { fail('UF', 'TCP: no workload certificate yet'); return; }
      // Node's tls.connect honours allowHalfOpen (passed to the TLSSocket); its types omit it.
      const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
        host: ep.endpoint.address, port: ep.endpoint.port, secureContext, allowHalfOpen: true,
        servername: tcpSni(cluster.def.port ?? up.port, cluster.def.subset ?? '', cluster.service !== 'unknown' ? cluster.service : up.host),
        checkServerIdentity: checkSpiffe(cluster.allowedSans),
      };
      upstream = tls.connect(options);
    } else {
      upstream = net.connect({ host: ep.endpoint.address, port: ep.endpoint.port, allowHalfOpen: true });
    }
    this.stats.accepted++;
    ep.stats.active++;
    ep.stats.requests++;
    let connected = false;
    const timeoutMs = cluster.def.connectTimeoutMs ?? 0;
    const timer = timeoutMs > 0 ? setTimeout(() => upstream.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ERR_MESH_CONNECT_TIMEOUT' })), timeoutMs) : undefined;
    timer?.unref();
    const onEarlyClose = () => upstream.destroy();
    client.once('close', onEarlyClose);
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (!connected) {
        ep.stats.connectFailures++;
        ep.stats.failures++;
        // Passive health: a connect failure counts as a gateway error, as Envoy's tcp_proxy reports it.
        cluster.outlier?.report(ep, { status: 503, failure: 'connect-failure' });
        report.flag('UF');
        plane.log.debug({ err, code: err.code, endpoint: ep.key }, 'TCP: upstream connect failed');
      }
      upstream.destroy();
    });
    upstream.once('close', () => {
      ep.stats.active--;
      if (!connected) { client.destroy(); report.closed(); }
    });
    upstream.once(cluster.mtls ? 'secureConnect' : 'connect', () => {
      connected = true;
      if (timer) clearTimeout(timer);
      cluster.outlier?.report(ep, { status: 200 });
      client.off('close', onEarlyClose);
      const bytes = { up: 0, down: 0 };
      tunnel(client, upstream, bytes, () => {
        report.received = bytes.up;
        report.sent = bytes.down;
        report.closed();
      });
      client.resume();
    });
  }

  /** Open connections across the upstream listeners (leak checks). */
  async connections(): Promise<number> {
    let n = 0;
    for (const l of this.listeners.values()) {
      n += await new Promise<number>((resolve) => l.server.getConnections((err, c) => resolve(err ? 0 : c)));
    }
    return n;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    this.open.clear();
    await Promise.all([...this.listeners.values()].map((l) => l.close()));
    this.listeners.clear();
  }
}
