// The sidecar's identity client: its own key, a CSR to citadel over the bus, rotation, and
// the trust bundle. The rest of the sidecar uses only what this file exports.

import type { WorkloadIdentity } from './types.js';

export type { WorkloadIdentity, IdentityManager, IdentityManagerOptions, IdentityStatus } from './types.js';
export { createIdentityManager, IdentityError, leafTrustedBy, splitPemCerts } from './manager.js';
export { peerSpiffeId } from './peer.js';
export { KEY_ALGORITHMS, DEFAULT_KEY_ALGORITHM, type KeyAlgorithm } from './csr.js';

/** Key, chain and roots as node:tls wants them, for both the inbound server and outbound client. */
export function tlsCredentials(id: WorkloadIdentity): { key: string; cert: string; ca: string } {
  return { key: id.keyPem, cert: id.certChainPem, ca: id.rootsPem };
}
