// Per-route composition (Envoy's filter chain ending in the router): only the layers a route
// configures are in its chain. Order matters: fault before anything reaches upstream;
// headers once per request; the timeout over all retries; the balancer per attempt.
// cors answers preflights before anything else; mirror copies the request once, after the
// header mutations; circuit breaking (UO) is per attempt, above the balancer, which reports
// each attempt's outcome to the cluster's outlier detector.

import type { CompiledRoute } from './compile.js';
import type { Layer, Service } from './exchange.js';
import { stack } from './exchange.js';
import { balanceLayer } from './layers/balance.js';
import { circuitBreakerLayer } from './layers/circuit-breaker.js';
import { corsLayer } from './layers/cors.js';
import { mirrorLayer, type Shadow } from './layers/mirror.js';
import { directResponseService } from './layers/direct-response.js';
import { faultLayer } from './layers/fault.js';
import { headersLayer } from './layers/headers.js';
import { retryLayer } from './layers/retry.js';
import { timeoutLayer } from './layers/timeout.js';

export interface ChainDeps {
  forward: Service;
  /** Sends mirrored copies (forward.ts). */
  shadow?: Shadow;
  random?: () => number;
  onRetry?: () => void;
  /** Client-side mixer policy check, when enabled (gateways). */
  policy?: () => Layer | undefined;
}

export function buildRouteChain(route: CompiledRoute, deps: ChainDeps): Service {
  const action = route.route.action;
  if (action.kind !== 'route') return directResponseService(action);
  const layers: Layer[] = [];
  if (route.cors) layers.push(corsLayer(route.cors));
  const policy = deps.policy?.();
  if (policy) layers.push(policy);
  if (route.fault) layers.push(faultLayer(route.fault, deps.random));
  if (route.requestHeaders || route.responseHeaders || route.targets.some((t) => t.headers || t.responseHeaders)) {
    layers.push(headersLayer(route.requestHeaders, route.responseHeaders));
  }
  if (route.mirror && deps.shadow) layers.push(mirrorLayer(route.mirror, deps.shadow, deps.random));
  if (route.timeoutMs > 0) layers.push(timeoutLayer(route.timeoutMs));
  if (route.retry) {
    const opts: { random?: () => number; onRetry?: () => void } = {};
    if (deps.random) opts.random = deps.random;
    if (deps.onRetry) opts.onRetry = deps.onRetry;
    layers.push(retryLayer(route.retry, opts));
  }
  if (route.targets.some((t) => t.cluster.pool)) layers.push(circuitBreakerLayer);
  layers.push(balanceLayer);
  return stack(layers, deps.forward);
}
