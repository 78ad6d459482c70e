// Reading the peer's identity from a TLS connection: the SPIFFE URI SAN of its certificate.

import type { PeerCertificate } from 'node:tls';

// Node lists SANs as `DNS:a, URI:spiffe://...`; values with special characters come JSON-quoted.
const SAN_ENTRY = /(?:^|,\s*)URI:(?:"((?:[^"\\]|\\.)*)"|([^,]*))/g;

export function peerSpiffeId(cert: PeerCertificate | undefined): string | undefined {
  const san = cert?.subjectaltname;
  if (!san) return undefined;
  for (const m of san.matchAll(SAN_ENTRY)) {
    let uri: string | undefined;
    if (m[1] !== undefined) {
      try { uri = JSON.parse(`"${m[1]}"`) as string; } catch { continue; }
    } else {
      uri = m[2]?.trim();
    }
    if (uri?.startsWith('spiffe://')) return uri;
  }
  return undefined;
}
