// Fault injection (VirtualService `fault`): a delay (flag DI) and/or an abort answered by the
// proxy (flag FI), each with its own percentage.

import type { FaultPolicy } from '#api';
import type { Layer } from '../exchange.js';
import { localResponse } from '../exchange.js';

export function faultLayer(fault: FaultPolicy, random: () => number = Math.random): Layer {
  return (next) => async (ex) => {
    const d = fault.delay;
    if (d && d.fixedDelayMs > 0 && random() * 100 < d.percent) {
      ex.flags.push('DI');
      await new Promise((r) => setTimeout(r, d.fixedDelayMs));
      if (ex.downstreamGone) return localResponse(499, 'client went away\n');
    }
    const a = fault.abort;
    if (a && random() * 100 < a.percent) return localResponse(a.httpStatus, 'fault filter abort\n', 'FI');
    return next(ex);
  };
}
