// The mesh CA: checks a CSR's proof of possession and signs a leaf that carries only the
// identity citadel verified (SPIFFE URI SAN), whatever the CSR asked for.

import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { spiffeId, type TrustBundle } from '#api';
import { CitadelError } from './errors.js';
import { randomSerialHex, signCertificate } from './forge-sign.js';
import type { RootInfo, SigningRoot } from './root.js';

/** Backdating absorbs clock skew between citadel and the workloads. */
const NOT_BEFORE_SKEW_MS = 60_000;
const MAX_CSR_PEM_BYTES = 16 * 1024;
const MIN_RSA_BITS = 2048;
// Kubernetes naming (DNS-1123): no `/`, no `..`, nothing that could bend the SPIFFE URI.
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SERVICE_ACCOUNT_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface Identity {
  namespace: string;
  serviceAccount: string;
}

export interface IssuedCert {
  certPem: string;
  serial: string;
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
}

export function validateIdentity(id: Identity): void {
  if (typeof id.namespace !== 'string' || !NAMESPACE_RE.test(id.namespace)) {
    throw new CitadelError('IDENTITY_INVALID', `namespace ${JSON.stringify(id.namespace)} is not a DNS-1123 label`);
  }
  if (typeof id.serviceAccount !== 'string' || !SERVICE_ACCOUNT_RE.test(id.serviceAccount) || id.serviceAccount.includes('..')) {
    throw new CitadelError('IDENTITY_INVALID', `service account ${JSON.stringify(id.serviceAccount)} is not a DNS-1123 subdomain`);
  }
}

/** Parses a PKCS#10 PEM and checks it is signed by the key it carries. */
export function parseCsr(csrPem: string): forge.pki.CertificateSigningRequest {
  if (typeof csrPem !== 'string' || csrPem.length === 0) throw new CitadelError('CSR_INVALID', 'csrPem is missing');
  if (csrPem.length > MAX_CSR_PEM_BYTES) throw new CitadelError('CSR_INVALID', `CSR is larger than ${MAX_CSR_PEM_BYTES} bytes`);
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem);
  } catch (err) {
    throw new CitadelError('CSR_INVALID', `CSR does not parse (PKCS#10 PEM with an RSA key expected): ${(err as Error).message}`);
  }
  let valid = false;
  try { valid = csr.verify(); } catch { valid = false; }
  if (!valid) throw new CitadelError('CSR_SIGNATURE_INVALID', 'CSR signature does not verify with the public key it carries');
  const bits = (csr.publicKey as forge.pki.rsa.PublicKey | null)?.n?.bitLength() ?? 0;
  if (bits < MIN_RSA_BITS) throw new CitadelError('CSR_KEY_TOO_WEAK', `CSR key is ${bits}-bit RSA; at least ${MIN_RSA_BITS} required`);
  return csr;
}

export class CertificateAuthority {
  private extraRoots: RootInfo[];
  private readonly authorityKeyId: string;

  constructor(private readonly signing: SigningRoot, readonly trustDomain: string, extraRoots: RootInfo[] = []) {
    this.extraRoots = [...extraRoots];
    this.authorityKeyId = forge.util.hexToBytes(signing.subjectKeyId);
  }

  /** The root that signs new certs. */
  signingRoot(): RootInfo {
    return this.signing.info;
  }

  /** Every trusted root, signing root first: ready for rotation (old and new side by side). */
  roots(): RootInfo[] {
    return [this.signing.info, ...this.extraRoots];
  }

  addTrustedRoot(certPem: string): RootInfo {
    const x = new X509Certificate(certPem);
    if (!x.ca) throw new CitadelError('CA_ROOT_INVALID', 'a trusted root must be a CA certificate');
    const info = this.roots().find((r) => r.fingerprint256 === x.fingerprint256);
    if (info) return info;
    const added: RootInfo = {
      certPem: x.toString(), serial: x.serialNumber, subject: x.subject,
      notBefore: new Date(x.validFrom).toISOString(), notAfter: new Date(x.validTo).toISOString(), fingerprint256: x.fingerprint256,
    };
    this.extraRoots.push(added);
    return added;
  }

  rootsPem(): string {
    return this.roots().map((r) => r.certPem.trim()).join('\n') + '\n';
  }

  /** Version = content hash, so equal bundles compare equal across citadel restarts and replicas. */
  trustBundle(): TrustBundle {
    const rootsPem = this.rootsPem();
    return { version: createHash('sha256').update(rootsPem).digest('hex').slice(0, 16), rootsPem };
  }

  /**
   * Signs `csrPem` for `identity` (already attested). The CSR's subject and requested
   * extensions are ignored: only its public key is used.
   */
  sign(csrPem: string, identity: Identity, ttlSeconds: number, now: number = Date.now()): IssuedCert {
    validateIdentity(identity);
    const csr = parseCsr(csrPem);
    const id = spiffeId(identity.namespace, identity.serviceAccount, this.trustDomain);
    const cert = forge.pki.createCertificate();
    cert.publicKey = csr.publicKey as forge.pki.PublicKey;
    cert.serialNumber = randomSerialHex(randomBytes);
    cert.validity.notBefore = new Date(now - NOT_BEFORE_SKEW_MS);
    cert.validity.notAfter = new Date(now + ttlSeconds * 1000);
    // Empty subject, so the SAN is the whole identity and must be critical (RFC 5280 4.2.1.6).
    cert.setSubject([]);
    cert.setIssuer(this.signing.cert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.authorityKeyId },
      { name: 'subjectAltName', altNames: [{ type: 6, value: id }], critical: true },
    ]);
    let certPem: string;
    try {
      certPem = signCertificate(cert, this.signing.key);
    } catch (err) {
      throw new CitadelError('SIGN_FAILED', `signing failed: ${(err as Error).message}`);
    }
    const x = new X509Certificate(certPem);
    return { certPem: x.toString(), serial: x.serialNumber, spiffeId: id, notBefore: cert.validity.notBefore, notAfter: cert.validity.notAfter };
  }
}
