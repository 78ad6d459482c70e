// The compose journey: the whole mesh in real containers on a real Docker engine, walked the
// way a user would (compose/compose.yaml, image compose-mesh:latest).
//   (a) up; galley/pilot/citadel/mixer ready; every proxy SYNCED in pilot's syncz
//   (b) the gateway serves /productpage; reviews v1, v2 and v3 all appear
//   (c) a VirtualService sending reviews to v3, saved atomically: every proxy ACKs within 1 s,
//       every page shows red stars
//   (d) a broken file: galley's /status names it with file:line; traffic unaffected
//   (e) a sidecar's inbound presents its SPIFFE cert chaining to citadel's trust bundle;
//       plaintext is refused; citadel's docker attestation refuses a foreign service account
//   (f) mixer's /metrics counts the v3 requests exactly
// Skips unless `docker info` answers and the image exists (`npm run compose:offline`).
// Host ports are free ports and the config folder is a temp copy. Logs of failing containers
// (of all, after a failure or with MESH_JOURNEY_KEEP_LOGS=1) go to test/artifacts/compose-journey/.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';
import { connect } from 'nats';
import { decode, encode, natsInboxPrefix, subjects, type CsrRequest, type CsrResponse } from '#api';
import { freePort, waitFor } from '../support/wait.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const composeFile = join(repoRoot, 'compose', 'compose.yaml');
const artifactsDir = join(repoRoot, 'test', 'artifacts', 'compose-journey');
const image = process.env.MESH_IMAGE ?? 'compose-mesh:latest';

/** Every proxy the default compose file starts, by workload. */
const expectedWorkloads = [
  'istio-ingressgateway', 'productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3',
  'ratings-v1', 'httpbin-v1', 'httpbin-v2', 'sleep',
];

// ---------- environment checks (synchronous: they decide whether the suite runs) ----------

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

/** Compose projects of a mesh already running on this engine ('' if none): pilot's Docker
 *  adapter reads every container labelled mesh.workload, so it would mix theirs in. */
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
    : !compose
      ? 'neither `docker compose` nor `docker-compose` is installed'
      : otherMeshProjects()
        ? `another mesh runs on this Docker engine (${otherMeshProjects()}); its workloads would mix into this one`
        : false;

// ---------- helpers ----------

function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

interface HttpAnswer { status: number; body: string; headers: http.IncomingHttpHeaders }

/** One request, no keep-alive (nothing left open when the suite ends). */
function httpGet(url: string, timeoutMs = 5000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
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

type ReviewsVersion = 'v1' | 'v2' | 'v3';

/** Which reviews version rendered a product page (Bookinfo: v1 no stars, v2 black, v3 red). */
export function reviewsVersionOf(html: string): ReviewsVersion | 'unavailable' | 'ratings-unavailable' {
  if (!/Book Reviews/.test(html) || /reviews are currently unavailable/i.test(html)) return 'unavailable';
  if (/ratings (service )?(is|are) currently unavailable/i.test(html)) return 'ratings-unavailable';
  if (/<font color=["']?red/i.test(html)) return 'v3';
  if (/<font color=["']?black/i.test(html)) return 'v2';
  return 'v1';
}

interface SyncEntry {
  proxy: string;
  workload: string;
  kind: string;
  status: string;
  version?: string;
  ackedVersion?: string;
  inbound?: string;
  error?: string;
}

function syncEntries(body: unknown): SyncEntry[] {
  if (Array.isArray(body)) return body as SyncEntry[];
  const o = body as { proxies?: SyncEntry[] };
  return o.proxies ?? [];
}

interface GalleyMessage { code?: string; level?: string; message?: string; file?: string; line?: number }
interface GalleyStatus {
  version: string;
  files: { file: string; state: string; messages?: GalleyMessage[] }[];
  messages?: GalleyMessage[];
}

/** Sums istio_requests_total samples whose labels include every given pair, per reporter. */
export function requestsTotal(metricsText: string, want: Record<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('istio_requests_total{')) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const m of line.slice('istio_requests_total{'.length, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    if (!Object.entries(want).every(([k, v]) => labels[k] === v)) continue;
    const reporter = labels.reporter ?? 'unknown';
    out.set(reporter, (out.get(reporter) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return out;
}

/** A CSR as a sidecar makes one: its own key, nothing but the public key in it. */
function makeCsr(): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey);
  csr.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

// ---------- the journey ----------

describe('compose journey', { skip: skipReason, timeout: 20 * 60_000 }, () => {
  const project = `meshjourney${randomBytes(3).toString('hex')}`;
  const configDir = mkdtempSync(join(tmpdir(), 'mesh-journey-config-'));
  const hostPorts: Record<string, number> = {};
  let env: NodeJS.ProcessEnv = process.env;
  let failed = false;
  /** Product pages rendered by reviews v3 (what mixer must count for destination_version v3). */
  let v3Pages = 0;

  const url = (port: string, path: string) => `http://127.0.0.1:${hostPorts[port]}${path}`;
  const dc = (...args: string[]) => exec(compose![0]!, [...compose!.slice(1), '-p', project, '-f', composeFile, ...args], { env, timeoutMs: 300_000 });

  /** A test step: remembers failure so the logs of every container get written. */
  const step = (name: string, fn: (t: TestContext) => Promise<void>) => test(name, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  async function containerOf(service: string): Promise<string> {
    const out = await exec('docker', ['ps', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`]);
    const id = out.trim().split('\n')[0];
    if (!id) throw new Error(`no running container for ${service}`);
    return id;
  }

  async function containerIp(service: string): Promise<string> {
    const id = await containerOf(service);
    const ip = (await exec('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id])).trim().split(/\s+/)[0];
    if (!ip) throw new Error(`${service} has no IP address`);
    return ip;
  }

  async function productPage(): Promise<{ version: ReturnType<typeof reviewsVersionOf>; answer: HttpAnswer }> {
    const answer = await httpGet(url('GATEWAY', '/productpage'));
    const version = answer.status === 200 ? reviewsVersionOf(answer.body) : 'unavailable';
    if (version === 'v3') v3Pages++;
    return { version, answer };
  }

  async function syncz(): Promise<SyncEntry[]> {
    return syncEntries(await getJson<unknown>(url('PILOT', '/debug/syncz')));
  }

  function allSynced(entries: SyncEntry[]): boolean {
    const synced = new Set(entries.filter((e) => e.status === 'SYNCED').map((e) => e.workload));
    return expectedWorkloads.every((w) => synced.has(w));
  }

  async function writeLogs(onlyFailing: boolean): Promise<void> {
    let ids: string[] = [];
    try {
      ids = (await exec('docker', ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${project}`])).trim().split('\n').filter(Boolean);
    } catch { return; }
    mkdirSync(artifactsDir, { recursive: true });
    for (const id of ids) {
      try {
        const [name, state, restarts] = (await exec('docker', ['inspect', '-f', '{{.Name}}|{{.State.Status}}|{{.RestartCount}}', id])).trim().split('|');
        const bad = state !== 'running' || Number(restarts) > 0;
        if (onlyFailing && !bad) continue;
        const logs = await new Promise<string>((resolve) => {
          execFile('docker', ['logs', '--timestamps', id], { maxBuffer: 64 << 20 }, (_e, out, err) => resolve(`${out}${err}`));
        });
        writeFileSync(join(artifactsDir, `${(name ?? id).replace(/^\//, '')}.log`), `# state ${state}, restarts ${restarts}\n${logs}`);
      } catch { /* a container that vanished has no logs to keep */ }
    }
  }

  before(async () => {
    cpSync(join(repoRoot, 'compose', 'config'), configDir, { recursive: true });
    for (const p of ['NATS', 'GATEWAY', 'GALLEY', 'PILOT', 'CITADEL', 'MIXER', 'MIXER_METRICS', 'CONSOLE']) hostPorts[p] = await freePort();
    env = { ...process.env, MESH_IMAGE: image, MESH_CONFIG_HOST_DIR: configDir, MESH_PUBLISH_ADDR: '127.0.0.1' };
    for (const [p, port] of Object.entries(hostPorts)) env[`MESH_${p}_HOST_PORT`] = String(port);
    try {
      await dc('up', '-d', '--no-build');
      for (const [component, port] of [['galley', 'GALLEY'], ['pilot', 'PILOT'], ['citadel', 'CITADEL'], ['mixer', 'MIXER']] as const) {
        await waitFor(async () => (await httpGet(url(port, '/ready'))).status === 200, { timeoutMs: 60_000, intervalMs: 250, what: `${component} /ready` });
      }
      await waitFor(async () => allSynced(await syncz()), { timeoutMs: 60_000, intervalMs: 250, what: `every proxy SYNCED in pilot /debug/syncz (${expectedWorkloads.join(', ')})` });
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  after(async () => {
    await writeLogs(!failed && !process.env.MESH_JOURNEY_KEEP_LOGS);
    await dc('down', '-v', '--remove-orphans', '-t', '3').catch((err: Error) => console.error(`compose down failed: ${err.message}`));
    rmSync(configDir, { recursive: true, force: true });
  });

  step('(a) every proxy is SYNCED and known by pilot', async () => {
    const entries = await syncz();
    for (const w of expectedWorkloads) {
      const e = entries.find((x) => x.workload === w);
      assert.ok(e, `pilot knows no proxy of ${w}`);
      assert.equal(e.status, 'SYNCED', `${w}: ${e.status} ${e.error ?? ''}`);
    }
  });

  step('(b) the gateway serves /productpage and reviews v1, v2 and v3 all appear', async (t) => {
    // The first page may race the last endpoint update; after it, every page must be whole.
    await waitFor(async () => (await productPage()).version.startsWith('v'), { timeoutMs: 30_000, intervalMs: 100, what: 'a first product page with reviews' });
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const { version, answer } = await productPage();
      assert.equal(answer.status, 200, `GET /productpage: HTTP ${answer.status}`);
      assert.match(answer.body, /Book Details/, 'the page shows the details service answer');
      seen.set(version, (seen.get(version) ?? 0) + 1);
    }
    t.diagnostic(`30 pages by reviews version: ${JSON.stringify(Object.fromEntries(seen))}`);
    const broken = [...seen].filter(([v]) => !['v1', 'v2', 'v3'].includes(v));
    assert.deepEqual(broken, [], `some pages lacked reviews or ratings: ${JSON.stringify([...seen])}`);
    // Round robin over three endpoints gives 10 each; even random balancing gives 3+ nearly always.
    for (const v of ['v1', 'v2', 'v3']) assert.ok((seen.get(v) ?? 0) >= 3, `reviews ${v} served ${seen.get(v) ?? 0} of 30 pages`);
  });

  let versionAfterV3 = '';

  step('(c) a VirtualService sending reviews to v3 reaches every proxy within 1 s; every page is red', async (t) => {
    const before = new Map((await syncz()).map((e) => [e.proxy, e.version]));
    const galleyBefore = (await getJson<GalleyStatus>(url('GALLEY', '/status'))).version;
    const vs = [
      'apiVersion: networking.istio.io/v1alpha3',
      'kind: VirtualService',
      'metadata:',
      '  name: reviews',
      'spec:',
      '  hosts:',
      '  - reviews',
      '  http:',
      '  - route:',
      '    - destination:',
      '        host: reviews',
      '        subset: v3',
      '',
    ].join('\n');
    // An editor's atomic save: write a temp file, rename it over the target.
    writeFileSync(join(configDir, '.reviews.yaml.tmp'), vs);
    const t0 = Date.now();
    renameSync(join(configDir, '.reviews.yaml.tmp'), join(configDir, 'reviews.yaml'));
    const entries = await waitFor(async () => {
      const now = await syncz();
      const sidecars = now.filter((e) => e.kind !== 'gateway');
      const moved = sidecars.length > 0 && sidecars.every((e) => e.version && e.version !== before.get(e.proxy));
      return moved && allSynced(now) && now.every((e) => e.status === 'SYNCED' && e.ackedVersion === e.version) ? now : undefined;
    }, { timeoutMs: 10_000, intervalMs: 20, what: 'every proxy ACKs the config with reviews -> v3' });
    const elapsed = Date.now() - t0;
    t.diagnostic(`every proxy ACKed the new config ${elapsed} ms after the rename`);
    assert.ok(elapsed <= 1000, `every proxy ACKed after ${elapsed} ms (budget 1000 ms)`);
    assert.equal(entries.length >= expectedWorkloads.length, true);
    const status = await getJson<GalleyStatus>(url('GALLEY', '/status'));
    assert.notEqual(status.version, galleyBefore, 'galley published a new snapshot version');
    versionAfterV3 = status.version;
    for (let i = 0; i < 20; i++) {
      const { version, answer } = await productPage();
      assert.equal(answer.status, 200);
      assert.equal(version, 'v3', `page ${i} was rendered by reviews ${version}`);
    }
  });

  step('(d) a broken file is named with file:line in galley /status; traffic is unaffected', async (t) => {
    const broken = [
      'apiVersion: networking.istio.io/v1alpha3',
      'kind: VirtualService',
      'metadata:',
      '  name: ratings',
      'spec:',
      '  hosts:',
      '  - ratings',
      '  http:',
      '  - route:',
      '    - destination:',
      '        host: ratings',
      '      weight: 250',
      '',
    ].join('\n');
    writeFileSync(join(configDir, '.broken.yaml.tmp'), broken);
    renameSync(join(configDir, '.broken.yaml.tmp'), join(configDir, 'broken.yaml'));
    const entry = await waitFor(async () => {
      const status = await getJson<GalleyStatus>(url('GALLEY', '/status'));
      return status.files.find((f) => f.file.endsWith('broken.yaml') && f.state === 'invalid');
    }, { timeoutMs: 10_000, intervalMs: 50, what: 'galley /status reports broken.yaml invalid' });
    const errors = (entry.messages ?? []).filter((m) => m.level === undefined || m.level === 'Error');
    assert.ok(errors.length > 0, `no error message for broken.yaml: ${JSON.stringify(entry)}`);
    for (const m of errors) {
      assert.ok(m.file?.endsWith('broken.yaml'), `message names ${m.file}`);
      assert.equal(m.line, 12, `the message points at the weight (line 12): ${JSON.stringify(m)}`);
    }
    t.diagnostic(`galley: ${errors.map((m) => `${m.code} ${m.file}:${m.line} ${m.message}`).join('; ')}`);
    const status = await getJson<GalleyStatus>(url('GALLEY', '/status'));
    assert.equal(status.version, versionAfterV3, 'the snapshot kept the last good version');
    assert.ok(allSynced(await syncz()), 'every proxy is still SYNCED');
    for (let i = 0; i < 10; i++) {
      const { version, answer } = await productPage();
      assert.equal(answer.status, 200);
      assert.equal(version, 'v3');
    }
  });

  step("(e) a sidecar's inbound presents its SPIFFE cert chained to citadel's bundle; plaintext is refused", async (t) => {
    const ip = await containerIp('reviews-v3');
    const bundle = (await httpGet(url('CITADEL', '/trust-bundle.pem'))).body;
    const roots = (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
    assert.ok(roots.length > 0, 'citadel serves at least one root');

    // TLS 1.3: the server's certificate arrives before it refuses our missing client cert.
    const presented = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = tls.connect({ host: ip, port: 15006, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
      socket.once('secureConnect', () => {
        const peer = socket.getPeerCertificate(true);
        socket.destroy();
        if (!peer?.raw) reject(new Error('no peer certificate')); else resolve(new X509Certificate(peer.raw));
      });
      socket.once('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timeout')));
    });
    assert.match(presented.subjectAltName ?? '', /URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews/);
    assert.ok(roots.some((root) => presented.checkIssued(root) && presented.verify(root.publicKey)), 'the inbound cert chains to a root of /trust-bundle.pem');
    assert.ok(new Date(presented.validTo).getTime() > Date.now(), 'the cert is valid');
    t.diagnostic(`${ip}:15006 presents ${presented.subjectAltName}, serial ${presented.serialNumber}, until ${presented.validTo}`);

    for (const port of [15006, 9080]) {
      const reply = await new Promise<string>((resolve) => {
        let data = '';
        const s = net.connect(port, ip, () => s.write('GET /reviews/0 HTTP/1.1\r\nHost: reviews:9080\r\n\r\n'));
        s.on('data', (d: Buffer) => { data += d.toString('latin1'); });
        s.on('error', () => resolve(data));
        s.on('close', () => resolve(data));
        s.setTimeout(5000, () => s.destroy());
      });
      assert.doesNotMatch(reply, /^HTTP\/1\.[01] [23]\d\d/, `plaintext to ${ip}:${port} was answered: ${reply.slice(0, 80)}`);
    }
  });

  step("(e) citadel's docker attestation: a proxy gets only its app container's service account", async (t) => {
    const sleepHost = (await containerOf('sleep')).slice(0, 12);
    // The bus requires a login: use the sleep workload's own credentials (nats-init's volume).
    const [user, pass] = (await exec('docker', ['exec', await containerOf('sleep-proxy'), 'cat', '/var/run/mesh/nats/user', '/var/run/mesh/nats/pass'])).trim().split('\n');
    const nc = await connect({ servers: `nats://127.0.0.1:${hostPorts.NATS}`, name: 'journey test', user, pass, inboxPrefix: natsInboxPrefix(user!) });
    try {
      const ask = async (serviceAccount: string): Promise<CsrResponse> => {
        const req: CsrRequest = { proxyId: `sleep-${sleepHost}.default`, csrPem: makeCsr(), namespace: 'default', serviceAccount, ttlSeconds: 600 };
        return decode<CsrResponse>((await nc.request(subjects.certSign, encode(req), { timeout: 10_000 })).data);
      };
      const own = await ask('sleep');
      assert.ok(own.ok, `the sleep container's own identity: ${JSON.stringify(own)}`);
      assert.match(new X509Certificate(own.certChainPem).subjectAltName ?? '', /spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep/);
      const stolen = await ask('bookinfo-reviews');
      assert.equal(stolen.ok, false, 'sleep must not get bookinfo-reviews');
      if (!stolen.ok) {
        assert.equal(stolen.code, 'NOT_ENTITLED');
        t.diagnostic(`refused: ${stolen.message}`);
      }
    } finally {
      await nc.close();
    }
  });

  step('(f) mixer /metrics counts the v3 requests: istio_requests_total{destination_version="v3",response_code="200"}', async (t) => {
    assert.ok(v3Pages > 0, 'the journey rendered pages with reviews v3');
    let last = new Map<string, number>();
    // Telemetry is batched after the response: wait for the last batch, not for a moment.
    await waitFor(async () => {
      const metrics = (await httpGet(url('MIXER_METRICS', '/metrics'))).body;
      last = requestsTotal(metrics, { destination_version: 'v3', destination_app: 'reviews', response_code: '200' });
      return last.get('destination') === v3Pages && (!last.has('source') || last.get('source') === v3Pages);
    }, { timeoutMs: 15_000, intervalMs: 250, what: 'mixer counts' }).catch(() => undefined);
    assert.equal(last.get('destination'), v3Pages, `reporter=destination count (all: ${JSON.stringify([...last])})`);
    if (last.has('source')) assert.equal(last.get('source'), v3Pages, 'the source reporter counts the same requests');
    t.diagnostic(`v3 pages ${v3Pages}; istio_requests_total by reporter ${JSON.stringify(Object.fromEntries(last))}`);
  });

  step('the web console serves the page and its view of the mesh from inside compose', async () => {
    const page = await httpGet(url('CONSOLE', '/'));
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    const overview = JSON.parse((await httpGet(url('CONSOLE', '/api/overview'))).body) as {
      view: { components: { component: string; healthy: boolean }[]; proxies: { total: number } };
      problems: unknown[];
    };
    assert.deepEqual(overview.problems, [], 'the console reached every component');
    assert.ok(overview.view.components.every((c) => c.healthy), JSON.stringify(overview.view.components));
    assert.equal(overview.view.proxies.total, expectedWorkloads.length);
  });
});
