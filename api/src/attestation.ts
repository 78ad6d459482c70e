// Process-mode attestation: citadel and the launcher share a secret and derive one bootstrap
// token per identity, so a workload can only ask for the identity it was launched with.

import { createHmac } from 'node:crypto';

/** base64url(HMAC-SHA256(secret, `${namespace}/${serviceAccount}`)). */
export function bootstrapToken(secret: string, namespace: string, serviceAccount: string): string {
  return createHmac('sha256', secret).update(`${namespace}/${serviceAccount}`).digest('base64url');
}
