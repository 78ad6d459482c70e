// Per-route composition (Envoy's filter chain ending in the router): only the layers a route
// configures are in its chain. Order matters: fault before anything reaches upstream;
// headers once per request; the timeout over all retries; the balancer per attempt.
// Later layers slot in here: cors (before fault), mirror (beside retry), circuit breaking /
// connection pool (UO) and outlier ejection (around balance).

import type { CompiledRoute } from './compile.js';
import type { Layer, Service } from './exchange.js';
import { stack } from './exchange.js';
import { balanceLayer } from './layers/balance.js';
import { directResponseService } from './layers/direct-response.js';
import { faultLayer } from './layers/fault.js';
import { headersLayer } from './layers/headers.js';
import { retryLayer } from './layers/retry.js';
import { timeoutLayer } from './layers/timeout.js';

export interface ChainDeps {
  forward: Service;
  random?: () => number;
  onRetry?: () => void;
}

export function buildRouteChain(route: CompiledRoute, deps: ChainDeps): Service {
  const action = route.route.action;
  if (action.kind !== 'route') return directResponseService(action);
  const layers: Layer[] = [];
  if (route.fault) layers.push(faultLayer(route.fault, deps.random));
  if (route.requestHeaders || route.responseHeaders || route.targets.some((t) => t.headers)) {
    layers.push(headersLayer(route.requestHeaders, route.responseHeaders));
  }
  if (route.timeoutMs > 0) layers.push(timeoutLayer(route.timeoutMs));
  if (route.retry) {
    const opts: { random?: () => number; onRetry?: () => void } = {};
    if (deps.random) opts.random = deps.random;
    if (deps.onRetry) opts.onRetry = deps.onRetry;
    layers.push(retryLayer(route.retry, opts));
  }
  layers.push(balanceLayer);
  return stack(layers, deps.forward);
}
