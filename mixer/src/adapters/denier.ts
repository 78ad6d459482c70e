// Istio 1.1's denier: answers every check it is sent with a fixed status.
import { durationMs, intParam, HandlerConfigError, type AdapterFactory } from './handler.js';

export const denierAdapter: AdapterFactory = {
  adapter: 'denier',
  templates: ['checknothing', 'listentry', 'authorization', 'apikey'],
  build(name, params) {
    const status = (params.status ?? {}) as { code?: unknown; message?: unknown };
    const code = status.code === undefined ? 7 : Number(status.code);
    if (!Number.isInteger(code) || code < 0 || code > 16) throw new HandlerConfigError(`status.code: ${JSON.stringify(status.code)} is not an rpc code (0-16)`);
    const message = typeof status.message === 'string' ? status.message : '';
    const validDurationMs = durationMs(params.validDuration, 'validDuration', 5000);
    const validUseCount = intParam(params.validUseCount, 'validUseCount', 1000);
    return {
      name, adapter: 'denier',
      check: () => ({ code, message, validDurationMs, validUseCount }),
      describe: () => ({ code, message }),
    };
  },
};
