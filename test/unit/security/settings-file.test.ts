// Secrets from files (compose's NATS credentials): any setting X may be given as the file X_FILE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonSettings, declareSettings, SettingsError } from '#api';

const settings = declareSettings('test', { ...commonSettings });

test('MESH_NATS_PASS_FILE is read (trimmed); the variable itself wins; a missing file names the variable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settings-file-'));
  try {
    writeFileSync(join(dir, 'pass'), 's3cret\n', { mode: 0o400 });
    writeFileSync(join(dir, 'user'), 'wl-default-sleep\n');
    const s = settings.load({ MESH_NATS_USER_FILE: join(dir, 'user'), MESH_NATS_PASS_FILE: join(dir, 'pass') });
    assert.equal(s.natsUser, 'wl-default-sleep');
    assert.equal(s.natsPass, 's3cret');
    assert.equal(settings.load({ MESH_NATS_PASS: 'direct', MESH_NATS_PASS_FILE: join(dir, 'pass') }).natsPass, 'direct');
    assert.equal(settings.load({ MESH_NATS_PASS_FILE: '' }).natsPass, '', 'an empty _FILE is unset');
    assert.throws(() => settings.load({ MESH_NATS_PASS_FILE: join(dir, 'missing') }), (err: Error) => err instanceof SettingsError && /MESH_NATS_PASS_FILE/.test(err.message) && /ENOENT/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
