// The four ways a request can travel in P1-P3, each started as real processes:
// direct to the app; through our sidecar pair (mTLS, telemetry on, config from the real
// pilot); through the bare Node mTLS pair; through the nginx pair. All share one app process
// and one set of certificates. Every target is reached as `http://127.0.0.1:<port>/` with a
// Host header naming the service (what the app sends under transparent capture).

import http from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/wait.js';
import type { CertFiles } from './certs.js';
import type { BenchEnv, Nats } from './control-plane.js';
import { nginxClientConf, nginxServerConf, startNginx } from './nginx.js';
import { spawnProc, waitPort, waitUntil, type Proc } from './procs.js';
import type { RunnerSpec } from './sidecar-runner.js';

export interface Target {
  name: string;
  port: number;
  host: string;
  /** The processes that make up the proxy pair (CPU and memory are read from these). */
  procs: Proc[];
}

export function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export async function startApp(env: BenchEnv): Promise<Target> {
  const port = await freePort();
  const p = spawnProc('app', process.execPath, [join(env.root, 'dist/bench/src/upstream.js'), String(port), '1024'], { logDir: env.logDir });
  await waitPort(p, port);
  return { name: 'direct', port, host: `127.0.0.1:${port}`, procs: [] };
}

export async function startNodePair(env: BenchEnv, certs: CertFiles, appPort: number, nodeArgs: string[] = []): Promise<Target> {
  const [cPort, sPort] = [await freePort(), await freePort()];
  const entry = join(env.root, 'dist/bench/src/node-pair.js');
  const s = certs.identity('bench');
  const c = certs.identity('bench-client');
  const server = spawnProc('node-pair-server', process.execPath, [...nodeArgs.map((a) => a.replace('%SIDE%', 'server')), entry, 'server', String(sPort), String(appPort), s.key, s.cert, s.roots], { logDir: env.logDir });
  const client = spawnProc('node-pair-client', process.execPath, [...nodeArgs.map((a) => a.replace('%SIDE%', 'client')), entry, 'client', String(cPort), String(sPort), c.key, c.cert, c.roots], { logDir: env.logDir });
  await waitPort(server, sPort);
  await waitPort(client, cPort);
  const t: Target = { name: 'node-pair', port: cPort, host: 'bench:9080', procs: [client, server] };
  await waitUntil(async () => (await get(t.port, t.host)).status === 200, 'the bare Node pair to forward', 15_000);
  return t;
}

export async function startNginxPair(env: BenchEnv, certs: CertFiles, appPort: number): Promise<Target> {
  const [cPort, sPort] = [await freePort(), await freePort()];
  const dir = join(env.work, 'nginx');
  mkdirSync(dir, { recursive: true });
  const s = certs.identity('bench');
  const c = certs.identity('bench-client');
  const server = await startNginx('nginx-server', nginxServerConf(dir, sPort, appPort, { key: s.key, cert: s.cert, roots: s.roots, dnsName: s.dnsName }), dir, sPort, env.logDir);
  const client = await startNginx('nginx-client', nginxClientConf(dir, cPort, sPort, { key: c.key, cert: c.cert, roots: c.roots, dnsName: s.dnsName }), dir, cPort, env.logDir);
  const t: Target = { name: 'nginx-pair', port: cPort, host: 'bench:9080', procs: [client, server] };
  await waitUntil(async () => (await get(t.port, t.host)).status === 200, 'the nginx pair to forward', 15_000);
  return t;
}

export interface OurPairOptions {
  /** Service name the server workload backs (`bench`); the client sends Host `<service>:9080`. */
  service: string;
  telemetry: boolean;
  /** Extra node flags (--cpu-prof ...); `%SIDE%` becomes `client` or `server`. */
  nodeArgs?: string[];
  label?: string;
}

export async function startOurPair(env: BenchEnv, nats: Nats, certs: CertFiles, appPort: number, o: OurPairOptions): Promise<Target> {
  const entry = join(env.root, 'dist/bench/src/sidecar-runner.js');
  const s = certs.identity('bench');
  const c = certs.identity('bench-client');
  const mk = async (side: 'client' | 'server', workload: string, sa: string, services: string[], appPorts: string, files: typeof s): Promise<{ spec: RunnerSpec; proc: Proc }> => {
    const spec: RunnerSpec = {
      workload, serviceAccount: sa, labels: { app: workload.replace(/-v1$/, ''), version: 'v1' }, services, appPorts,
      inboundPort: await freePort(), outboundPort: await freePort(), adminPort: await freePort(),
      telemetry: o.telemetry, key: files.key, cert: files.cert, roots: files.roots,
    };
    const proc = spawnProc(`sidecar-${workload}`, process.execPath, ['--expose-gc', ...(o.nodeArgs ?? []).map((a) => a.replace('%SIDE%', side)), entry], {
      env: { MESH_NATS_URL: nats.url, BENCH_SIDECAR: JSON.stringify(spec) }, logDir: env.logDir, cwd: env.root, ipc: true,
    });
    return { spec, proc };
  };
  const server = await mk('server', `${o.service}-v1`, 'bench', [o.service], `http:9080:${appPort}`, s);
  const client = await mk('client', `${o.service}-client-v1`, 'bench-client', [], '', c);
  await waitPort(server.proc, server.spec.inboundPort);
  await waitPort(client.proc, client.spec.outboundPort);
  const t: Target = { name: o.label ?? (o.telemetry ? 'our-pair' : 'our-pair-telemetry-off'), port: client.spec.outboundPort, host: `${o.service}:9080`, procs: [client.proc, server.proc] };
  // Ready when pilot has pushed both proxies config that routes the service to the server.
  await waitUntil(async () => (await get(t.port, t.host)).status === 200, `our sidecar pair for ${o.service} to route`, 30_000, 100);
  return t;
}
