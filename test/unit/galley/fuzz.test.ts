// Fuzz: 12,000 mutated documents (text and structure mutations, fixed seed) fed to galley's
// store as file updates. galley must never throw, never report an internal error (IST0001: a
// validator or analyzer crashed), and a rejected file must never displace the last good
// snapshot. Deterministic: the same seed gives the same documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { ConfigStore } from '../../../galley/src/store.js';

const SEED = 0x15710;
const ITERATIONS = 12_000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const files: Record<string, string> = {
  'reviews.yaml': `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 100}, http: {http1MaxPendingRequests: 10}}
    outlierDetection: {consecutiveErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 10}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {loadBalancer: {simple: RANDOM}}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - match:
    - headers: {end-user: {exact: jason}}
      uri: {regex: "/reviews/[0-9]+"}
    fault: {delay: {fixedDelay: 2s, percentage: {value: 50}}, abort: {httpStatus: 503, percent: 10}}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: v2}
      weight: 20
    timeout: 3s
    retries: {attempts: 2, perTryTimeout: 1s, retryOn: "5xx,connect-failure"}
    mirror: {host: reviews, subset: v2}
    mirrorPercent: 5
`,
  'gateway.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match:
    - uri: {exact: /productpage}
    - uri: {prefix: /static}
    route:
    - destination: {host: productpage, port: {number: 9080}}
`,
  'security.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ratings
spec:
  selector: {matchLabels: {app: ratings}}
  action: ALLOW
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/default/sa/bookinfo-reviews"], ipBlocks: ["10.0.0.0/8"]}
    to:
    - operation: {methods: [GET], paths: ["/ratings/*"], ports: ["9080"]}
    when:
    - key: request.headers[x-user]
      values: [jason]
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: reviews
spec:
  selector: {matchLabels: {app: reviews}}
  mtls: {mode: STRICT}
  portLevelMtls:
    9080: {mode: PERMISSIVE}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
spec:
  jwtRules:
  - issuer: testing@secure.istio.io
    jwks: '{"keys": []}'
`,
  'mesh.yaml': `apiVersion: networking.istio.io/v1alpha3
kind: Sidecar
metadata:
  name: default
spec:
  egress:
  - hosts: ["./*", "istio-system/*"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ext
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
---
apiVersion: config.istio.io/v1alpha2
kind: memquota
metadata:
  name: handler
spec:
  quotas:
  - name: requestcount.quota.default
    maxAmount: 500
    validDuration: 1s
    overrides:
    - dimensions: {destination: reviews}
      maxAmount: 1
---
apiVersion: config.istio.io/v1alpha2
kind: quota
metadata:
  name: requestcount
spec:
  dimensions:
    destination: destination.labels["app"] | destination.service.name | "unknown"
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata:
  name: quota
spec:
  match: source.labels["app"] != "productpage"
  actions:
  - handler: handler.memquota
    instances: [requestcount.quota]
`,
};

const junk = ['{', '}', '[', ']', ':', '-', ',', "'", '"', '&a', '*a', '!', '|', '>', '#', '\n', ' ', '\t', '---', '<<: *a', '%', '@', '`', '\\', '?', 'x', '0', '-1', 'null', '~'];
const weird: unknown[] = [null, 0, -1, 1.5, 1e300, 65536, 100, 101, '', ' ', '1 sec', '0s', '-5s', '(?i)x', '(a', '/(?!x)', 'a'.repeat(300), '*', '*.', '../x',
  'UPPER', true, false, [], {}, [null], { exact: 'a', prefix: 'b' }, { '': '' }, [[[[]]]], { a: { b: { c: { d: {} } } } }, 'ns/host', '10.0.0.0/99', '{**}/x/{**}', 'request.x'];

function mutateText(text: string, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const pos = Math.floor(rnd() * (text.length + 1));
  const lines = text.split('\n');
  switch (Math.floor(rnd() * 7)) {
    case 0: return text.slice(0, pos) + text.slice(pos + 1 + Math.floor(rnd() * 20));
    case 1: return text.slice(0, pos) + pick(junk) + text.slice(pos);
    case 2: { const i = Math.floor(rnd() * lines.length); lines.splice(i, 0, lines[i]!); return lines.join('\n'); }
    case 3: { const i = Math.floor(rnd() * lines.length); const j = Math.floor(rnd() * lines.length); [lines[i], lines[j]] = [lines[j]!, lines[i]!]; return lines.join('\n'); }
    case 4: { const i = Math.floor(rnd() * lines.length); lines[i] = (rnd() < 0.5 ? ' ' : '') + lines[i]!.replace(/^ /, rnd() < 0.5 ? '' : '   '); return lines.join('\n'); }
    case 5: return text.slice(0, pos);
    default: { const i = Math.floor(rnd() * lines.length); lines[i] = lines[i]!.replace(/: .*$/, `: ${pick(junk)}${pick(junk)}`); return lines.join('\n'); }
  }
}

function mutateValue(v: unknown, rnd: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  if (v === null || typeof v !== 'object' || rnd() < 0.15 * depth) return rnd() < 0.8 ? structuredClone(pick(weird)) : v;
  if (Array.isArray(v)) {
    const out = [...v];
    const r = rnd();
    if (out.length && r < 0.6) { const i = Math.floor(rnd() * out.length); out[i] = mutateValue(out[i], rnd, depth + 1); }
    else if (out.length && r < 0.8) out.splice(Math.floor(rnd() * out.length), 1);
    else out.push(out.length ? structuredClone(out[0]) : structuredClone(pick(weird)));
    return out;
  }
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(out);
  const r = rnd();
  if (keys.length && r < 0.7) { const k = pick(keys); out[k] = mutateValue(out[k], rnd, depth + 1); }
  else if (keys.length && r < 0.85) delete out[pick(keys)];
  else out[pick(['subset', 'weigth', 'regex', 'spec', 'kind', 'hosts', 'port', 'x-unknown'])] = structuredClone(pick(weird));
  return out;
}

function mutateStructure(text: string, rnd: () => number): string {
  const docs = text.split(/^---$/m);
  const i = Math.floor(rnd() * docs.length);
  let value: unknown;
  try { value = parse(docs[i]!); } catch { return text; }
  docs[i] = stringify(mutateValue(value, rnd));
  return docs.join('---\n');
}

test(`fuzz: ${ITERATIONS} mutated documents never crash galley nor displace the last good snapshot`, (t) => {
  const rnd = mulberry32(SEED);
  const store = new ConfigStore();
  for (const [f, text] of Object.entries(files)) assert.equal(store.update(f, text), true, f);
  store.commit();
  const good = store.snapshot();
  assert.equal(good.resources.length, 12);
  assert.deepEqual(store.status().messages.filter((m) => m.level === 'Error'), []);
  const names = Object.keys(files);
  let rejected = 0;
  let accepted = 0;
  for (let n = 0; n < ITERATIONS; n++) {
    const file = names[n % names.length]!;
    let text = files[file]!;
    const rounds = 1 + Math.floor(rnd() * 3);
    for (let r = 0; r < rounds; r++) text = rnd() < 0.5 ? mutateText(text, rnd) : mutateStructure(text, rnd);
    const before = store.snapshot().version;
    store.update(file, text);
    store.commit();
    const st = store.fileState(file)!;
    const status = store.status();
    const internal = status.messages.filter((m) => m.code === 'IST0001');
    assert.deepEqual(internal, [], `iteration ${n}: internal error for\n${text}`);
    if (st.state === 'invalid') {
      rejected++;
      assert.equal(store.snapshot().version, before, `iteration ${n}: a rejected file changed the snapshot\n${text}`);
      assert.equal(st.servingLastGood, true);
      assert.ok(st.errors.length > 0);
    } else {
      accepted++;
      // Back to the good file: the original snapshot, exactly.
      store.update(file, files[file]!);
      store.commit();
      assert.equal(store.snapshot().version, good.version, `iteration ${n}: restoring the file did not restore the snapshot`);
    }
  }
  assert.equal(store.snapshot().version, good.version);
  // Both paths were exercised.
  t.diagnostic(`${rejected} rejected, ${accepted} accepted`);
  assert.ok(rejected > ITERATIONS / 10, `rejected ${rejected}`);
  assert.ok(accepted > ITERATIONS / 20, `accepted ${accepted}`);
});
