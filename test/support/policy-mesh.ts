// A small live mesh for mixer tests: a real nats-server, real sidecars with mTLS certificates
// from a test CA, tiny apps behind them, a fake pilot pushing a config that routes every
// service on 9080 to its sidecar, a fake galley serving snapshots, and mixer as a real process
// (so tests can kill it).
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  clusterName, connectBus, createLogger, fqdn, hostAliases, spiffeId, subjects,
  type Bus, type ConfigAck, type ConfigPush, type ConfigSnapshot, type ProxyConfig, type Resource,
} from '#api';
import { startNats, type NatsServer } from './nats.js';
import { freePort, waitFor } from './wait.js';
import { createTestCa, issueLeaf, type TestCa } from './certs.js';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import { parseAppPorts, type WorkloadSpec } from '../../sidecar/src/workload.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const log = createLogger('policy-mesh', (process.env.MESH_TEST_LOG as 'debug' | undefined) ?? 'silent');

export interface App { server: http.Server; port: number; hits: number }

/** Answers `{workload, url}`; `/chain/<service>` calls that service through `outbound` first,
 *  forwarding x-request-id as Bookinfo's apps do. */
export async function startApp(name: string, outbound?: () => number | undefined): Promise<App> {
  const app: App = { server: http.createServer(), port: 0, hits: 0 };
  app.server.on('request', (req, res) => {
    app.hits++;
    const reply = (status: number, body: string) => { res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); };
    const m = /^\/chain\/([a-z]+)/.exec(req.url ?? '');
    const port = outbound?.();
    if (m && port) {
      const hdr: Record<string, string> = {};
      if (typeof req.headers['x-request-id'] === 'string') hdr['x-request-id'] = req.headers['x-request-id'];
      const up = http.request({ host: '127.0.0.1', port, path: `http://${m[1]}:9080/leaf`, headers: hdr, agent: false }, (r) => {
        r.resume();
        r.on('end', () => reply(200, JSON.stringify({ workload: name, upstream: r.statusCode })));
      });
      up.on('error', () => reply(502, '{}'));
      up.end();
      return;
    }
    reply(200, JSON.stringify({ workload: name, url: req.url }));
  });
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
  app.port = (app.server.address() as AddressInfo).port;
  return app;
}

export interface MeshWorkload {
  name: string;
  sa: string;
  labels: Record<string, string>;
  /** The service it backs (absent: a client only). */
  service?: string;
  failOpen?: boolean;
}

export interface Member { w: MeshWorkload; sidecar: Sidecar; app?: App; /** Rotate its certificate (tests of rotation). */ identity: ReturnType<typeof staticIdentity> }

export interface SendResult { status: number; body: string }

export function send(port: number, url: string, headers: Record<string, string> = {}): Promise<SendResult> {
  return new Promise((resolveP, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: url, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveP({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface MixerProcess {
  apiUrl: string;
  metricsUrl: string;
  proc: ChildProcess;
  stdout: string[];
  kill(): Promise<void>;
}

export class PolicyMesh {
  nats!: NatsServer;
  ca!: TestCa;
  control!: Bus;
  readonly members = new Map<string, Member>();
  private readonly buses: Bus[] = [];
  private snapshot: ConfigSnapshot = { version: 'empty', publishedAt: new Date().toISOString(), resources: [] };
  private nonce = 0;
  private readonly acks: ConfigAck[] = [];
  mixer?: MixerProcess;

  async start(): Promise<void> {
    this.nats = await startNats();
    this.ca = createTestCa();
    this.control = await connectBus({ servers: this.nats.url, name: 'fake pilot and galley', log });
    this.control.subscribe(subjects.proxyAnnounce, (m) => m.respond({ ok: true }));
    this.control.subscribe<ConfigAck>(subjects.proxyAck, (m) => { this.acks.push(m.data); });
    this.control.subscribe(subjects.configSnapshotGet, (m) => m.respond(this.snapshot));
    await this.control.flush();
  }

  /** Plays galley: publishes a new snapshot (and answers requests with it from now on). */
  publishConfig(resources: Resource[], version: string): void {
    this.snapshot = { version, publishedAt: new Date().toISOString(), resources };
    this.control.publish(subjects.configSnapshot, this.snapshot);
  }

  async startMixer(env: Record<string, string> = {}): Promise<MixerProcess> {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const proc = spawn(process.execPath, [resolve(root, 'dist/mixer/src/main.js')], {
      env: { ...process.env, MESH_NATS_URL: this.nats.url, MESH_MIXER_PORT: String(port), MESH_MIXER_METRICS_PORT: String(metricsPort), MESH_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: string[] = [];
    let partial = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      stdout.push(...lines);
    });
    proc.stderr!.resume();
    const m: MixerProcess = {
      apiUrl: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, proc, stdout,
      async kill() {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      },
    };
    await waitFor(async () => (await fetch(`${m.apiUrl}/ready`)).status === 200, { timeoutMs: 20_000, what: 'mixer ready' });
    this.mixer = m;
    return m;
  }

  /** Waits until mixer serves the given config version. */
  async mixerAt(version: string): Promise<void> {
    await waitFor(async () => ((await (await fetch(`${this.mixer!.apiUrl}/debug/configz`)).json()) as { version: string }).version === version, { timeoutMs: 10_000, what: `mixer at config ${version}` });
  }

  async add(w: MeshWorkload): Promise<Member> {
    const outbound = () => this.members.get(w.name)?.sidecar.ports.outbound;
    const app = w.service ? await startApp(w.name, outbound) : undefined;
    const bus = await connectBus({ servers: this.nats.url, name: w.name, log });
    this.buses.push(bus);
    const id = spiffeId('default', w.sa);
    const workload: WorkloadSpec = {
      kind: 'sidecar', proxyId: `${w.name}-test1.default`, name: w.name, namespace: 'default', serviceAccount: w.sa, labels: w.labels,
      services: w.service ? [w.service] : [], ports: parseAppPorts(app ? `http:9080:${app.port}` : ''), gatewayPortMap: new Map(), spiffeId: id,
      peer: { workload: w.name, namespace: 'default', app: w.labels.app ?? w.name, version: w.labels.version ?? 'unknown', principal: id },
    };
    const identity = staticIdentity(issueLeaf(this.ca, id));
    const sidecar = await startSidecar({
      workload, bus, identity, log,
      inbound: { bind: '127.0.0.1', port: 0, advertise: '127.0.0.1' },
      outbound: { bind: '127.0.0.1', port: 0 },
      gatewayBind: '127.0.0.1', register: true, heartbeatMs: 60_000, reportBatchMs: 20, reportBuffer: 1000,
      policy: { failOpen: w.failOpen ?? false, timeoutMs: 1000, cacheSize: 1000, retryAfterMs: 200, clientSide: false },
    });
    const m: Member = { w, sidecar, identity, ...(app ? { app } : {}) };
    this.members.set(w.name, m);
    return m;
  }

  /** Plays pilot: every member gets routes to every service on 9080. */
  async pushRoutes(): Promise<void> {
    const servers = [...this.members.values()].filter((m) => m.w.service);
    for (const m of this.members.values()) {
      const proxyId = m.sidecar.plane.workload.proxyId;
      const config: ProxyConfig = {
        node: { id: proxyId, kind: 'sidecar', workload: m.w.name, namespace: 'default', serviceAccount: m.w.sa, labels: m.w.labels },
        listeners: [{ name: 'virtualOutbound', kind: 'outbound', port: 15001, protocol: 'HTTP' }],
        routes: [{
          name: '9080',
          virtualHosts: servers.map((s) => {
            const host = fqdn(s.w.service!, 'default');
            return { name: `${host}:9080`, domains: hostAliases(host, 9080), routes: [{ name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'route' as const, clusters: [{ name: clusterName('outbound', 9080, '', host), weight: 100 }] } }] };
          }),
        }],
        clusters: servers.map((s) => ({
          name: clusterName('outbound', 9080, '', fqdn(s.w.service!, 'default')), type: 'EDS' as const, service: fqdn(s.w.service!, 'default'), port: 9080,
          protocol: 'HTTP' as const, lbPolicy: 'ROUND_ROBIN' as const, connectTimeoutMs: 1000, tls: { mode: 'ISTIO_MUTUAL' as const, subjectAltNames: [spiffeId('default', s.w.sa)] },
        })),
        endpoints: servers.map((s) => ({
          cluster: clusterName('outbound', 9080, '', fqdn(s.w.service!, 'default')),
          endpoints: [{ address: '127.0.0.1', port: s.sidecar.ports.inbound!, healthy: true, labels: s.w.labels, workload: s.w.name, identity: spiffeId('default', s.w.sa) }],
        })),
        outboundTrafficPolicy: 'ALLOW_ANY',
      };
      const n = `n${++this.nonce}`;
      this.control.publish(subjects.proxyConfig(proxyId), { proxyId, version: `v${this.nonce}`, nonce: n, sentAt: new Date().toISOString(), config } satisfies ConfigPush);
      const ack = await waitFor(() => this.acks.find((a) => a.nonce === n), { what: `ack from ${m.w.name}` });
      if (!ack.ok) throw new Error(`${m.w.name} NACKed: ${ack.error}`);
    }
  }

  /** A request from `from`'s app through its sidecar to `service`. */
  call(from: string, service: string, path = '/', headers: Record<string, string> = {}): Promise<SendResult> {
    return send(this.members.get(from)!.sidecar.ports.outbound!, `http://${service}:9080${path}`, headers);
  }

  sidecar(name: string): Sidecar {
    return this.members.get(name)!.sidecar;
  }

  async stop(): Promise<void> {
    await this.mixer?.kill();
    for (const m of this.members.values()) {
      await m.sidecar.stop();
      if (m.app) {
        m.app.server.closeAllConnections();
        await new Promise((r) => m.app!.server.close(r));
      }
    }
    for (const b of this.buses) await b.close();
    await this.control?.close();
    await this.nats?.stop();
  }
}

export async function metricsText(url: string): Promise<string> {
  return (await fetch(url)).text();
}

/** Sum of a metric's samples whose labels include `match`. */
export function metricSum(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    if (Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
