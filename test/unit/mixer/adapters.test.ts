// The configured adapters on their own: list (strings, IPs/CIDRs, regex, black/white),
// memquota rolling windows and overrides, stdio lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger } from '#api';
import { listAdapter } from '../../../mixer/src/adapters/list.js';
import { memquotaAdapter } from '../../../mixer/src/adapters/memquota.js';
import { stdioAdapter } from '../../../mixer/src/adapters/stdio.js';
import { HandlerConfigError, type AdapterContext } from '../../../mixer/src/adapters/handler.js';

function ctx(now = () => 0, out: string[] = []): AdapterContext {
  return { registry: new Registry(), log: createLogger('t', 'silent'), output: (l) => out.push(l), now };
}
const entry = (value: string) => ({ name: 'e.listentry.default', template: 'listentry', fields: { value } });

test('list: whitelist of strings answers NOT_FOUND for others; blacklist of CIDRs answers PERMISSION_DENIED', () => {
  const white = listAdapter.build('w.listchecker.default', { overrides: ['v1', 'v2'], blacklist: false }, ctx());
  assert.equal(white.check!(entry('v1')).code, 0);
  assert.deepEqual([white.check!(entry('v3')).code, white.check!(entry('v3')).message], [5, 'v3 is not whitelisted']);
  const black = listAdapter.build('b.listchecker.default', { overrides: ['10.0.0.0/8', '192.168.1.7'], entryType: 'IP_ADDRESSES', blacklist: true }, ctx());
  assert.equal(black.check!(entry('10.2.3.4')).code, 7);
  assert.equal(black.check!(entry('::ffff:192.168.1.7')).code, 7);
  assert.equal(black.check!(entry('11.0.0.1')).code, 0);
  const re = listAdapter.build('r.listchecker.default', { overrides: ['^/admin'], entryType: 'REGEX', blacklist: true }, ctx());
  assert.equal(re.check!(entry('/admin/x')).code, 7);
  assert.equal(re.check!(entry('/public')).code, 0);
  const ci = listAdapter.build('c.listchecker.default', { overrides: ['Jason'], entryType: 'CASE_INSENSITIVE_STRINGS' }, ctx());
  assert.equal(ci.check!(entry('JASON')).code, 0);
  assert.throws(() => listAdapter.build('x', { overrides: ['not-an-ip'], entryType: 'IP_ADDRESSES' }, ctx()), HandlerConfigError);
  assert.throws(() => listAdapter.build('x', { providerUrl: 'http://example.com/list' }, ctx()), /remote lists are not supported/);
});

test('memquota: a rolling window per dimension set, the first matching override, retry-after on denial', () => {
  let now = 0;
  const h = memquotaAdapter.build('q.memquota.default', {
    quotas: [{ name: 'rc.quota.default', maxAmount: 10, validDuration: '1s', overrides: [{ dimensions: { destination: 'ratings', source: 'reviews' }, maxAmount: 2, validDuration: '2s' }, { dimensions: { destination: 'ratings' }, maxAmount: 3 }] }],
  }, ctx(() => now));
  const q = (dims: Record<string, string>) => h.quota!({ name: 'rc.quota.default', template: 'quota', fields: { dimensions: dims } }, { amount: 1, bestEffort: false }) as { granted: number; validDurationMs: number };
  const rr = { destination: 'ratings', source: 'reviews' };
  assert.equal(q(rr).granted, 1);
  now = 500;
  assert.equal(q(rr).granted, 1);
  const denied = q(rr);
  assert.deepEqual(denied, { granted: 0, validDurationMs: 1500 }, 'free again when the first allocation (t=0, 2 s) expires');
  now = 2000;
  assert.equal(q(rr).granted, 1, 'rolling: the t=0 unit expired, the t=500 one has not');
  assert.equal(q(rr).granted, 0);
  const other = { destination: 'ratings', source: 'productpage' };
  assert.deepEqual([q(other).granted, q(other).granted, q(other).granted, q(other).granted], [1, 1, 1, 0], 'second override: 3');
  for (let i = 0; i < 10; i++) assert.equal(q({ destination: 'details' }).granted, 1);
  assert.equal(q({ destination: 'details' }).granted, 0, 'default: 10');
});

test('stdio: logentry instances become JSON lines with the instance name and variables', () => {
  const out: string[] = [];
  const h = stdioAdapter.build('stdio.handler.istio-system', {}, ctx(() => 0, out));
  h.report!([{ name: 'accesslog.instance.istio-system', template: 'logentry', fields: { severity: 'Info', timestamp: new Date(0), variables: { responseCode: 429, responseFlags: 'RL' } } }]);
  assert.deepEqual(JSON.parse(out[0]!), { level: 'info', time: '1970-01-01T00:00:00.000Z', instance: 'accesslog.instance.istio-system', responseCode: 429, responseFlags: 'RL' });
});
