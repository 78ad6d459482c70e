// Route and weighted-destination header mutations (VirtualService `headers`), applied to the
// forwarded request and to the response on its way back.

import type { HeaderMutations } from '#api';
import type { Layer } from '../exchange.js';
import { applyMutations } from '../headers.js';

export function headersLayer(request: HeaderMutations | undefined, response: HeaderMutations | undefined): Layer {
  return (next) => async (ex) => {
    applyMutations(ex.headers, request);
    applyMutations(ex.headers, ex.target?.headers);
    const r = await next(ex);
    applyMutations(r.headers, ex.target?.responseHeaders);
    applyMutations(r.headers, response);
    return r;
  };
}
