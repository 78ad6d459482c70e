// The mesh CA: checks a CSR's proof of possession and signs a leaf that carries only the
// identity citadel verified (SPIFFE URI SAN), whatever the CSR asked for.

import { X509Certificate, createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { spiffeId, type TrustBundle } from '#api';
import { CitadelError } from './errors.js';
import { randomSerialHex, signCertificate } from './forge-sign.js';
import type { RootInfo, SigningRoot } from './root.js';

/** Backdating absorbs clock skew between citadel and the workloads. */
const NOT_BEFORE_SKEW_MS = 60_000;
const MAX_CSR_PEM_BYTES = 16 * 1024;
const MIN_RSA_BITS = 2048;
const EC_CURVES = new Set(['prime256v1', 'secp384r1']);
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

/** What citadel takes from a CSR: the public key, as is, and nothing else. */
export interface ParsedCsr {
  /** The CSR's SubjectPublicKeyInfo, copied into the leaf unchanged (forge cannot hold an EC key). */
  spki: forge.asn1.Asn1;
  publicKey: KeyObject;
  keyType: 'rsa' | 'ec';
}

const SIGNATURE_HASHES: Record<string, { key: 'rsa' | 'ec'; hash: string }> = {
  '1.2.840.113549.1.1.11': { key: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { key: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ec', hash: 'sha512' },
};

function csrInvalid(why: string): CitadelError {
  return new CitadelError('CSR_INVALID', `CSR does not parse (PKCS#10 PEM with an RSA or ECDSA key expected): ${why}`);
}

// The typings know only fromDer(bytes, strict); forge 1.x takes these options too.
const fromDer = forge.asn1.fromDer as unknown as (bytes: string, options: { strict: boolean; decodeBitStrings: boolean; parseAllBytes: boolean }) => forge.asn1.Asn1;
const derBytes = (a: forge.asn1.Asn1): Buffer => Buffer.from(forge.asn1.toDer(a).getBytes(), 'binary');

/**
 * Parses a PKCS#10 PEM and checks it is signed by the key it carries (proof of possession).
 * RSA (>= 2048 bits) and ECDSA (P-256, P-384) keys; the signature is checked with node:crypto
 * over the CertificationRequestInfo bytes, which works for both.
 */
export function parseCsr(csrPem: string): ParsedCsr {
  if (typeof csrPem !== 'string' || csrPem.length === 0) throw new CitadelError('CSR_INVALID', 'csrPem is missing');
  if (csrPem.length > MAX_CSR_PEM_BYTES) throw new CitadelError('CSR_INVALID', `CSR is larger than ${MAX_CSR_PEM_BYTES} bytes`);
  let info: forge.asn1.Asn1, spki: forge.asn1.Asn1, algOid: string, signature: Buffer, infoDer: Buffer, spkiDer: Buffer;
  try {
    const pem = forge.pem.decode(csrPem).find((m) => m.type === 'CERTIFICATE REQUEST' || m.type === 'NEW CERTIFICATE REQUEST');
    if (!pem) throw new Error('no CERTIFICATE REQUEST block');
    // Bit strings stay raw, so re-encoding gives back exactly the bytes that were signed.
    const csr = fromDer(pem.body, { strict: true, decodeBitStrings: false, parseAllBytes: true });
    const [i, alg, sig] = Array.isArray(csr.value) ? csr.value : [];
    if (!i || !alg || !sig || !Array.isArray(i.value) || !Array.isArray(alg.value) || sig.type !== forge.asn1.Type.BITSTRING || typeof sig.value !== 'string') {
      throw new Error('not a CertificationRequest (SEQUENCE of info, algorithm, signature)');
    }
    const k = i.value[2];
    const algId = alg.value[0];
    if (!k || !algId || algId.type !== forge.asn1.Type.OID || typeof algId.value !== 'string') throw new Error('no subject public key or signature algorithm');
    info = i;
    spki = k;
    algOid = forge.asn1.derToOid(algId.value);
    if (sig.value.charCodeAt(0) !== 0) throw new Error('signature has unused bits');
    signature = Buffer.from(sig.value.slice(1), 'binary');
    infoDer = derBytes(info);
    spkiDer = derBytes(spki);
  } catch (err) {
    throw err instanceof CitadelError ? err : csrInvalid((err as Error).message);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch (err) {
    throw csrInvalid(`public key: ${(err as Error).message}`);
  }
  const keyType = publicKey.asymmetricKeyType;
  if (keyType !== 'rsa' && keyType !== 'ec') throw new CitadelError('CSR_INVALID', `CSR key type ${keyType ?? 'unknown'} is not accepted (RSA or ECDSA)`);
  const alg = SIGNATURE_HASHES[algOid];
  if (!alg || alg.key !== keyType) throw new CitadelError('CSR_INVALID', `CSR signature algorithm ${algOid} does not fit its ${keyType} key`);
  let valid = false;
  try { valid = verify(alg.hash, infoDer, publicKey, signature); } catch { valid = false; }
  if (!valid) throw new CitadelError('CSR_SIGNATURE_INVALID', 'CSR signature does not verify with the public key it carries');
  const details = publicKey.asymmetricKeyDetails ?? {};
  if (keyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new CitadelError('CSR_KEY_TOO_WEAK', `CSR key is ${bits}-bit RSA; at least ${MIN_RSA_BITS} required`);
  } else if (!EC_CURVES.has(details.namedCurve ?? '')) {
    throw new CitadelError('CSR_KEY_TOO_WEAK', `CSR key is ECDSA on ${details.namedCurve ?? 'an unknown curve'}; P-256 or P-384 required`);
  }
  return { spki, publicKey, keyType };
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
    // forge models RSA keys only: the leaf's key goes in as the CSR's own SubjectPublicKeyInfo
    // (signCertificate swaps it in); this RSA key only lets forge lay out the TBSCertificate.
    cert.publicKey = this.signing.cert.publicKey;
    cert.serialNumber = randomSerialHex(randomBytes);
    cert.validity.notBefore = new Date(now - NOT_BEFORE_SKEW_MS);
    cert.validity.notAfter = new Date(now + ttlSeconds * 1000);
    // Empty subject, so the SAN is the whole identity and must be critical (RFC 5280 4.2.1.6).
    cert.setSubject([]);
    cert.setIssuer(this.signing.cert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      // RFC 5480: an ECDSA key signs; only an RSA key may also encipher (RSA key exchange).
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: csr.keyType === 'rsa', critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.authorityKeyId },
      { name: 'subjectAltName', altNames: [{ type: 6, value: id }], critical: true },
    ]);
    let certPem: string;
    try {
      certPem = signCertificate(cert, this.signing.key, csr.spki);
    } catch (err) {
      throw new CitadelError('SIGN_FAILED', `signing failed: ${(err as Error).message}`);
    }
    const x = new X509Certificate(certPem);
    if (!x.publicKey.equals(csr.publicKey)) throw new CitadelError('SIGN_FAILED', 'the signed certificate does not carry the CSR key');
    return { certPem: x.toString(), serial: x.serialNumber, spiffeId: id, notBefore: cert.validity.notBefore, notAfter: cert.validity.notAfter };
  }
}
