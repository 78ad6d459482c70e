// The end of the listener stack: hands the exchange to its route's own chain, built on first
// use and cached on the compiled route (a new push brings new routes, hence new chains).

import type { Service } from '../exchange.js';
import type { CompiledRoute } from '../compile.js';

export function dispatchService(buildChain: (route: CompiledRoute) => Service): Service {
  return (ex) => {
    const route = ex.route!;
    const chain = route.chain ?? (route.chain = buildChain(route));
    return chain(ex);
  };
}
