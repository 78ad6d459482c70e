// The workload's key pair and its certificate signing request. The private key stays in
// this process; only the CSR (public key + proof of possession) travels to citadel.

import { generateKeyPair, sign } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);
const getCertificationRequestInfo = (forge.pki as unknown as { getCertificationRequestInfo(c: forge.pki.CertificateSigningRequest): forge.asn1.Asn1 }).getCertificationRequestInfo;

export interface KeyPair {
  keyPem: string;
  publicKeyPem: string;
}

/** RSA 2048 in node:crypto (native; forge's pure-JS generation takes seconds). */
export async function generateWorkloadKey(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { keyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * A PKCS#10 request signed with the workload key. It names the identity we want (SAN URI),
 * but citadel ignores that and writes the identity it verified.
 */
export function buildCsr(key: KeyPair, spiffeId: string, trustDomain: string): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(key.publicKeyPem);
  csr.setSubject([{ name: 'organizationName', value: trustDomain }]);
  csr.setAttributes([
    { name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: [{ type: 6, value: spiffeId }] }] },
  ]);
  // Signed natively, as citadel signs certificates: forge's pure-JS RSA signature (and parsing
  // the private key into forge) cost every sidecar start tens of milliseconds of CPU.
  csr.signatureOid = csr.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  csr.certificationRequestInfo = getCertificationRequestInfo(csr);
  const info = Buffer.from(forge.asn1.toDer(csr.certificationRequestInfo).getBytes(), 'binary');
  csr.signature = sign('sha256', info, key.keyPem).toString('binary');
  return forge.pki.certificationRequestToPem(csr);
}
