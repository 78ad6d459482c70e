// The Docker engine as docker attestation sees it: inspect one container by id prefix.

import Docker from 'dockerode';
import type { ContainerInspector } from './attest.js';

export function dockerInspector(socketPath: string): ContainerInspector {
  const docker = new Docker({ socketPath });
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
