// The mesh root: created once, persisted in the data dir (key 0600), reused across restarts,
// so every cert issued before a restart stays trusted after it.

import { X509Certificate, createPrivateKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import type { Logger } from '#api';
import { CitadelError } from './errors.js';
import { randomSerialHex, signCertificate } from './forge-sign.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export const ROOT_KEY_FILE = 'root-key.pem';
export const ROOT_CERT_FILE = 'root-cert.pem';
/** Optional: more roots to trust (e.g. the previous root during a rotation), PEM, concatenated. */
export const EXTRA_ROOTS_FILE = 'extra-roots.pem';

/** What citadel shows about a root; never the key. */
export interface RootInfo {
  certPem: string;
  serial: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
}

export interface SigningRoot {
  info: RootInfo;
  key: KeyObject;
  /** Parsed once: the issuer name and key id every leaf copies. */
  cert: forge.pki.Certificate;
  subjectKeyId: string;
}

export function rootInfo(certPem: string): RootInfo {
  const x = new X509Certificate(certPem);
  return {
    certPem: x.toString(),
    serial: x.serialNumber,
    subject: x.subject,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprint256: x.fingerprint256,
  };
}

/** A self-signed root, built with forge, signed with node:crypto. */
export async function createRoot(trustDomain: string, ttlDays: number): Promise<{ keyPem: string; certPem: string }> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = randomSerialHex(randomBytes);
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + ttlDays * 86_400_000);
  const name = [{ name: 'organizationName', value: trustDomain }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return { keyPem: privateKey, certPem: signCertificate(cert, createPrivateKey(privateKey)) };
}

function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode); // the umask may have narrowed or (for 0600) nothing else must widen it
  await rename(tmp, file);
}

/** Checks a root pair before citadel signs anything with it. */
export function toSigningRoot(keyPem: string, certPem: string, where: string): SigningRoot {
  let x: X509Certificate;
  let key: KeyObject;
  try {
    x = new X509Certificate(certPem);
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new CitadelError('CA_ROOT_INVALID', `${where}: cannot parse the root key or certificate: ${(err as Error).message}`);
  }
  if (!x.ca) throw new CitadelError('CA_ROOT_INVALID', `${where}: the root certificate is not a CA certificate`);
  if (!x.checkPrivateKey(key)) throw new CitadelError('CA_ROOT_INVALID', `${where}: ${ROOT_KEY_FILE} does not match ${ROOT_CERT_FILE}`);
  if (new Date(x.validTo).getTime() <= Date.now()) throw new CitadelError('CA_ROOT_INVALID', `${where}: the root certificate expired on ${x.validTo}`);
  const cert = forge.pki.certificateFromPem(certPem);
  const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return {
    info: rootInfo(certPem),
    key,
    cert,
    subjectKeyId: ski?.subjectKeyIdentifier ?? cert.generateSubjectKeyIdentifier().toHex(),
  };
}

export interface LoadedRoots {
  signing: SigningRoot;
  /** Other roots to keep trusting (from extra-roots.pem). */
  extra: RootInfo[];
  created: boolean;
}

export async function loadOrCreateRoot(opts: { dataDir: string; trustDomain: string; rootTtlDays: number; log: Logger }): Promise<LoadedRoots> {
  const keyFile = join(opts.dataDir, ROOT_KEY_FILE);
  const certFile = join(opts.dataDir, ROOT_CERT_FILE);
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const [hasKey, hasCert] = await Promise.all([exists(keyFile), exists(certFile)]);
  let created = false;
  let keyPem: string;
  let certPem: string;
  if (hasKey && hasCert) {
    [keyPem, certPem] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
    const mode = (await stat(keyFile)).mode & 0o777;
    if (mode !== 0o600) {
      opts.log.warn({ file: keyFile, mode: mode.toString(8) }, 'root key file was readable by others; setting mode 0600');
      await chmod(keyFile, 0o600);
    }
  } else if (hasKey || hasCert) {
    // Never silently replace half a root: every cert issued under it would stop verifying.
    throw new CitadelError('CA_ROOT_INCOMPLETE', `${opts.dataDir}: found ${hasKey ? ROOT_KEY_FILE : ROOT_CERT_FILE} without ${hasKey ? ROOT_CERT_FILE : ROOT_KEY_FILE}; restore it or remove both to create a new root`);
  } else {
    ({ keyPem, certPem } = await createRoot(opts.trustDomain, opts.rootTtlDays));
    await writeAtomic(keyFile, keyPem, 0o600);
    await writeAtomic(certFile, certPem, 0o644);
    created = true;
  }
  const signing = toSigningRoot(keyPem, certPem, opts.dataDir);
  const extra: RootInfo[] = [];
  const extraFile = join(opts.dataDir, EXTRA_ROOTS_FILE);
  if (await exists(extraFile)) {
    const pems = (await readFile(extraFile, 'utf8')).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    for (const [i, pem] of pems.entries()) {
      try {
        const info = rootInfo(pem);
        if (info.fingerprint256 !== signing.info.fingerprint256) extra.push(info);
      } catch (err) {
        opts.log.warn({ file: extraFile, index: i, err: (err as Error).message }, 'skipped an extra root that does not parse');
      }
    }
  }
  opts.log.info({ created, serial: signing.info.serial, fingerprint256: signing.info.fingerprint256, notAfter: signing.info.notAfter, extraRoots: extra.length }, created ? 'created a new root CA' : 'loaded the root CA');
  return { signing, extra, created };
}
