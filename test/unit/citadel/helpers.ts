// Shared by citadel's tests: a CA in a temp dir, workload keys and CSRs.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '#api';
import { CertificateAuthority } from '../../../citadel/src/ca.js';
import { loadOrCreateRoot } from '../../../citadel/src/root.js';

export const quietLog = createLogger('test', 'silent');

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function testCa(dataDir: string, trustDomain = 'cluster.local'): Promise<CertificateAuthority> {
  const roots = await loadOrCreateRoot({ dataDir, trustDomain, rootTtlDays: 3650, log: quietLog });
  return new CertificateAuthority(roots.signing, trustDomain, roots.extra);
}
