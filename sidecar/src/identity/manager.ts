// Keeps this workload's certificate fresh: a new key and CSR at start and at ~50 % of each
// cert's life, retries with backoff while citadel is away (the current cert keeps serving),
// and follows the mesh trust bundle.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Subscription } from 'nats';
import { DEFAULT_TRUST_DOMAIN, spiffeId as spiffeIdOf, subjects, type CsrRequest, type CsrResponse, type TrustBundle } from '#api';
import { buildCsr, generateWorkloadKey } from './csr.js';
import { writeCertFiles } from './cert-files.js';
import { backoffMs, renewalDelayMs } from './schedule.js';
import type { IdentityManager, IdentityManagerOptions, IdentityStatus, WorkloadIdentity } from './types.js';

/** setTimeout overflows above 2^31-1 ms (~24.8 days); a 90-day cert renews later than that. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class IdentityError extends Error {
  constructor(readonly code: string, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'IdentityError';
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPemCerts(pem: string): string[] {
  return pem.match(PEM_CERT) ?? [];
}

/** True when some root in the bundle signed this leaf. */
export function leafTrustedBy(leafPem: string, rootsPem: string): boolean {
  let leaf: X509Certificate;
  try { leaf = new X509Certificate(leafPem); } catch { return false; }
  for (const pem of splitPemCerts(rootsPem)) {
    try {
      const root = new X509Certificate(pem);
      if (leaf.checkIssued(root) && leaf.verify(root.publicKey)) return true;
    } catch { /* a bad entry in the bundle does not hide the good ones */ }
  }
  return false;
}

export function createIdentityManager(opts: IdentityManagerOptions): IdentityManager {
  const log = opts.log.child({ subsystem: 'identity' });
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const wantedId = spiffeIdOf(opts.namespace, opts.serviceAccount, trustDomain);
  const retryInitialMs = opts.retryInitialMs ?? 500;
  const retryMaxMs = opts.retryMaxMs ?? 30_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 5_000;

  let current: WorkloadIdentity | undefined;
  let rotatesAt: Date | undefined;
  let lastError: string | undefined;
  let bundleVersion: string | undefined;
  let attempt = 0;
  /** The delays of the current run of failed renewals (reset by a success), for the admin view. */
  let retryDelays: number[] = [];
  let lastRenewedAt: Date | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> | undefined;
  let stopped = false;
  let bundleSub: Subscription | undefined;
  let started: Promise<WorkloadIdentity> | undefined;
  let resolveFirst: ((id: WorkloadIdentity) => void) | undefined;
  let rejectFirst: ((err: Error) => void) | undefined;
  const listeners: ((id: WorkloadIdentity) => void)[] = [];

  function emit(id: WorkloadIdentity): void {
    for (const cb of listeners) {
      try { cb(id); } catch (err) { log.error({ err }, 'identity change listener failed'); }
    }
  }

  function persist(id: WorkloadIdentity): void {
    if (!opts.certDir) return;
    writeCertFiles(opts.certDir, id.certChainPem, id.rootsPem).catch((err: unknown) =>
      log.warn({ err, certDir: opts.certDir }, 'could not write certificate files'));
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(timer);
    const due = Date.now() + delayMs;
    rotatesAt = new Date(due);
    const arm = () => {
      timer = setTimeout(() => {
        if (Date.now() < due) arm();
        else void renew();
      }, Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now())));
      timer.unref();
    };
    arm();
  }

  async function issueOnce(): Promise<WorkloadIdentity> {
    const key = await generateWorkloadKey(opts.keyAlgorithm);
    const req: CsrRequest = {
      proxyId: opts.proxyId,
      csrPem: buildCsr(key, wantedId, trustDomain),
      namespace: opts.namespace,
      serviceAccount: opts.serviceAccount,
      token: opts.token,
      ttlSeconds: opts.ttlSeconds,
    };
    let resp: CsrResponse;
    try {
      resp = await opts.bus.request<CsrResponse>(subjects.certSign, req, requestTimeoutMs);
    } catch (err) {
      throw new IdentityError('CITADEL_UNREACHABLE', `no answer from citadel on ${subjects.certSign}: ${(err as Error).message}`);
    }
    if (!resp || typeof resp !== 'object') throw new IdentityError('CITADEL_BAD_REPLY', 'citadel sent a reply that is not an object');
    if (!resp.ok) throw new IdentityError(resp.code ?? 'CSR_REFUSED', resp.message ?? 'citadel refused the CSR');

    const leafPem = splitPemCerts(resp.certChainPem)[0];
    if (!leafPem) throw new IdentityError('CITADEL_BAD_REPLY', 'citadel sent no certificate');
    const leaf = new X509Certificate(leafPem);
    // A cert for someone else's key would fail every handshake: refuse it here, loudly.
    if (!leaf.checkPrivateKey(createPrivateKey(key.keyPem))) {
      throw new IdentityError('CERT_KEY_MISMATCH', 'the certificate citadel returned is not for this workload key');
    }
    const uri = /URI:(spiffe:\/\/[^,\s"]+)/.exec(leaf.subjectAltName ?? '')?.[1];
    if (uri !== wantedId) log.warn({ wanted: wantedId, got: uri }, 'citadel issued a different identity than requested');
    return {
      keyPem: key.keyPem,
      certChainPem: resp.certChainPem,
      rootsPem: resp.rootsPem,
      spiffeId: uri ?? wantedId,
      serial: resp.serial,
      notBefore: new Date(resp.notBefore),
      notAfter: new Date(resp.notAfter),
    };
  }

  function renew(): Promise<void> {
    if (inflight || stopped) return inflight ?? Promise.resolve();
    inflight = (async () => {
      try {
        const id = await issueOnce();
        if (stopped) return;
        const receivedAt = Date.now();
        current = id;
        attempt = 0;
        retryDelays = [];
        lastRenewedAt = new Date(receivedAt);
        lastError = undefined;
        log.info({ spiffeId: id.spiffeId, serial: id.serial, notAfter: id.notAfter.toISOString() }, 'workload certificate issued');
        schedule(renewalDelayMs(receivedAt, id.notAfter.getTime()));
        persist(id);
        resolveFirst?.(id);
        resolveFirst = undefined;
        rejectFirst = undefined;
        emit(id);
      } catch (err) {
        if (stopped) return;
        const code = err instanceof IdentityError ? err.code : 'IDENTITY_FAILED';
        lastError = (err as Error).message;
        const delay = backoffMs(attempt++, retryInitialMs, retryMaxMs);
        retryDelays = [...retryDelays.slice(-19), delay];
        log.warn({ code, err: lastError, retryInMs: delay, serving: current?.serial }, 'could not obtain a workload certificate; retrying');
        schedule(delay);
      }
    })().finally(() => { inflight = undefined; });
    return inflight;
  }

  function onBundle(bundle: TrustBundle): void {
    if (stopped || !bundle || typeof bundle.rootsPem !== 'string' || splitPemCerts(bundle.rootsPem).length === 0) {
      if (!stopped) log.warn('ignored a trust bundle with no certificates');
      return;
    }
    if (bundle.version === bundleVersion) return;
    bundleVersion = bundle.version;
    if (!current || current.rootsPem === bundle.rootsPem) return;
    log.info({ version: bundle.version }, 'trust bundle changed');
    current = { ...current, rootsPem: bundle.rootsPem };
    persist(current);
    emit(current);
    // Citadel signs with a root we no longer trust (e.g. it lost its data): get a new cert now.
    const leafPem = splitPemCerts(current.certChainPem)[0];
    if (leafPem && !leafTrustedBy(leafPem, bundle.rootsPem)) {
      log.warn('current certificate is not signed by any trusted root; renewing now');
      void renew();
    }
  }

  function fetchBundle(): void {
    if (stopped) return;
    opts.bus.request<TrustBundle>(subjects.trustBundleGet, {}, requestTimeoutMs)
      .then(onBundle)
      .catch((err: unknown) => log.debug({ err: (err as Error).message }, 'trust bundle fetch failed; waiting for the next publish'));
  }

  return {
    start() {
      if (started) return started;
      started = new Promise<WorkloadIdentity>((resolve, reject) => {
        resolveFirst = resolve;
        rejectFirst = reject;
      });
      bundleSub = opts.bus.subscribe<TrustBundle>(subjects.trustBundle, (m) => onBundle(m.data));
      opts.bus.onReconnect(() => {
        // Bundles published while we were disconnected are lost: ask again.
        fetchBundle();
        // A failing renewal may be deep in its backoff: the bus is back, so try now.
        if (lastError !== undefined && !stopped) {
          attempt = 0;
          void renew();
        }
      });
      void renew();
      return started;
    },
    current: () => current,
    onChange(cb) {
      listeners.push(cb);
    },
    status(): IdentityStatus {
      return {
        spiffeId: current?.spiffeId ?? wantedId,
        serial: current?.serial,
        notBefore: current?.notBefore.toISOString(),
        notAfter: current?.notAfter.toISOString(),
        rotatesAt: rotatesAt?.toISOString(),
        trustBundleVersion: bundleVersion,
        lastError,
        ...(lastRenewedAt ? { lastRenewedAt: lastRenewedAt.toISOString() } : {}),
        renewalFailures: attempt,
        ...(retryDelays.length ? { retryDelaysMs: [...retryDelays] } : {}),
        ...(current ? { expired: current.notAfter.getTime() <= Date.now() } : {}),
        ...(current ? { certChainPem: current.certChainPem, rootsPem: current.rootsPem } : {}),
      };
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      bundleSub?.unsubscribe();
      rejectFirst?.(new IdentityError('IDENTITY_STOPPED', 'identity manager stopped before a certificate was issued'));
      rejectFirst = undefined;
      resolveFirst = undefined;
    },
  };
}
