// Traffic mirroring (VirtualService `mirror` with `mirrorPercentage`): a share of requests is
// copied to another cluster, fire and forget. The client only ever sees the primary's answer;
// the copy's answer is drained and dropped. As in Envoy, the copy's Host gets `-shadow`
// (`reviews:9080` -> `reviews-shadow:9080`). Requests with a body are copied when the body
// is small enough to buffer (it is then replayed to the primary from memory).

import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledCluster } from '../compile.js';
import type { Layer } from '../exchange.js';
import { localResponse } from '../exchange.js';
import { readBody, RETRY_BUFFER_LIMIT } from './retry.js';

export interface ShadowRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body?: Buffer;
}

export type Shadow = (cluster: CompiledCluster, req: ShadowRequest) => void;

export function shadowHost(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && !authority.endsWith(']')) return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
  return `${authority}-shadow`;
}

export function mirrorLayer(m: { cluster: CompiledCluster; percent: number }, shadow: Shadow, random: () => number = Math.random): Layer {
  return (next) => async (ex) => {
    if (random() * 100 < m.percent) {
      if (ex.hasBody && !ex.bufferedBody) {
        const len = Number(ex.headers['content-length']);
        if (Number.isInteger(len) && len > 0 && len <= RETRY_BUFFER_LIMIT) {
          const body = await readBody(ex.req, RETRY_BUFFER_LIMIT);
          if (!body) return localResponse(400, 'request body incomplete\n', 'DC', 'downstream-gone');
          ex.bufferedBody = body;
        }
      }
      if (!ex.hasBody || ex.bufferedBody) {
        const headers: IncomingHttpHeaders = { ...ex.headers, host: shadowHost(String(ex.headers.host ?? ex.authority)) };
        shadow(m.cluster, { method: ex.method, path: ex.path, headers, ...(ex.bufferedBody ? { body: ex.bufferedBody } : {}) });
      }
    }
    return next(ex);
  };
}
