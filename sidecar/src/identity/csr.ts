// The workload's key pair and its certificate signing request. The private key stays in
// this process; only the CSR (public key + proof of possession) travels to citadel.
//
// Keys are ECDSA P-256 by default (Istio's ECC_SIGNATURE_ALGORITHM=ECDSA): generating one and
// signing the CSR take well under a millisecond, where RSA-2048 generation costs ~0.2 s of CPU
// per sidecar start. RSA-2048 stays available (MESH_KEY_ALGORITHM=RSA_2048). The CSR is
// assembled as DER and signed with node:crypto, so the sidecar does not load node-forge.

import { createPrivateKey, createPublicKey, generateKeyPair, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { bits, int, nul, octets, oid, seq, set, tlv, utf8 } from './der.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export const KEY_ALGORITHMS = ['ECDSA_P256', 'RSA_2048'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ECDSA_P256';

export interface KeyPair {
  keyPem: string;
  publicKeyPem: string;
}

const OID = {
  organizationName: '2.5.4.10',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
};

/** A fresh workload key, generated natively (forge's pure-JS RSA generation takes seconds). */
export async function generateWorkloadKey(algorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): Promise<KeyPair> {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const { privateKey, publicKey } = algorithm === 'RSA_2048'
    ? await generateKeyPairAsync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
    : await generateKeyPairAsync('ec', { namedCurve: 'prime256v1', publicKeyEncoding, privateKeyEncoding });
  return { keyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * A PKCS#10 request signed with the workload key (RSA or EC). It names the identity we want
 * (SAN URI), but citadel ignores that and writes the identity it verified.
 */
export function buildCsr(key: KeyPair, spiffeId: string, trustDomain: string): string {
  const privateKey = createPrivateKey(key.keyPem);
  const spki = createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' });
  const subject = seq(set(seq(oid(OID.organizationName), utf8(trustDomain))));
  // GeneralName uniformResourceIdentifier is [6] IMPLICIT IA5String.
  const san = seq(tlv(0x86, Buffer.from(spiffeId, 'ascii')));
  const extensionRequest = seq(oid(OID.extensionRequest), set(seq(seq(oid(OID.subjectAltName), octets(san)))));
  const info = seq(int(0), subject, spki, tlv(0xa0, extensionRequest));
  const algorithm = privateKey.asymmetricKeyType === 'ec'
    ? seq(oid(OID.ecdsaWithSHA256)) // RFC 5758: no parameters
    : seq(oid(OID.sha256WithRSAEncryption), nul());
  // ECDSA signatures come DER-encoded (r, s), as X.509 wants them.
  const der = seq(info, algorithm, bits(sign('sha256', info, privateKey)));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`;
}
