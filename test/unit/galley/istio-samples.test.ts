// Istio's own config, unchanged (../shared/istio-samples, skipped where absent): every
// Bookinfo networking, Mixer policy, RBAC and authorization file must load with no Error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFiles, formatMessage } from '../../../galley/src/analysis/index.js';
import { ISTIO_SAMPLES } from '../../support/samples.js';

const samples = ISTIO_SAMPLES;
const read = (dir: string, f: string) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') });
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
const errors = (r: ReturnType<typeof analyzeFiles>) => r.messages.filter((m) => m.level === 'Error').map(formatMessage);

for (const release of ['1.1.0', 'head']) {
  const dir = join(samples, release, 'bookinfo-networking');
  test(`Istio ${release} bookinfo networking samples load with no Error`, { skip: !existsSync(dir) && `${dir} absent` }, () => {
    const all = yamlFiles(dir);
    assert.ok(all.length >= 20);
    for (const f of all) {
      // Each file next to the rules and gateway it relies on, as the Bookinfo task applies them.
      // (The cert-manager gateway is a separate task: it is not applied beside bookinfo's.)
      const base = ['destination-rule-all.yaml', f === 'certmanager-gateway.yaml' ? '' : 'bookinfo-gateway.yaml'].filter((b) => b && b !== f);
      const report = analyzeFiles([read(dir, f), ...base.map((b) => read(dir, b))]);
      assert.deepEqual(errors(report), [], f);
      assert.ok(report.files.every((x) => x.accepted), f);
      assert.ok(report.resources.length > 0, f);
    }
    // All at once, as a user dropping the whole folder in: every file is accepted; duplicates
    // warn; the only cross-resource Error is Istio's own IST0145 between 1.1's bookinfo and
    // cert-manager gateways (both take port 80, hosts "*", for istio=ingressgateway).
    const report = analyzeFiles(all.map((f) => read(dir, f)));
    assert.ok(report.files.every((x) => x.accepted));
    for (const e of errors(report)) assert.match(e, /IST0145.*(cert-manager-gateway|bookinfo-gateway)/);
    assert.equal(errors(report).length, release === '1.1.0' ? 2 : 0);
  });
}

test('Istio 1.1 Mixer policy samples (handlers, instances, rules, quotas) load and resolve their references', { skip: !existsSync(join(samples, '1.1.0', 'bookinfo-policy')) && 'absent' }, () => {
  const dir = join(samples, '1.1.0', 'bookinfo-policy');
  const files = yamlFiles(dir);
  assert.ok(files.length >= 8);
  for (const f of files) {
    const report = analyzeFiles([read(dir, f)]);
    assert.deepEqual(report.messages.map(formatMessage), [], f);
    assert.ok(report.resources.length > 0, f);
  }
  const kinds = new Set(analyzeFiles(files.map((f) => read(dir, f))).resources.map((r) => r.kind));
  for (const k of ['rule', 'handler', 'denier', 'checknothing', 'memquota', 'quota', 'QuotaSpec', 'QuotaSpecBinding', 'metric', 'prometheus']) {
    assert.ok(kinds.has(k), `kind ${k} published`);
  }
});

test('Istio 1.1 RBAC samples: no Error; the superseded kinds say what replaced them', { skip: !existsSync(join(samples, '1.1.0', 'bookinfo-rbac')) && 'absent' }, () => {
  const dir = join(samples, '1.1.0', 'bookinfo-rbac');
  const report = analyzeFiles(yamlFiles(dir).map((f) => read(dir, f)));
  assert.deepEqual(errors(report), []);
  assert.ok(report.files.every((f) => f.accepted));
  const rbac = report.messages.filter((m) => m.code === 'MSH0009');
  assert.ok(rbac.length >= 10);
  for (const m of rbac) assert.match(m.message, /AuthorizationPolicy/);
});

test("Istio's authorization policy test inputs load with no Error or Warning", { skip: !existsSync(join(samples, 'head', 'authz-policies')) && 'absent' }, () => {
  const dir = join(samples, 'head', 'authz-policies');
  const files = yamlFiles(dir);
  assert.ok(files.length >= 15);
  for (const f of files) {
    const report = analyzeFiles([read(dir, f)]);
    assert.deepEqual(report.messages.filter((m) => m.level !== 'Info').map(formatMessage), [], f);
    assert.ok(report.resources.some((r) => r.kind === 'AuthorizationPolicy' || r.kind === 'RequestAuthentication'), f);
  }
});
