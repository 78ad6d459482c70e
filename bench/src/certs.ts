// One CA and SPIFFE leaf certificates for the benchmark, written to files, so our sidecars,
// the bare Node pair and the nginx pair all run mTLS with exactly the same certificates.
// Leaves carry the SPIFFE URI SAN (what our sidecars check) and a DNS SAN (what nginx's
// proxy_ssl_verify checks: it matches host names only).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { spiffeId } from '#api';

export interface CertFiles {
  dir: string;
  rootPem: string;
  /** Per identity: key.pem, cert.pem (leaf), roots.pem. */
  identity(name: string): { key: string; cert: string; roots: string; spiffeId: string; dnsName: string };
}

export const BENCH_SERVER_NAME = 'bench-server.mesh.local';

function rsa(): { keyPem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const serial = () => `1${randomBytes(8).toString('hex')}`;

export function writeBenchCerts(dir: string, serviceAccounts: string[]): CertFiles {
  mkdirSync(dir, { recursive: true });
  const rootKey = rsa();
  const root = forge.pki.createCertificate();
  root.publicKey = forge.pki.publicKeyFromPem(rootKey.publicPem);
  root.serialNumber = serial();
  root.validity.notBefore = new Date(Date.now() - 60_000);
  root.validity.notAfter = new Date(Date.now() + 7 * 86_400_000);
  const attrs = [{ name: 'organizationName', value: 'compose-mesh bench' }, { name: 'commonName', value: 'bench root' }];
  root.setSubject(attrs);
  root.setIssuer(attrs);
  root.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  const rootPrivate = forge.pki.privateKeyFromPem(rootKey.keyPem);
  root.sign(rootPrivate, forge.md.sha256.create());
  const rootPem = forge.pki.certificateToPem(root);
  writeFileSync(join(dir, 'roots.pem'), rootPem);

  const made = new Map<string, ReturnType<CertFiles['identity']>>();
  for (const sa of serviceAccounts) {
    const k = rsa();
    const leaf = forge.pki.createCertificate();
    leaf.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
    leaf.serialNumber = serial();
    leaf.validity.notBefore = new Date(Date.now() - 60_000);
    leaf.validity.notAfter = new Date(Date.now() + 86_400_000);
    leaf.setSubject([{ name: 'organizationName', value: 'cluster.local' }]);
    leaf.setIssuer(root.subject.attributes);
    const id = spiffeId('default', sa);
    leaf.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: id }, { type: 2, value: BENCH_SERVER_NAME }] },
    ]);
    leaf.sign(rootPrivate, forge.md.sha256.create());
    const files = { key: join(dir, `${sa}.key.pem`), cert: join(dir, `${sa}.cert.pem`), roots: join(dir, 'roots.pem'), spiffeId: id, dnsName: BENCH_SERVER_NAME };
    writeFileSync(files.key, k.keyPem, { mode: 0o600 });
    writeFileSync(files.cert, forge.pki.certificateToPem(leaf));
    made.set(sa, files);
  }
  return {
    dir, rootPem,
    identity(name) {
      const f = made.get(name);
      if (!f) throw new Error(`no bench certificate for ${name}`);
      return f;
    },
  };
}
