// The compose `observability` profile on a real Docker engine: the whole mesh plus Prometheus
// (compose-mesh-prometheus:latest, Debian's binary) scraping mixer and every component.
//   - only the profile starts Prometheus (the journey runs without it);
//   - traffic through the gateway, then Prometheus's HTTP API answers
//     sum(rate(istio_requests_total[1m])) by (destination_workload) with the Bookinfo workloads;
//   - `up` is 1 for every scrape target of compose/prometheus.yml.
// Own project name and free host ports. Skips unless `docker info` answers, both images exist
// (`npm run compose:offline`) and no other mesh runs on the engine (pilot's Docker adapter would
// mix its workloads in). Logs of every container after a failure go to
// test/artifacts/compose-observability/.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { freePort, waitFor } from '../support/wait.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
// MESH_COMPOSE_FILE: another compose file (kept in compose/, so its relative paths hold).
const composeFile = process.env.MESH_COMPOSE_FILE ?? join(repoRoot, 'compose', 'compose.yaml');
const prometheusConfig = join(repoRoot, 'compose', 'prometheus.yml');
const artifactsDir = join(repoRoot, 'test', 'artifacts', 'compose-observability');
const image = process.env.MESH_IMAGE ?? 'compose-mesh:latest';
const prometheusImage = process.env.MESH_PROMETHEUS_IMAGE ?? 'compose-mesh-prometheus:latest';

/** The Bookinfo workloads a product page touches (ratings through reviews v2 and v3). */
const bookinfoWorkloads = ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1'];

function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

function composeCli(): string[] | undefined {
  if (runs('docker', ['compose', 'version'])) return ['docker', 'compose'];
  if (runs('docker-compose', ['version'])) return ['docker-compose'];
  return undefined;
}

function otherMeshProjects(): string {
  try {
    const out = execFileSync('docker', ['ps', '--filter', 'label=mesh.workload', '--format', '{{.Label "com.docker.compose.project"}}|'], { encoding: 'utf8', timeout: 20_000 });
    const rows = out.split('\n').filter((l) => l.includes('|')).map((l) => l.split('|')[0]!.trim() || '(not compose)');
    return [...new Set(rows)].join(', ');
  } catch {
    return '';
  }
}

const compose = composeCli();
const skipReason = !runs('docker', ['info'])
  ? 'no Docker engine answers `docker info` (bash compose/ensure-docker.sh starts one)'
  : !runs('docker', ['image', 'inspect', image])
    ? `image ${image} is missing (npm run compose:offline builds it)`
    : !runs('docker', ['image', 'inspect', prometheusImage])
      ? `image ${prometheusImage} is missing (npm run compose:offline builds it)`
      : !compose
        ? 'neither `docker compose` nor `docker-compose` is installed'
        : otherMeshProjects()
          ? `another mesh runs on this Docker engine (${otherMeshProjects()}); its workloads would mix into this one`
          : false;

function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One request, no keep-alive (nothing left open when the suite ends). */
function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
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

interface PromSample { metric: Record<string, string>; value: [number, string] }

/** The job names of compose/prometheus.yml: what `up` must report. */
function scrapeJobs(yamlText: string): string[] {
  return [...yamlText.matchAll(/^\s*-\s*job_name:\s*["']?([\w-]+)/gm)].map((m) => m[1]!);
}

describe('compose observability profile', { skip: skipReason, timeout: 15 * 60_000 }, () => {
  const project = `meshobs${randomBytes(3).toString('hex')}`;
  const configDir = mkdtempSync(join(tmpdir(), 'mesh-observability-config-'));
  const hostPorts: Record<string, number> = {};
  let env: NodeJS.ProcessEnv = process.env;
  let failed = false;

  const url = (port: string, path: string) => `http://127.0.0.1:${hostPorts[port]}${path}`;
  const dc = (...args: string[]) => exec(compose![0]!, [...compose!.slice(1), '-p', project, '-f', composeFile, ...args], { env, timeoutMs: 300_000 });
  const dcObs = (...args: string[]) => dc('--profile', 'observability', ...args);

  const step = (name: string, fn: (t: TestContext) => Promise<void>) => test(name, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  async function query(promql: string): Promise<PromSample[]> {
    const r = await httpGet(url('PROMETHEUS', `/api/v1/query?query=${encodeURIComponent(promql)}`));
    if (r.status !== 200) throw new Error(`Prometheus ${promql}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    const body = JSON.parse(r.body) as { status: string; data: { resultType: string; result: PromSample[] } };
    assert.equal(body.status, 'success');
    assert.equal(body.data.resultType, 'vector');
    return body.data.result;
  }

  async function productPage(): Promise<number> {
    return (await httpGet(url('GATEWAY', '/productpage'))).status;
  }

  async function writeLogs(): Promise<void> {
    let ids: string[] = [];
    try {
      ids = (await exec('docker', ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${project}`])).trim().split('\n').filter(Boolean);
    } catch { return; }
    mkdirSync(artifactsDir, { recursive: true });
    for (const id of ids) {
      try {
        const name = (await exec('docker', ['inspect', '-f', '{{.Name}}', id])).trim().replace(/^\//, '');
        const logs = await new Promise<string>((resolve) => {
          execFile('docker', ['logs', '--timestamps', id], { maxBuffer: 64 << 20 }, (_e, out, err) => resolve(`${out}${err}`));
        });
        writeFileSync(join(artifactsDir, `${name || id}.log`), logs);
      } catch { /* a container that vanished has no logs to keep */ }
    }
  }

  before(async () => {
    cpSync(join(repoRoot, 'compose', 'config'), configDir, { recursive: true });
    for (const p of ['NATS', 'GATEWAY', 'GALLEY', 'PILOT', 'CITADEL', 'MIXER', 'MIXER_METRICS', 'CONSOLE', 'PROMETHEUS']) hostPorts[p] = await freePort();
    env = { ...process.env, MESH_IMAGE: image, MESH_PROMETHEUS_IMAGE: prometheusImage, MESH_CONFIG_HOST_DIR: configDir, MESH_PUBLISH_ADDR: '127.0.0.1' };
    for (const [p, port] of Object.entries(hostPorts)) env[`MESH_${p}_HOST_PORT`] = String(port);
    try {
      await dcObs('up', '-d', '--no-build');
      await waitFor(async () => (await httpGet(url('MIXER', '/ready'))).status === 200, { timeoutMs: 90_000, intervalMs: 250, what: 'mixer /ready' });
      await waitFor(async () => (await httpGet(url('PROMETHEUS', '/-/ready'))).status === 200, { timeoutMs: 60_000, intervalMs: 250, what: 'Prometheus /-/ready' });
      await waitFor(async () => (await productPage()) === 200, { timeoutMs: 90_000, intervalMs: 250, what: 'the gateway serves /productpage' });
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  after(async () => {
    if (failed || process.env.MESH_JOURNEY_KEEP_LOGS) await writeLogs();
    await dcObs('down', '-v', '--remove-orphans', '-t', '3').catch((err: Error) => console.error(`compose down failed: ${err.message}`));
    rmSync(configDir, { recursive: true, force: true });
  });

  step('without the profile, the compose file starts no Prometheus; with it, Prometheus runs', async () => {
    // `config --services` of docker-compose 1.29 lists profiled services too, so this reads the
    // file the way the Compose Specification decides: a service with profiles starts only when
    // one is enabled, and nothing the default set starts may depend on it.
    const file = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, { profiles?: string[]; depends_on?: string[] | Record<string, unknown> }> };
    assert.deepEqual(file.services.prometheus?.profiles, ['observability']);
    for (const [name, svc] of Object.entries(file.services)) {
      if (name === 'prometheus') continue;
      assert.equal(svc.profiles, undefined, `${name} has profiles`);
      const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
      assert.ok(!deps.includes('prometheus'), `${name} depends on prometheus`);
    }
    const running = (await exec('docker', ['ps', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'label=com.docker.compose.service=prometheus', '--format', '{{.Image}} {{.Status}}'])).trim();
    assert.match(running, /^\S+ Up /, `prometheus container: ${running || 'none'}`);
  });

  step('traffic through the gateway; Prometheus answers sum(rate(istio_requests_total[1m])) by (destination_workload)', async (t) => {
    const promql = 'sum(rate(istio_requests_total[1m])) by (destination_workload)';
    let pages = 0;
    const t0 = Date.now();
    // Traffic keeps flowing while Prometheus scrapes (every 5 s): rate() needs two samples.
    const rates = await waitFor(async () => {
      for (let i = 0; i < 5; i++) {
        assert.equal(await productPage(), 200);
        pages++;
      }
      const byWorkload = new Map((await query(promql)).map((s) => [s.metric.destination_workload ?? '', Number(s.value[1])]));
      return bookinfoWorkloads.every((w) => (byWorkload.get(w) ?? 0) > 0) ? byWorkload : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500, what: `${promql} answers a positive rate for ${bookinfoWorkloads.join(', ')}` });
    t.diagnostic(`${pages} pages through the gateway; every Bookinfo workload had a rate after ${Date.now() - t0} ms`);
    t.diagnostic(`${promql}: ${[...rates].map(([w, v]) => `${w}=${v.toFixed(3)}/s`).join(', ')}`);
    for (const w of bookinfoWorkloads) assert.ok((rates.get(w) ?? 0) > 0, `${w}: rate ${rates.get(w)}`);
    // Every page is one request to productpage, reported by both its sidecar and the gateway.
    assert.ok(rates.get('productpage-v1')! >= rates.get('details-v1')! * 0.5, 'productpage and details see comparable traffic');
  });

  step('`up` is 1 for every scrape target of compose/prometheus.yml', async (t) => {
    const jobs = scrapeJobs(readFileSync(prometheusConfig, 'utf8'));
    assert.ok(jobs.length >= 5, `compose/prometheus.yml names ${jobs.length} jobs`);
    for (const component of ['mixer', 'pilot', 'galley', 'citadel']) assert.ok(jobs.includes(component), `prometheus.yml scrapes ${component}`);
    const up = await waitFor(async () => {
      const samples = await query('up');
      const byJob = new Map(samples.map((s) => [s.metric.job ?? '', s.value[1]]));
      return jobs.every((j) => byJob.get(j) === '1') ? samples : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: `up == 1 for ${jobs.join(', ')}` });
    t.diagnostic(`up: ${up.map((s) => `${s.metric.job}(${s.metric.instance})=${s.value[1]}`).join(', ')}`);
    assert.equal(up.length, jobs.length, 'one target per job, no other');
    for (const s of up) assert.equal(s.value[1], '1', `${s.metric.job} ${s.metric.instance}`);
    // The control plane's own series made it in, not just the scrape's bookkeeping (the
    // console may have none yet: it registers metrics as it serves).
    const perJob = new Map((await query('count by (job) ({__name__=~".+", __name__!~"up|scrape_.*"})')).map((s) => [s.metric.job ?? '', Number(s.value[1])]));
    t.diagnostic(`series per job: ${JSON.stringify(Object.fromEntries(perJob))}`);
    for (const j of ['mixer', 'pilot', 'galley', 'citadel']) assert.ok((perJob.get(j) ?? 0) > 0, `no series scraped from ${j}`);
    assert.ok((await query('count(istio_requests_total)')).length === 1, "mixer's Istio metrics are in Prometheus");
  });
});
