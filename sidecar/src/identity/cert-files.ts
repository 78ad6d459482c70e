// Certificates written out for people and tools to inspect (openssl, meshctl). Never the key.

import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Write-then-rename so a reader never sees half a file. */
async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, file);
}

export async function writeCertFiles(dir: string, certChainPem: string, rootsPem: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, 'cert-chain.pem'), certChainPem);
  await writeAtomic(join(dir, 'root-cert.pem'), rootsPem);
}
