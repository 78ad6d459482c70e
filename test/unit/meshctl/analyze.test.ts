// meshctl analyze (offline), apply -f and delete -f against a real temporary config folder,
// and the CLI's exit codes through the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EXIT_ISSUES_FOUND, formatAnalyze, runAnalyze, servicesFromCompose, type AnalyzeOptions } from '../../../meshctl/src/commands/analyze.js';
import { runApply } from '../../../meshctl/src/commands/apply.js';
import { runDelete } from '../../../meshctl/src/commands/delete.js';

const dr = `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
`;
const vs = (subset: string, weight = 100) => `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: ${subset}}
      weight: ${weight}
`;
const opts = (o: Partial<AnalyzeOptions> = {}): AnalyzeOptions => ({ output: 'log', failureThreshold: 'Error', outputThreshold: 'Info', suppress: [], ...o });

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-analyze-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

test('analyze a folder: clean config says so and exits 0', (t) => {
  const dir = folder({ 'dr.yaml': dr, 'sub/vs.yml': vs('v1'), '.hidden/x.yaml': 'kind: [', 'notes.txt': 'x' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = runAnalyze([dir], opts());
  assert.equal(r.exitCode, 0);
  assert.equal(r.files, 2);
  assert.match(formatAnalyze(r, 'log'), /^✔ No validation issues found when analyzing .* \(2 files\)\.\n$/);
  assert.equal(formatAnalyze(r, 'json'), '[]\n');
});

test('analyze: messages with file:line, -o json|yaml, thresholds and exit code 79', (t) => {
  const dir = folder({ 'dr.yaml': dr, 'vs.yaml': vs('v3') });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = runAnalyze([dir], opts());
  assert.equal(r.exitCode, EXIT_ISSUES_FOUND);
  assert.equal(formatAnalyze(r, 'log'), `Error [IST0101] (VirtualService default/reviews ${join(dir, 'vs.yaml')}:9) Referenced host+subset in destinationrule not found: "reviews+v3"\n`);
  const json = JSON.parse(formatAnalyze(r, 'json')) as Record<string, unknown>[];
  assert.deepEqual(json[0], {
    code: 'IST0101', level: 'Error', message: 'Referenced host+subset in destinationrule not found: "reviews+v3"', origin: 'VirtualService default/reviews',
    reference: `${join(dir, 'vs.yaml')}:9`, file: join(dir, 'vs.yaml'), line: 9, field: 'spec.http[0].route[0].destination.subset',
  });
  assert.deepEqual(parse(formatAnalyze(r, 'yaml')), json);
  // Only warnings: exit 0 at the default threshold, 79 at Warning; hidden below the output threshold.
  const warnDir = folder({ 'dr.yaml': dr.replace('  - name: v1\n    labels: {version: v1}\n', '  - name: all\n') });
  t.after(() => rmSync(warnDir, { recursive: true, force: true }));
  assert.equal(runAnalyze([warnDir], opts()).exitCode, 0);
  assert.equal(runAnalyze([warnDir], opts({ failureThreshold: 'Warning' })).exitCode, EXIT_ISSUES_FOUND);
  assert.equal(runAnalyze([warnDir], opts({ outputThreshold: 'Error' })).messages.length, 0);
  // Suppressed messages neither show nor fail.
  const s = runAnalyze([dir], opts({ suppress: ['IST0101=VirtualService default/*'] }));
  assert.deepEqual([s.exitCode, s.messages.length], [0, 0]);
});

test('analyze: single files, stdin, and services from a compose file enable host checks', (t) => {
  const dir = folder({ 'vs.yaml': vs('v1').replace('subset: v1', 'port: {number: 9080}').replace('host: reviews,', 'host: reviewz,') });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const compose = 'services:\n  reviews-v1:\n    labels:\n      mesh.service: reviews\n      mesh.ports: http:9080\n  sleep:\n    labels: ["mesh.service=", "app=sleep"]\n';
  const services = servicesFromCompose(compose);
  assert.deepEqual(services, [{ hostname: 'reviews.default.svc.cluster.local', ports: [{ number: 9080, name: 'http' }] }]);
  assert.equal(runAnalyze([join(dir, 'vs.yaml')], opts()).exitCode, 0);
  const r = runAnalyze([join(dir, 'vs.yaml')], opts({ services }));
  assert.deepEqual(r.messages.map((m) => [m.code, m.message]), [['IST0101', 'Referenced host not found: "reviewz"']]);
  const stdin = runAnalyze(['-'], opts(), () => vs('v1'));
  assert.deepEqual(stdin.messages.map((m) => [m.code, m.file]), [['IST0101', 'stdin']]);
  assert.throws(() => runAnalyze([join(dir, 'missing')], opts()), /no such file/);
});

test('the meshctl binary: analyze exit codes, apply and delete', (t) => {
  const bin = join(process.cwd(), 'meshctl', 'bin', 'meshctl.js');
  const dir = folder({ 'dr.yaml': dr, 'vs.yaml': vs('v3') });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = spawnSync(process.execPath, [bin, 'analyze', dir, '-o', 'json'], { encoding: 'utf8' });
  assert.equal(bad.status, 79, bad.stderr);
  assert.equal((JSON.parse(bad.stdout) as unknown[]).length, 1);
  writeFileSync(join(dir, 'vs.yaml'), vs('v1'));
  assert.equal(spawnSync(process.execPath, [bin, 'analyze', dir], { encoding: 'utf8' }).status, 0);
  const usage = spawnSync(process.execPath, [bin, 'analyze', dir, '--failure-threshold', 'Fatal'], { encoding: 'utf8' });
  assert.equal(usage.status, 1);
  assert.match(usage.stderr, /Info, Warning or Error/);

  const input = join(dir, '..', `${Date.now()}-reviews-v1.yaml`);
  t.after(() => rmSync(input, { force: true }));
  writeFileSync(input, vs('v1', 100).replace('name: reviews', 'name: reviews-b').replace('[reviews]', '[ratings]'));
  const out = execFileSync(process.execPath, [bin, 'apply', '-f', input, '--config-dir', dir, '--as', 'ratings.yaml'], { encoding: 'utf8' });
  assert.equal(out, 'virtualservice.networking.istio.io/reviews-b created\n');
  const del = execFileSync(process.execPath, [bin, 'delete', '-f', input, '--config-dir', dir], { encoding: 'utf8' });
  assert.match(del, /virtualservice\.networking\.istio\.io\/reviews-b deleted/);
  assert.equal(existsSync(join(dir, 'ratings.yaml')), false);
});

test('apply -f: validated like galley, refused on errors, created/configured/unchanged, atomic', (t) => {
  const dir = folder({ 'dr.yaml': dr });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const created = runApply({ file: '/elsewhere/reviews.yaml', text: vs('v1') }, { configDir: dir });
  assert.deepEqual([created.exitCode, created.written, created.lines], [0, true, ['virtualservice.networking.istio.io/reviews created']]);
  assert.equal(readFileSync(join(dir, 'reviews.yaml'), 'utf8'), vs('v1'));
  assert.deepEqual(runApply({ file: 'reviews.yaml', text: vs('v1') }, { configDir: dir }).lines, ['virtualservice.networking.istio.io/reviews unchanged']);
  // An invalid file is refused and the folder keeps the good one.
  const refused = runApply({ file: 'reviews.yaml', text: vs('v1', 150) }, { configDir: dir });
  assert.equal(refused.exitCode, 1);
  assert.equal(refused.written, false);
  assert.deepEqual(refused.messages.map((m) => m.code), ['IST0106']);
  assert.equal(readFileSync(join(dir, 'reviews.yaml'), 'utf8'), vs('v1'));
  // A cross-resource finding is reported, not refused (like galley).
  const dangling = runApply({ file: 'reviews.yaml', text: vs('v9') }, { configDir: dir });
  assert.deepEqual([dangling.exitCode, dangling.lines, dangling.messages.map((m) => m.code)], [0, ['virtualservice.networking.istio.io/reviews configured'], ['IST0101']]);
  // The same resource from another file name is refused: galley would ignore one of them.
  const dup = runApply({ file: 'other.yaml', text: vs('v1') }, { configDir: dir });
  assert.equal(dup.exitCode, 1);
  assert.match(dup.messages[0]!.message, /already defined in .*reviews\.yaml/);
  // Dry run writes nothing; no temp files are left behind.
  runApply({ file: 'new.yaml', text: dr.replace('name: reviews', 'name: ratings').replace('host: reviews', 'host: ratings') }, { configDir: dir, dryRun: true });
  assert.deepEqual(readdirSync(dir).sort(), ['dr.yaml', 'reviews.yaml']);
});

test('delete -f: removes whole files, rewrites multi-document files keeping the rest, reports what is missing', (t) => {
  const other = dr.replace('name: reviews', 'name: ratings').replace('host: reviews', 'host: ratings');
  const dir = folder({ 'all.yaml': `# bookinfo\n${dr}---\n${other}`, 'vs.yaml': vs('v1') });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = runDelete({ file: 'x.yaml', text: `${dr}---\n${vs('v1')}` }, { configDir: dir });
  assert.equal(r.exitCode, 0);
  assert.deepEqual(r.changed.map((c) => [c.file.slice(dir.length + 1), c.action]), [['all.yaml', 'rewritten'], ['vs.yaml', 'removed']]);
  assert.equal(existsSync(join(dir, 'vs.yaml')), false);
  const left = parse(readFileSync(join(dir, 'all.yaml'), 'utf8')) as { metadata: { name: string } };
  assert.equal(left.metadata.name, 'ratings');
  const missing = runDelete({ file: 'x.yaml', text: vs('v1') }, { configDir: dir });
  assert.equal(missing.exitCode, 1);
  assert.match(missing.errors[0]!, /virtualservice "default\/reviews" not found/);
  assert.equal(runDelete({ file: 'x.yaml', text: vs('v1') }, { configDir: dir, ignoreNotFound: true }).exitCode, 0);
});
