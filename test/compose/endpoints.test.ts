// Endpoints from Docker, live on the real engine: pilot (in process, its Docker registry on
// the engine's socket) and a client sidecar (in process, pushed by that pilot) in front of
// labelled containers, each running a tiny mTLS server on the inbound port with a test-CA
// certificate for its service account (what a sidecar would present).
//   - a second labelled container gets traffic without any config change. Scaling in our
//     compose model: a workload is an app container plus a sidecar with `network_mode:
//     service:<app>`, and compose attaches that sidecar to one app container only, so
//     `docker compose up --scale reviews-v1=2` would add an app container without a proxy. What
//     a user does instead is add a second pair (app `reviews-v1-b` with the same mesh.* and app
//     labels, and its own `-proxy`) or `docker run` one; pilot sees one more instance of the
//     workload (proxy id `<workload>-<hostname>`), which is what this test starts;
//   - a stopped container leaves pilot's registry and the client's /clusters through Docker
//     events (the figure is printed; no resync happened);
//   - a container whose Docker healthcheck is not healthy gets no traffic, and does once it is.
// Skips unless `docker info` answers and the image exists (`npm run compose:offline`). Uses its
// own network and container names (project meshep<random>); removes them at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connectBus, createLogger, spiffeId, subjects, type Bus, type ConfigSnapshot } from '#api';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';
import { createTestCa, issueLeaf, type TestCa } from '../support/certs.js';
import { startPilot, type Pilot } from '../../pilot/src/pilot.js';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import type { WorkloadSpec } from '../../sidecar/src/workload.js';

const image = process.env.MESH_IMAGE ?? 'compose-mesh:latest';
const run = promisify(execFile);

function works(cmd: string, args: string[]): boolean {
  try { execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 }); return true; } catch { return false; }
}
const skip = !works('docker', ['info']) ? 'no Docker engine answers `docker info`'
  : !works('docker', ['image', 'inspect', image]) ? `image ${image} is missing (npm run compose:offline builds it)` : false;

const log = createLogger('endpoints-test', 'silent');
const project = `meshep${randomBytes(3).toString('hex')}`;
const network = `${project}_mesh`;
const service = `${project}-reviews`;
const host = `${service}.default.svc.cluster.local`;
const sa = `${project}-sa`;
// Unique, so another mesh's pilot on this engine mixes nothing of ours into its own workloads.
const workload = `${project}-reviews-v1`;

let nats: NatsServer;
let ca: TestCa;
let pilot: Pilot;
let pilotUrl: string;
const buses: Bus[] = [];
let client: Sidecar;
let certDir: string;
const containers: string[] = [];

// The inbound side of a workload: mTLS with the mesh CA (client certificate required), answers
// with the container's hostname. A marker file makes the Docker healthcheck pass.
const SERVER = `
const https = require('https'), fs = require('fs'), os = require('os');
const o = { key: fs.readFileSync('/certs/key.pem'), cert: fs.readFileSync('/certs/cert.pem'), ca: fs.readFileSync('/certs/ca.pem'), requestCert: true, rejectUnauthorized: true };
https.createServer(o, (q, s) => s.end(os.hostname())).listen(15006, '0.0.0.0', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
`;

async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args, { timeout: 60_000 })).stdout.trim();
}

/** `docker run` of one replica of the workload, labelled as compose labels app containers. */
async function runReplica(name: string, opts: { healthcheck?: boolean; healthyAtStart?: boolean } = {}): Promise<{ id: string; hostname: string }> {
  const full = `${project}-${name}`;
  containers.push(full);
  const health = opts.healthcheck
    ? ['--health-cmd', 'test -f /tmp/healthy', '--health-interval', '1s', '--health-retries', '1', '--health-timeout', '2s']
    : [];
  const start = opts.healthyAtStart === false ? '' : 'touch /tmp/healthy; ';
  const id = await docker('run', '-d', '--name', full, '--network', network, '-v', `${certDir}:/certs:ro`,
    '--label', `mesh.workload=${workload}`, '--label', `mesh.service=${service}`, '--label', 'mesh.ports=http:9080',
    '--label', `mesh.serviceaccount=${sa}`, '--label', 'mesh.namespace=default', '--label', `app=${service}`, '--label', 'version=v1',
    '--label', `com.docker.compose.project=${project}`, '--label', 'com.docker.compose.service=reviews-v1',
    ...health, image, 'sh', '-c', `${start}exec node -e "$0"`, SERVER);
  return { id, hostname: id.slice(0, 12) };
}

interface ClusterView { name: string; endpoints: { address: string; healthy: boolean }[] }

async function clientEndpoints(): Promise<string[]> {
  const body = await (await fetch(`http://127.0.0.1:${client.ports.admin}/clusters`)).json() as { clusters: ClusterView[] };
  return body.clusters.find((c) => c.name === `outbound|9080||${host}`)?.endpoints.map((e) => e.address).sort() ?? [];
}

interface RegistryView { registries: { name: string; resyncs?: number; events?: number }[]; instances: { service: string; address: string; healthy: boolean; proxyId?: string }[] }

async function registry(): Promise<RegistryView> {
  return (await fetch(`${pilotUrl}/debug/registryz`)).json() as Promise<RegistryView>;
}

async function ipOf(id: string): Promise<string> {
  return docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, id);
}

/** A request as an app behind the client sidecar sends it; resolves with who answered. */
function call(): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: client.ports.outbound!, path: `http://${service}:9080/`, headers: { host: `${service}:9080` }, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function answeredBy(n: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await call();
    assert.equal(r.status, 200, r.body);
    seen.set(r.body, (seen.get(r.body) ?? 0) + 1);
  }
  return seen;
}

before(async () => {
  if (skip) return;
  certDir = mkdtempSync(join(tmpdir(), 'mesh-ep-certs-'));
  ca = createTestCa();
  const leaf = issueLeaf(ca, spiffeId('default', sa));
  writeFileSync(join(certDir, 'key.pem'), leaf.keyPem);
  writeFileSync(join(certDir, 'cert.pem'), leaf.certChainPem);
  writeFileSync(join(certDir, 'ca.pem'), ca.certPem);
  // The container's node runs as the image's user; the folder is a throwaway test CA's.
  chmodSync(certDir, 0o755);
  for (const f of ['key.pem', 'cert.pem', 'ca.pem']) chmodSync(join(certDir, f), 0o644);
  await docker('network', 'create', '--label', `com.docker.compose.project=${project}`, network);

  nats = await startNats();
  const galley = await connectBus({ servers: nats.url, name: 'fake galley', log });
  buses.push(galley);
  const snapshot: ConfigSnapshot = { version: 'ep-1', publishedAt: new Date().toISOString(), resources: [] };
  galley.subscribe(subjects.configSnapshotGet, (m) => m.respond(snapshot));
  await galley.flush();
  const pilotBus = await connectBus({ servers: nats.url, name: 'pilot', log });
  buses.push(pilotBus);
  pilot = await startPilot({
    registries: ['docker'], dockerSocket: '/var/run/docker.sock', dockerNetwork: network,
    pushDebounceMs: 20, pushDebounceMaxMs: 500, proxyExpiryMs: 120_000,
  }, { bus: pilotBus, log });
  await pilot.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = pilot.app.server.address();
  pilotUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  const id = spiffeId('default', 'sleep');
  const w: WorkloadSpec = {
    kind: 'sidecar', proxyId: `sleep-${project}.default`, name: 'sleep', namespace: 'default', serviceAccount: 'sleep',
    labels: { app: 'sleep' }, services: [], ports: [], gatewayPortMap: new Map(), spiffeId: id,
    peer: { workload: 'sleep', namespace: 'default', app: 'sleep', version: 'v1', principal: id },
  };
  const clientBus = await connectBus({ servers: nats.url, name: w.proxyId, log });
  buses.push(clientBus);
  client = await startSidecar({
    workload: w, bus: clientBus, identity: staticIdentity(issueLeaf(ca, id)), log,
    inbound: { bind: '127.0.0.1', port: 0, advertise: '127.0.0.1' }, outbound: { bind: '127.0.0.1', port: 0 },
    adminPort: 0, gatewayBind: '127.0.0.1', register: false, heartbeatMs: 5_000, reportBatchMs: 200, reportBuffer: 100,
  });
});

after(async () => {
  if (skip) return;
  await client?.stop();
  await pilot?.stop();
  for (const b of buses) await b.close();
  await nats?.stop();
  if (containers.length) await run('docker', ['rm', '-f', ...containers], { timeout: 60_000 }).catch(() => {});
  await run('docker', ['network', 'rm', network], { timeout: 60_000 }).catch(() => {});
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

let first: { id: string; hostname: string; ip: string };
let second: { id: string; hostname: string; ip: string };

test('a second labelled container of the workload (a scaled-out replica) gets traffic without any config change', { skip }, async (t) => {
  const a = await runReplica('reviews-v1-1');
  first = { ...a, ip: await ipOf(a.id) };
  await waitFor(async () => (await clientEndpoints()).includes(first.ip), { timeoutMs: 60_000, what: 'the first replica in the client\'s /clusters' });
  // The server inside may still be loading on a busy machine.
  await waitFor(async () => (await call().catch(() => ({ status: 0, body: '' }))).status === 200, { timeoutMs: 60_000, intervalMs: 250, what: 'the first replica answering' });
  const configBefore = (await (await fetch(`${pilotUrl}/debug/configz`)).json() as { version: string }).version;
  const b = await runReplica('reviews-v1-2');
  second = { ...b, ip: await ipOf(b.id) };
  const t0 = Date.now();
  await waitFor(async () => (await clientEndpoints()).length === 2, { timeoutMs: 60_000, what: 'two endpoints in the client\'s /clusters' });
  t.diagnostic(`second replica in the client's /clusters ${Date.now() - t0} ms after docker run returned`);
  const seen = await waitFor(async () => {
    const s = await answeredBy(20).catch(() => undefined);
    return s && s.size === 2 ? s : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500, what: 'both replicas answering' });
  t.diagnostic(`20 requests: ${JSON.stringify(Object.fromEntries(seen))}`);
  assert.deepEqual([...seen.keys()].sort(), [first.hostname, second.hostname].sort());
  const configAfter = (await (await fetch(`${pilotUrl}/debug/configz`)).json() as { version: string }).version;
  assert.equal(configAfter, configBefore, 'no config change');
  const instances = (await registry()).instances.filter((i) => i.service === host);
  assert.deepEqual(instances.map((i) => i.proxyId).sort(), [`${workload}-${first.hostname}.default`, `${workload}-${second.hostname}.default`].sort());
});

test('a stopped container leaves pilot\'s registry and the client\'s /clusters through Docker events', { skip }, async (t) => {
  assert.ok(first && second, 'the scale test ran');
  const before = (await registry()).registries.find((r) => r.name === 'docker')!;
  const since = Math.floor(Date.now() / 1000) - 1;
  const stop = run('docker', ['stop', '-t', '5', first.id], { timeout: 60_000 });
  let goneFromRegistry: number | undefined;
  let goneFromClient: number | undefined;
  await waitFor(async () => {
    const [reg, eps] = await Promise.all([registry(), clientEndpoints()]);
    const now = Date.now();
    if (goneFromRegistry === undefined && !reg.instances.some((i) => i.address === first.ip && i.service === host)) goneFromRegistry = now;
    if (goneFromClient === undefined && !eps.includes(first.ip)) goneFromClient = now;
    return goneFromRegistry !== undefined && goneFromClient !== undefined;
  }, { timeoutMs: 30_000, intervalMs: 5, what: 'the stopped replica gone' });
  await stop;
  // The engine's own times of the container's events (kill = the stop began, die = it exited).
  const until = Math.ceil(Date.now() / 1000);
  const lines = await docker('events', '--since', String(since), '--until', String(until), '--filter', `container=${first.id}`, '--format', '{{.Action}} {{.TimeNano}}');
  const at = (action: string) => {
    const line = lines.split('\n').find((l) => l.startsWith(`${action} `));
    return line ? Number(BigInt(line.split(' ')[1]!) / 1_000_000n) : undefined;
  };
  const killMs = at('kill');
  const dieMs = at('die');
  assert.ok(killMs !== undefined && dieMs !== undefined, lines);
  t.diagnostic(`docker stop: kill event -> gone from pilot's registry ${goneFromRegistry! - killMs} ms, from the client's /clusters ${goneFromClient! - killMs} ms; ` +
    `the container exited (die) ${dieMs - killMs} ms after the kill (goal: gone within 1 s of stop/die)`);
  // Issue 4 asks 1 s; the bound is a regression bound for a loaded machine.
  assert.ok(goneFromClient! - killMs <= 5_000, `gone from the client ${goneFromClient! - killMs} ms after the stop began`);
  assert.ok(goneFromClient! - dieMs <= 5_000, `gone from the client ${goneFromClient! - dieMs} ms after the container exited`);
  const afterStop = (await registry()).registries.find((r) => r.name === 'docker')!;
  assert.equal(afterStop.resyncs, before.resyncs, 'no resync: the change came from the event stream');
  assert.ok((afterStop.events ?? 0) > (before.events ?? 0), 'events were applied');
  const seen = await answeredBy(10);
  assert.deepEqual([...seen.keys()], [second.hostname], 'traffic goes to the running replica only');
});

test('a container whose Docker healthcheck is not healthy gets no traffic; once healthy it does', { skip }, async (t) => {
  assert.ok(second, 'the scale test ran');
  const c = await runReplica('reviews-v1-3', { healthcheck: true, healthyAtStart: false });
  const ip = await ipOf(c.id);
  // Pilot sees the container (it started) but not as healthy.
  const inst = await waitFor(async () => (await registry()).instances.find((i) => i.address === ip && i.service === host), { timeoutMs: 60_000, what: 'the unhealthy replica in the registry' });
  assert.equal(inst.healthy, false);
  assert.ok(!(await clientEndpoints()).includes(ip), 'not in the client\'s endpoints');
  // Wait until the server inside listens (it would answer if it were sent traffic), then check none goes there.
  await waitFor(async () => (await docker('logs', c.id)).includes('listening'), { timeoutMs: 60_000, intervalMs: 250, what: 'the unhealthy replica listening' });
  const seen = await answeredBy(10);
  assert.ok(!seen.has(c.hostname), 'no traffic to the unhealthy replica');
  await docker('exec', c.id, 'touch', '/tmp/healthy');
  const t0 = Date.now();
  await waitFor(async () => (await clientEndpoints()).includes(ip), { timeoutMs: 60_000, what: 'the healthy replica in the client\'s endpoints' });
  t.diagnostic(`healthy replica in the client's /clusters ${Date.now() - t0} ms after the marker file (healthcheck interval 1 s)`);
  const reached = await waitFor(async () => { const s = await answeredBy(20); return s.has(c.hostname) ? s : undefined; }, { timeoutMs: 30_000, what: 'traffic to the healthy replica' });
  assert.ok(reached.get(c.hostname)! > 0);
  // Unhealthy again: out of the endpoints.
  await docker('exec', c.id, 'rm', '/tmp/healthy');
  await waitFor(async () => !(await clientEndpoints()).includes(ip), { timeoutMs: 60_000, what: 'the replica gone once unhealthy' });
  assert.equal((await registry()).instances.find((i) => i.address === ip && i.service === host)?.healthy, false);
});
