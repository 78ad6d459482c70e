// A tiny test CA: a self-signed root and SPIFFE leaf certificates (URI SAN only, like
// citadel's), so sidecar tests run real mTLS without citadel.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface TestCa {
  certPem: string;
  keyPem: string;
}

export interface TestLeaf {
  keyPem: string;
  certChainPem: string;
  rootsPem: string;
  spiffeId: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

function rsaKey(): { keyPem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serialHex(): string {
  // Positive, non-zero leading nibble keeps forge from emitting a negative integer.
  return `1${randomBytes(8).toString('hex')}`;
}

export function createTestCa(name = 'test mesh root'): TestCa {
  const k = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
  cert.serialNumber = serialHex();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const attrs = [{ name: 'organizationName', value: 'compose-mesh test' }, { name: 'commonName', value: name }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(k.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.keyPem };
}

export function issueLeaf(ca: TestCa, spiffeId: string, opts: { ttlMs?: number; extraRootsPem?: string } = {}): TestLeaf {
  const k = rsaKey();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
  cert.serialNumber = serialHex();
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + (opts.ttlMs ?? 3600_000));
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'organizationName', value: 'compose-mesh test' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: spiffeId }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return {
    keyPem: k.keyPem,
    certChainPem: forge.pki.certificateToPem(cert),
    rootsPem: ca.certPem + (opts.extraRootsPem ?? ''),
    spiffeId,
    serial: cert.serialNumber,
    notBefore,
    notAfter,
  };
}
