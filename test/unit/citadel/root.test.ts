import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync, rmSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateRoot, createRoot, ROOT_CERT_FILE, ROOT_KEY_FILE, EXTRA_ROOTS_FILE } from '../../../citadel/src/root.js';
import { CitadelError } from '../../../citadel/src/errors.js';
import { quietLog, tempDir } from './helpers.js';

const opts = (dataDir: string) => ({ dataDir, trustDomain: 'cluster.local', rootTtlDays: 3650, log: quietLog });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CitadelError, String(err));
    return err.code;
  }
  assert.fail('expected a refusal');
}

test('the root is created once, persisted with a 0600 key, and reused after a reload', async () => {
  const t = tempDir('citadel-root-');
  try {
    const dir = join(t.dir, 'state', 'citadel');
    const first = await loadOrCreateRoot(opts(dir));
    assert.equal(first.created, true);
    assert.equal(statSync(join(dir, ROOT_KEY_FILE)).mode & 0o777, 0o600);
    assert.match(readFileSync(join(dir, ROOT_KEY_FILE), 'utf8'), /BEGIN PRIVATE KEY/);
    const second = await loadOrCreateRoot(opts(dir));
    assert.equal(second.created, false);
    assert.equal(second.signing.info.fingerprint256, first.signing.info.fingerprint256);
    assert.equal(second.signing.subjectKeyId, first.signing.subjectKeyId);
    const days = (Date.parse(first.signing.info.notAfter) - Date.now()) / 86_400_000;
    assert.ok(days > 3649 && days <= 3650, `root lives ~10 years (${days} days)`);
  } finally {
    t.cleanup();
  }
});

test('a widened key file mode is narrowed back to 0600 on load', async () => {
  const t = tempDir('citadel-root-');
  try {
    await loadOrCreateRoot(opts(t.dir));
    chmodSync(join(t.dir, ROOT_KEY_FILE), 0o644);
    await loadOrCreateRoot(opts(t.dir));
    assert.equal(statSync(join(t.dir, ROOT_KEY_FILE)).mode & 0o777, 0o600);
  } finally {
    t.cleanup();
  }
});

test('half a root is never replaced, a mismatched pair is refused, extra roots are trusted', async () => {
  const t = tempDir('citadel-root-');
  try {
    const first = await loadOrCreateRoot(opts(t.dir));
    rmSync(join(t.dir, ROOT_CERT_FILE));
    assert.equal(await refusal(loadOrCreateRoot(opts(t.dir))), 'CA_ROOT_INCOMPLETE');
    const other = await createRoot('cluster.local', 1);
    writeFileSync(join(t.dir, ROOT_CERT_FILE), other.certPem);
    assert.equal(await refusal(loadOrCreateRoot(opts(t.dir))), 'CA_ROOT_INVALID');
    writeFileSync(join(t.dir, ROOT_CERT_FILE), first.signing.info.certPem);
    writeFileSync(join(t.dir, EXTRA_ROOTS_FILE), other.certPem + first.signing.info.certPem);
    const reloaded = await loadOrCreateRoot(opts(t.dir));
    assert.equal(reloaded.signing.info.fingerprint256, first.signing.info.fingerprint256);
    assert.equal(reloaded.extra.length, 1, 'the signing root is not listed twice');
  } finally {
    t.cleanup();
  }
});
