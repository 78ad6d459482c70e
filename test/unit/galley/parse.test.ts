import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml, toResource, defaultParseLimits } from '../../../galley/src/parse.js';
import { checkFile } from '../../../galley/src/analysis/index.js';
import { formatPath, parsePath } from '../../../galley/src/field-path.js';

const twoDocs = `# reviews routing
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 50
    - destination:
        host: reviews
        subset: v2
      weight: 50
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
  namespace: shop
spec:
  host: reviews
---
`;

test('documents carry their start line; namespace defaults to default; empty trailing documents are skipped', () => {
  const parsed = parseYaml('reviews.yaml', twoDocs);
  assert.deepEqual(parsed.messages, []);
  assert.equal(parsed.documents.length, 2);
  assert.equal(parsed.documents[0]!.line, 2);
  assert.equal(parsed.documents[1]!.line, 20);
  const vs = toResource(parsed.documents[0]!, 'reviews.yaml').resource!.resource;
  const dr = toResource(parsed.documents[1]!, 'reviews.yaml').resource!.resource;
  assert.deepEqual(vs.source, { file: 'reviews.yaml', line: 2 });
  assert.equal(vs.metadata.namespace, 'default');
  assert.equal(dr.metadata.namespace, 'shop');
  assert.deepEqual(dr.source, { file: 'reviews.yaml', line: 20 });
});

test('a field path resolves to the line of that field, or of its deepest existing parent', () => {
  const doc = parseYaml('reviews.yaml', twoDocs).documents[0]!;
  assert.equal(doc.locate('spec.http[0].route[1].weight')?.line, 18);
  assert.equal(doc.locate('spec.http[0].route[1].destination.subset')?.line, 17);
  assert.equal(doc.locate('spec.http[0].route[0].weight')?.line, 14);
  assert.equal(doc.locate('spec.hosts[0]')?.line, 8);
  assert.equal(doc.locate('spec.http[0].route[1].nothere')?.line, 15, 'falls back to the route item');
  assert.equal(doc.locate('metadata.name')?.line, 5);
});

test('field paths round-trip, keys with dots quoted', () => {
  const segs = ['spec', 'subsets', 0, 'labels', 'app.kubernetes.io/name'];
  const text = formatPath(segs);
  assert.equal(text, 'spec.subsets[0].labels["app.kubernetes.io/name"]');
  assert.deepEqual(parsePath(text), segs);
  assert.deepEqual(parsePath('spec.http[0].route[1].weight'), ['spec', 'http', 0, 'route', 1, 'weight']);
});

test('a YAML syntax error names file:line:column', () => {
  const text = 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: x\nspec:\n  hosts: [reviews\n  http: 3\n';
  const parsed = parseYaml('bad.yaml', text);
  assert.equal(parsed.messages.length > 0, true);
  const m = parsed.messages[0]!;
  assert.equal(m.code, 'MSH0001');
  assert.equal(m.level, 'Error');
  assert.equal(m.file, 'bad.yaml');
  assert.ok(m.line! >= 6 && m.line! <= 8, `line ${m.line}`);
  assert.ok(m.column! >= 1);
  assert.match(m.message, /^YAML syntax error: /);
});

test('duplicate keys are a syntax error (Kubernetes rejects them too)', () => {
  const parsed = parseYaml('dup.yaml', 'kind: A\nkind: B\n');
  assert.equal(parsed.messages[0]?.code, 'MSH0001');
  assert.equal(parsed.messages[0]?.line, 2);
});

test('documents that are not resources are reported with their line', () => {
  const text = 'apiVersion: v1\nkind: X\nmetadata: {name: a}\n---\n- just\n- a list\n---\nfoo: bar\n';
  const check = checkFile('odd.yaml', text);
  const codes = check.messages.map((m) => `${m.code}@${m.line}`);
  assert.ok(codes.includes('MSH0003@5'), codes.join(' '));
  assert.ok(codes.includes('MSH0003@8'), codes.join(' '));
  assert.ok(codes.includes('MSH0004@1'), 'unknown kind X is a warning');
  assert.equal(check.accepted, false);
});

test('unknown kinds warn and are not published; the file stays accepted', () => {
  const text = 'apiVersion: rbac.istio.io/v1alpha1\nkind: ServiceRole\nmetadata:\n  name: viewer\nspec:\n  rules: []\n';
  const check = checkFile('rbac.yaml', text);
  assert.equal(check.accepted, true);
  assert.equal(check.resources.length, 0);
  assert.deepEqual(check.messages.map((m) => [m.code, m.level]), [['MSH0009', 'Warning']]);
  assert.match(check.messages[0]!.message, /AuthorizationPolicy/);
  const other = checkFile('k8s.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n');
  assert.equal(other.accepted, true);
  assert.deepEqual(other.messages.map((m) => [m.code, m.level]), [['MSH0004', 'Warning']]);
});

test('files over the size limit are refused without parsing', () => {
  const big = `# ${'x'.repeat(2048)}\n`;
  const parsed = parseYaml('big.yaml', big, { ...defaultParseLimits, maxBytes: 1024 });
  assert.equal(parsed.messages[0]?.code, 'MSH0002');
  assert.match(parsed.messages[0]!.message, /over the limit of 1024 bytes/);
});

test('an alias bomb is refused quickly', () => {
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    'g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  ].join('\n');
  const t0 = Date.now();
  const parsed = parseYaml('bomb.yaml', bomb);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(parsed.documents.length, 0);
  assert.equal(parsed.messages[0]?.code, 'MSH0002');
  assert.match(parsed.messages[0]!.message, /alias/);
});

test('absurd nesting is refused quickly, flow or block', () => {
  const t0 = Date.now();
  const flow = parseYaml('deep.yaml', `a: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`);
  assert.equal(flow.messages[0]?.code, 'MSH0002');
  let block = '';
  for (let i = 0; i < 100; i++) block += `${' '.repeat(i)}k${i}:\n`;
  const deep = parseYaml('deep2.yaml', block);
  assert.equal(deep.messages[0]?.code, 'MSH0002');
  assert.match(deep.messages[0]!.message, /nested deeper than 64/);
  assert.ok(Date.now() - t0 < 3000);
});
