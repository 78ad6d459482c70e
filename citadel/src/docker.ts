// The Docker engine as docker attestation sees it: inspect one container by id prefix.

import { createRequire } from 'node:module';
import type Docker from 'dockerode';
import type { ContainerInspector } from './attest.js';

// dockerode costs ~0.45 s of CPU to load, and only docker attestation (compose) uses it:
// required here, when that attestor is built, not when citadel starts.
const require = createRequire(import.meta.url);

export function dockerInspector(socketPath: string): ContainerInspector {
  const DockerClass = require('dockerode') as typeof Docker;
  const docker = new DockerClass({ socketPath });
  return {
    async inspect(id) {
      try {
        const info = await docker.getContainer(id).inspect();
        return { labels: info.Config?.Labels ?? {}, running: info.State?.Running === true };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    },
  };
}
