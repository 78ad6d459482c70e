// Certificates are built with node-forge and signed with node:crypto: forge's pure-JS RSA
// signs ~30 certs/s, native signing of the same TBS bytes ~400/s, and the result is identical.
// forge models RSA keys only, so a leaf for an ECDSA workload key gets the CSR's
// SubjectPublicKeyInfo inserted into forge's TBSCertificate as is.

import { sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const getTBSCertificate = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate;

/** Where forge's TBSCertificate holds subjectPublicKeyInfo (after version, serial, signature, issuer, validity, subject). */
const TBS_SPKI_INDEX = 6;

/**
 * Signs `cert` in place with SHA-256/RSA and returns its PEM. With `subjectPublicKeyInfo`, that
 * SPKI (any key type) replaces the one forge laid out from `cert.publicKey`.
 */
export function signCertificate(cert: forge.pki.Certificate, issuerKey: KeyObject, subjectPublicKeyInfo?: forge.asn1.Asn1): string {
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.signatureParameters = cert.siginfo.parameters = undefined;
  cert.tbsCertificate = getTBSCertificate(cert);
  if (subjectPublicKeyInfo) {
    const fields = cert.tbsCertificate.value as forge.asn1.Asn1[];
    const placeholder = fields[TBS_SPKI_INDEX];
    // An SPKI is SEQUENCE { AlgorithmIdentifier SEQUENCE, BIT STRING }: refuse to overwrite anything else.
    if (placeholder?.type !== forge.asn1.Type.SEQUENCE || (placeholder.value as forge.asn1.Asn1[])[1]?.type !== forge.asn1.Type.BITSTRING) {
      throw new Error('unexpected TBSCertificate layout: no subjectPublicKeyInfo at its place');
    }
    fields[TBS_SPKI_INDEX] = subjectPublicKeyInfo;
  }
  const tbsDer = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', tbsDer, issuerKey).toString('binary');
  return forge.pki.certificateToPem(cert);
}

/** 128 random bits as a positive DER INTEGER with no leading zero byte (hex). */
export function randomSerialHex(randomBytes: (n: number) => Buffer): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) || 0x01;
  return b.toString('hex');
}
