// The mesh on a single-node Docker Swarm: `bash compose/swarm-deploy.sh mesh-swarm-test` (a stack
// deploy of compose/compose.yaml + compose/swarm.yaml) with the image compose-mesh:latest:
//   (a) every proxy SYNCED; pilot reads the Swarm's tasks (registry `swarm`); the NATS servers
//       form one cluster of three
//   (b) the gateway serves /productpage; reviews v1, v2 and v3 all appear
//   (c) `docker service scale` a workload up and down: endpoints are added and removed, with
//       no config change (galley's version stays)
//   (d) kill the NATS server pilot is connected to while requests flow: none fails, and a
//       VirtualService saved afterwards still reaches every proxy (every page red)
// Then the stack is removed (with its volumes) and the engine leaves the Swarm if this test
// made it join. Skips unless `docker info` answers and the image exists; MESH_SKIP_SWARM=1
// skips. Logs of the stack's containers go to test/artifacts/swarm-stack/ after a failure.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '../support/wait.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
// compose.yaml + compose/swarm.yaml, through the script that makes compose.yaml palatable to the stack loader.
const deployScript = join(repoRoot, 'compose', 'swarm-deploy.sh');
const artifactsDir = join(repoRoot, 'test', 'artifacts', 'swarm-stack');
const image = process.env.MESH_IMAGE ?? 'compose-mesh:latest';
const stack = 'mesh-swarm-test';

const expectedWorkloads = [
  'istio-ingressgateway', 'productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3',
  'ratings-v1', 'httpbin-v1', 'httpbin-v2', 'sleep',
];

function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

function swarmState(): string {
  try {
    return execFileSync('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'], { encoding: 'utf8', timeout: 20_000 }).trim();
  } catch {
    return 'unknown';
  }
}

/** Compose projects of a mesh running on this engine ('' if none): their pilots read every
 *  container labelled mesh.workload, so this stack's tasks would mix into their mesh. */
function otherMeshProjects(): string {
  try {
    const out = execFileSync('docker', ['ps', '--filter', 'label=mesh.workload', '--format', '{{.Label "com.docker.compose.project"}}|{{.Label "com.docker.stack.namespace"}}'], { encoding: 'utf8', timeout: 20_000 });
    const rows = out.split('\n').filter((l) => l.includes('|')).map((l) => l.split('|')[0]!.trim() || l.split('|')[1]!.trim() || '(not compose)');
    return [...new Set(rows)].join(', ');
  } catch {
    return '';
  }
}

const skipReason = process.env.MESH_SKIP_SWARM === '1'
  ? 'MESH_SKIP_SWARM=1'
  : !runs('docker', ['info'])
    ? 'no Docker engine answers `docker info` (bash compose/ensure-docker.sh starts one)'
    : !runs('docker', ['image', 'inspect', image])
      ? `image ${image} is missing (npm run compose:offline builds it)`
      : !runs('docker', ['stack', '--help'])
        ? 'this docker CLI has no `docker stack`'
        : !['inactive', 'active'].includes(swarmState())
          ? `the engine's Swarm state is ${swarmState()} (neither inactive nor an active node)`
          : otherMeshProjects()
            ? `another mesh runs on this Docker engine (${otherMeshProjects()}); its pilot would read this stack's containers`
            : false;

function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

interface HttpAnswer { status: number; body: string }

function httpGet(url: string, timeoutMs = 5000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on('error', reject);
  });
}

async function getJson<T>(url: string): Promise<T> {
  const r = await httpGet(url);
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as T;
}

function reviewsVersionOf(html: string): string {
  if (!/Book Reviews/.test(html) || /reviews are currently unavailable/i.test(html)) return 'unavailable';
  if (/ratings (service )?(is|are) currently unavailable/i.test(html)) return 'ratings-unavailable';
  if (/<font color=["']?red/i.test(html)) return 'v3';
  if (/<font color=["']?black/i.test(html)) return 'v2';
  return 'v1';
}

interface SyncEntry { proxy: string; workload: string; kind: string; status: string; version?: string; ackedVersion?: string }
interface Registryz {
  registries: { name: string; connected?: boolean }[];
  instances: { workload?: string; address: string; service: string }[];
}

describe('swarm stack', { skip: skipReason, timeout: 20 * 60_000 }, () => {
  const configDir = mkdtempSync(join(tmpdir(), 'mesh-swarm-config-'));
  const hostPorts: Record<string, number> = {};
  let env: NodeJS.ProcessEnv = process.env;
  let joinedSwarm = false;
  let failed = false;

  const url = (port: string, path: string) => `http://127.0.0.1:${hostPorts[port]}${path}`;
  const step = (name: string, fn: (t: TestContext) => Promise<void>) => test(name, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  const syncz = async () => getJson<SyncEntry[]>(url('PILOT', '/debug/syncz'));
  const allSynced = (entries: SyncEntry[]) => {
    const synced = new Set(entries.filter((e) => e.status === 'SYNCED').map((e) => e.workload));
    return expectedWorkloads.every((w) => synced.has(w));
  };
  const endpointsOf = async (workload: string) =>
    (await getJson<Registryz>(url('PILOT', '/debug/registryz'))).instances.filter((i) => i.workload === workload).map((i) => i.address).sort();

  async function productPage(): Promise<{ version: string; status: number }> {
    const answer = await httpGet(url('GATEWAY', '/productpage'), 10_000);
    return { status: answer.status, version: answer.status === 200 ? reviewsVersionOf(answer.body) : 'unavailable' };
  }

  async function containersOf(service: string): Promise<string[]> {
    const out = await exec('docker', ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack}_${service}`]);
    return out.trim().split('\n').filter(Boolean);
  }

  /** Connection names on one NATS server, asked from inside the mesh network (monitor port 8222). */
  async function natsClients(server: string): Promise<string[]> {
    const [probe] = await containersOf('nats');
    if (!probe) throw new Error('no nats container to ask from');
    const out = await exec('docker', ['exec', probe, 'node', '-e',
      `fetch('http://${server}:8222/connz?limit=1024').then(r => r.json()).then(j => console.log(JSON.stringify((j.connections ?? []).map(c => c.name ?? ''))))`]);
    return JSON.parse(out.trim()) as string[];
  }

  async function writeLogs(): Promise<void> {
    let ids: string[] = [];
    try {
      ids = (await exec('docker', ['ps', '-a', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`])).trim().split('\n').filter(Boolean);
    } catch { return; }
    mkdirSync(artifactsDir, { recursive: true });
    for (const id of ids) {
      const name = (await exec('docker', ['inspect', '-f', '{{.Name}}', id]).catch(() => id)).trim().replace(/^\//, '');
      const logs = await new Promise<string>((resolve) => {
        execFile('docker', ['logs', '--timestamps', id], { maxBuffer: 64 << 20 }, (_e, out, err) => resolve(`${out}${err}`));
      });
      writeFileSync(join(artifactsDir, `${name}.log`), logs);
    }
  }

  before(async () => {
    if (swarmState() === 'inactive') {
      await exec('docker', ['swarm', 'init']);
      joinedSwarm = true;
    }
    cpSync(join(repoRoot, 'compose', 'config'), configDir, { recursive: true });
    for (const p of ['NATS', 'NATS_MONITOR', 'GATEWAY', 'GALLEY', 'PILOT', 'CITADEL', 'MIXER', 'MIXER_METRICS', 'CONSOLE']) hostPorts[p] = await freePort();
    env = { ...process.env, MESH_IMAGE: image, MESH_CONFIG_HOST_DIR: configDir };
    for (const [p, port] of Object.entries(hostPorts)) env[`MESH_${p}_HOST_PORT`] = String(port);
    const t0 = Date.now();
    try {
      await exec('bash', [deployScript, stack], { env, timeoutMs: 300_000 });
      for (const [component, port] of [['galley', 'GALLEY'], ['pilot', 'PILOT'], ['citadel', 'CITADEL']] as const) {
        await waitFor(async () => (await httpGet(url(port, '/ready'))).status === 200, { timeoutMs: 240_000, intervalMs: 500, what: `${component} /ready` });
      }
      await waitFor(async () => allSynced(await syncz()), { timeoutMs: 240_000, intervalMs: 500, what: `every proxy SYNCED in pilot /debug/syncz (${expectedWorkloads.join(', ')})` });
      console.log(`# swarm stack: deployed and every proxy SYNCED in ${Date.now() - t0} ms`);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  after(async () => {
    if (failed || process.env.MESH_SWARM_KEEP_LOGS) await writeLogs().catch(() => {});
    await exec('docker', ['stack', 'rm', stack]).catch((err: Error) => console.error(`stack rm failed: ${err.message}`));
    // stack rm returns at once; volumes and the Swarm can go only when the containers have.
    await waitFor(async () => (await exec('docker', ['ps', '-a', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`])).trim() === '',
      { timeoutMs: 120_000, intervalMs: 500, what: `the containers of stack ${stack} gone` }).catch((err: Error) => console.error(err.message));
    await waitFor(async () => (await exec('docker', ['network', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`])).trim() === '',
      { timeoutMs: 60_000, intervalMs: 500, what: `the networks of stack ${stack} gone` }).catch((err: Error) => console.error(err.message));
    const volumes = (await exec('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${stack}`]).catch(() => '')).trim().split('\n').filter(Boolean);
    if (volumes.length > 0) await exec('docker', ['volume', 'rm', ...volumes]).catch((err: Error) => console.error(`volume rm failed: ${err.message}`));
    if (joinedSwarm) await exec('docker', ['swarm', 'leave', '--force']).catch((err: Error) => console.error(`swarm leave failed: ${err.message}`));
    else console.log('# the engine was a Swarm node before this test: it stays one');
    rmSync(configDir, { recursive: true, force: true });
  });

  step('(a) every proxy is SYNCED; pilot reads Swarm tasks; NATS is one cluster of three', async (t) => {
    const entries = await syncz();
    for (const w of expectedWorkloads) {
      const e = entries.find((x) => x.workload === w);
      assert.ok(e, `pilot knows no proxy of ${w}`);
      assert.equal(e.status, 'SYNCED', `${w}: ${e.status}`);
    }
    const reg = await getJson<Registryz>(url('PILOT', '/debug/registryz'));
    assert.deepEqual(reg.registries.filter((r) => r.name === 'swarm').map((r) => r.connected), [true], `registries: ${JSON.stringify(reg.registries)}`);
    assert.equal(reg.registries.some((r) => r.name === 'docker'), false);
    // Endpoints are task addresses on the stack's overlay network, one per workload service.
    for (const w of expectedWorkloads.filter((x) => x !== 'istio-ingressgateway' && x !== 'sleep')) {
      assert.equal((await endpointsOf(w)).length, 1, `${w} endpoints`);
    }
    const routes = await waitFor(async () => {
      const r = await getJson<{ num_routes: number }>(url('NATS_MONITOR', '/routez'));
      return r.num_routes === 2 ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'nats (server 1) routed to nats-2 and nats-3' });
    t.diagnostic(`nats routes: ${routes.num_routes}`);
  });

  step('(b) the gateway serves /productpage and reviews v1, v2 and v3 all appear', async (t) => {
    await waitFor(async () => (await productPage()).version.startsWith('v'), { timeoutMs: 60_000, intervalMs: 250, what: 'a first product page with reviews' });
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const { version, status } = await productPage();
      assert.equal(status, 200);
      seen.set(version, (seen.get(version) ?? 0) + 1);
    }
    t.diagnostic(`30 pages by reviews version: ${JSON.stringify(Object.fromEntries(seen))}`);
    assert.deepEqual([...seen.keys()].filter((v) => !['v1', 'v2', 'v3'].includes(v)), []);
    for (const v of ['v1', 'v2', 'v3']) assert.ok((seen.get(v) ?? 0) >= 3, `reviews ${v} served ${seen.get(v) ?? 0} of 30 pages`);
  });

  step('(c) docker service scale adds and removes endpoints with no config change', async (t) => {
    const configVersion = async () => (await getJson<{ version: string | null }>(url('PILOT', '/debug/configz'))).version;
    const versionBefore = await configVersion();
    const first = await endpointsOf('ratings-v1');
    assert.equal(first.length, 1);
    const t0 = Date.now();
    await exec('docker', ['service', 'scale', '--detach', `${stack}_ratings-v1=3`]);
    const three = await waitFor(async () => { const e = await endpointsOf('ratings-v1'); return e.length === 3 ? e : undefined; },
      { timeoutMs: 180_000, intervalMs: 250, what: 'ratings-v1 with 3 endpoints in pilot' });
    t.diagnostic(`scale 1 -> 3: 3 endpoints in pilot after ${Date.now() - t0} ms: ${three.join(' ')}`);
    assert.ok(first.every((a) => three.includes(a)), 'the first task keeps its endpoint');
    // The new tasks' sidecars connect too, and pages keep coming whole.
    await waitFor(async () => (await syncz()).filter((e) => e.workload === 'ratings-v1' && e.status === 'SYNCED').length === 3,
      { timeoutMs: 180_000, intervalMs: 250, what: 'three ratings-v1 proxies SYNCED' });
    for (let i = 0; i < 10; i++) {
      const { status, version } = await productPage();
      assert.equal(status, 200);
      assert.ok(version.startsWith('v'), `page ${i} after scale up: ${version}`);
    }
    const t1 = Date.now();
    await exec('docker', ['service', 'scale', '--detach', `${stack}_ratings-v1=1`]);
    const one = await waitFor(async () => { const e = await endpointsOf('ratings-v1'); return e.length === 1 ? e : undefined; },
      { timeoutMs: 180_000, intervalMs: 250, what: 'ratings-v1 back to 1 endpoint in pilot' });
    t.diagnostic(`scale 3 -> 1: 1 endpoint in pilot after ${Date.now() - t1} ms`);
    assert.equal(await configVersion(), versionBefore, 'scaling changed no config');
    assert.equal(one.length, 1);
    // Once every proxy has ACKed the endpoints without the removed tasks, every page is whole.
    await waitFor(async () => {
      const now = await syncz();
      return allSynced(now) && now.every((e) => e.status === 'SYNCED' && e.ackedVersion === e.version)
        && now.filter((e) => e.workload === 'ratings-v1').length === 1;
    }, { timeoutMs: 120_000, intervalMs: 250, what: 'every proxy SYNCED after the scale down, one ratings-v1 proxy left' });
    for (let i = 0; i < 10; i++) {
      const { status, version } = await productPage();
      assert.equal(status, 200);
      assert.ok(version.startsWith('v'), `page ${i} after scale down: ${version}`);
    }
  });

  step('(d) the loss of a NATS server (pilot\'s, not mixer\'s) loses no request and no config', async (t) => {
    // Who is on which server (the servers shuffle the list per client). The victim carries
    // pilot's connection, so config has to find another way; not mixer's: policy checks ride
    // the bus and fail closed while mixer, the only responder, reconnects (docs/scale.md).
    const servers = ['nats', 'nats-2', 'nats-3'];
    const clients = new Map<string, string[]>();
    for (const s of servers) clients.set(s, await natsClients(s));
    const candidates = servers.filter((s) => !clients.get(s)!.includes('mixer'));
    const victim = candidates.find((s) => clients.get(s)!.includes('pilot'))
      ?? candidates.find((s) => clients.get(s)!.includes('galley'))
      ?? candidates[0]!;
    const moving = [...new Set(clients.get(victim))].filter(Boolean);
    t.diagnostic(`clients per server: ${servers.map((s) => `${s} ${clients.get(s)!.length}`).join(', ')}; victim ${victim} carries ${moving.length}: ${moving.filter((n) => !n.startsWith('sidecar')).join(', ')} and ${moving.filter((n) => n.startsWith('sidecar')).length} sidecar(s)`);
    const [container] = await containersOf(victim);
    assert.ok(container, `a container of ${victim}`);

    // Requests flow before, during and after the kill.
    let stop = false;
    const results: { status: number; version: string; error?: string }[] = [];
    const traffic = (async () => {
      while (!stop) {
        try {
          results.push(await productPage());
        } catch (err) {
          results.push({ status: 0, version: 'error', error: (err as Error).message });
        }
      }
    })();
    await waitFor(() => results.length >= 5, { timeoutMs: 60_000, what: 'traffic flowing' });
    const versionsBefore = new Map((await syncz()).map((e) => [e.proxy, e.version]));
    const t0 = Date.now();
    await exec('docker', ['kill', container]);
    t.diagnostic(`killed ${victim} (container ${container.slice(0, 12)})`);
    // Every client of the dead server reconnects to another one.
    await waitFor(async () => {
      const now = new Set<string>();
      for (const s of servers.filter((x) => x !== victim)) for (const n of await natsClients(s).catch((): string[] => [])) now.add(n);
      return moving.every((n) => now.has(n));
    }, { timeoutMs: 120_000, intervalMs: 250, what: `the clients of ${victim} (${moving.join(', ')}) on the other servers` });
    t.diagnostic(`every client of ${victim} on another server ${Date.now() - t0} ms after the kill`);

    // A config saved now still reaches every proxy.
    const vs = [
      'apiVersion: networking.istio.io/v1alpha3', 'kind: VirtualService', 'metadata:', '  name: reviews', 'spec:',
      '  hosts:', '  - reviews', '  http:', '  - route:', '    - destination:', '        host: reviews', '        subset: v3', '',
    ].join('\n');
    writeFileSync(join(configDir, '.reviews.yaml.tmp'), vs);
    renameSync(join(configDir, '.reviews.yaml.tmp'), join(configDir, 'reviews.yaml'));
    const t1 = Date.now();
    await waitFor(async () => {
      const now = await syncz();
      const sidecars = now.filter((e) => e.kind !== 'gateway');
      return sidecars.length > 0 && sidecars.every((e) => e.version && e.version !== versionsBefore.get(e.proxy))
        && allSynced(now) && now.every((e) => e.status === 'SYNCED' && e.ackedVersion === e.version);
    }, { timeoutMs: 120_000, intervalMs: 100, what: 'every proxy ACKs the config with reviews -> v3 after the NATS server loss' });
    t.diagnostic(`every proxy ACKed reviews -> v3 ${Date.now() - t1} ms after the save`);
    await waitFor(async () => (await productPage()).version === 'v3', { timeoutMs: 30_000, intervalMs: 100, what: 'a red page' });
    const n0 = results.length;
    await waitFor(() => results.length >= n0 + 10, { timeoutMs: 120_000, what: '10 more pages' });
    stop = true;
    await traffic;
    const after = results.slice(n0);
    assert.deepEqual(after.filter((r) => r.version !== 'v3').map((r) => r.version), [], 'every page after the config is red');
    const failures = results.filter((r) => r.status !== 200 || !r.version.startsWith('v'));
    t.diagnostic(`${results.length} pages during the NATS server loss, ${failures.length} failed`);
    assert.deepEqual(failures, [], 'no request failed while a NATS server was lost');

    // Swarm restarts the killed server, which rejoins the cluster.
    await waitFor(async () => (await containersOf(victim)).some((id) => id !== container),
      { timeoutMs: 120_000, intervalMs: 500, what: `Swarm restarted ${victim}` });
  });
});
