// VirtualService field validation (networking.istio.io v1alpha3/v1beta1/v1; Istio 1.1
// spellings such as mirrorPercent, fault.*.percent and appendHeaders are accepted).

import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';

const hostPattern = /^(\*|(\*\.)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

export function checkHost(c: FieldChecker, path: string, v: unknown): void {
  const h = c.string(path, v, { required: true });
  if (h !== undefined && !hostPattern.test(h)) c.error(path, `${JSON.stringify(h)} is not a valid host (a DNS name, optionally starting with "*.")`);
}

export function checkDestination(c: FieldChecker, path: string, v: unknown): void {
  const d = c.object(path, v, true, ['host', 'subset', 'port']);
  if (!d) return;
  checkHost(c, at(path, 'host'), d.host);
  c.string(at(path, 'subset'), d.subset, { nonEmpty: true });
  const port = c.object(at(path, 'port'), d.port, false, ['number', 'name']);
  if (port) {
    if (port.number === undefined && port.name === undefined) c.error(at(path, 'port'), 'needs a number');
    c.port(at(at(path, 'port'), 'number'), port.number);
    c.string(at(at(path, 'port'), 'name'), port.name);
  }
}

/** Weights 0..100; with several destinations they must add up to 100. */
function checkWeights(c: FieldChecker, path: string, routes: unknown[]): void {
  let sum = 0;
  let allValid = true;
  routes.forEach((r, i) => {
    if (r === null || typeof r !== 'object') return;
    const w = (r as Obj).weight;
    const n = c.int(at(at(path, i), 'weight'), w, 0, 100);
    if (w !== undefined && n === undefined) allValid = false;
    sum += n ?? 0;
  });
  if (routes.length > 1 && allValid && sum !== 100) c.error(path, `destination weights add up to ${sum}, they must add up to 100`);
}

function checkHeaderOps(c: FieldChecker, path: string, v: unknown): void {
  const h = c.object(path, v, false, ['request', 'response']);
  if (!h) return;
  for (const side of ['request', 'response'] as const) {
    const ops = c.object(at(path, side), h[side], false, ['set', 'add', 'remove']);
    if (!ops) continue;
    c.stringMap(at(at(path, side), 'set'), ops.set);
    c.stringMap(at(at(path, side), 'add'), ops.add);
    c.strings(at(at(path, side), 'remove'), ops.remove);
  }
}

/** Istio 1.1's header fields on routes and destinations. */
function checkLegacyHeaderOps(c: FieldChecker, path: string, o: Obj): void {
  for (const k of ['appendHeaders', 'appendRequestHeaders', 'appendResponseHeaders'] as const) c.stringMap(at(path, k), o[k]);
  for (const k of ['removeRequestHeaders', 'removeResponseHeaders'] as const) c.strings(at(path, k), o[k]);
}

const httpMatchFields = ['name', 'uri', 'scheme', 'method', 'authority', 'headers', 'port', 'sourceLabels', 'gateways',
  'queryParams', 'ignoreUriCase', 'withoutHeaders', 'sourceNamespace', 'statPrefix'];

function checkHttpMatch(c: FieldChecker, path: string, v: unknown): void {
  const m = c.object(path, v, true, httpMatchFields);
  if (!m) return;
  c.string(at(path, 'name'), m.name);
  for (const k of ['uri', 'scheme', 'method', 'authority'] as const) {
    if (m[k] !== undefined) c.stringMatch(at(path, k), m[k]);
  }
  // An empty match on a header means "present" (current Istio); the sidecar's matcher agrees.
  for (const k of ['headers', 'withoutHeaders', 'queryParams'] as const) c.stringMatchMap(at(path, k), m[k], true);
  c.port(at(path, 'port'), m.port);
  c.labels(at(path, 'sourceLabels'), m.sourceLabels);
  c.strings(at(path, 'gateways'), m.gateways);
  c.bool(at(path, 'ignoreUriCase'), m.ignoreUriCase);
  c.string(at(path, 'sourceNamespace'), m.sourceNamespace);
}

function checkFault(c: FieldChecker, path: string, v: unknown): void {
  const f = c.object(path, v, false, ['delay', 'abort']);
  if (!f) return;
  if (f.delay === undefined && f.abort === undefined) c.error(path, 'needs a delay or an abort');
  const pct = (p: string, o: Obj) => {
    c.percent(at(p, 'percent'), o.percent);
    const pp = c.object(at(p, 'percentage'), o.percentage, false, ['value']);
    if (pp) c.percent(at(at(p, 'percentage'), 'value'), pp.value);
  };
  const delay = c.object(at(path, 'delay'), f.delay, false, ['fixedDelay', 'exponentialDelay', 'percent', 'percentage']);
  if (delay) {
    if (delay.fixedDelay === undefined && delay.exponentialDelay === undefined) c.error(at(path, 'delay'), 'needs fixedDelay');
    c.duration(at(at(path, 'delay'), 'fixedDelay'), delay.fixedDelay);
    c.duration(at(at(path, 'delay'), 'exponentialDelay'), delay.exponentialDelay);
    pct(at(path, 'delay'), delay);
  }
  const abort = c.object(at(path, 'abort'), f.abort, false, ['httpStatus', 'grpcStatus', 'http2Error', 'percent', 'percentage']);
  if (abort) {
    if (abort.httpStatus === undefined && abort.grpcStatus === undefined && abort.http2Error === undefined) c.error(at(path, 'abort'), 'needs httpStatus');
    c.int(at(at(path, 'abort'), 'httpStatus'), abort.httpStatus, 200, 599);
    pct(at(path, 'abort'), abort);
  }
}

function checkRetries(c: FieldChecker, path: string, v: unknown): void {
  const r = c.object(path, v, false, ['attempts', 'perTryTimeout', 'retryOn', 'retryRemoteLocalities', 'retryIgnorePreviousHosts', 'backoff']);
  if (!r) return;
  c.int(at(path, 'attempts'), r.attempts, 0, 1000, true);
  c.duration(at(path, 'perTryTimeout'), r.perTryTimeout);
  c.duration(at(path, 'backoff'), r.backoff);
  c.string(at(path, 'retryOn'), r.retryOn);
  c.bool(at(path, 'retryRemoteLocalities'), r.retryRemoteLocalities);
}

function checkCors(c: FieldChecker, path: string, v: unknown): void {
  const p = c.object(path, v, false, ['allowOrigin', 'allowOrigins', 'allowMethods', 'allowHeaders', 'exposeHeaders', 'maxAge', 'allowCredentials', 'unmatchedPreflights']);
  if (!p) return;
  c.strings(at(path, 'allowOrigin'), p.allowOrigin);
  const origins = c.list(at(path, 'allowOrigins'), p.allowOrigins);
  origins?.forEach((o, i) => c.stringMatch(at(at(path, 'allowOrigins'), i), o));
  for (const k of ['allowMethods', 'allowHeaders', 'exposeHeaders'] as const) c.strings(at(path, k), p[k]);
  c.duration(at(path, 'maxAge'), p.maxAge);
  c.bool(at(path, 'allowCredentials'), p.allowCredentials);
}

const httpRouteFields = ['name', 'match', 'route', 'redirect', 'directResponse', 'delegate', 'rewrite', 'timeout', 'retries',
  'fault', 'mirror', 'mirrors', 'mirrorPercent', 'mirrorPercentage', 'corsPolicy', 'headers', 'appendHeaders',
  'removeResponseHeaders', 'appendResponseHeaders', 'removeRequestHeaders', 'appendRequestHeaders', 'websocketUpgrade'];

function checkHttpRoute(c: FieldChecker, path: string, v: unknown): void {
  const r = c.object(path, v, true, httpRouteFields);
  if (!r) return;
  c.string(at(path, 'name'), r.name);
  c.list(at(path, 'match'), r.match)?.forEach((m, i) => checkHttpMatch(c, at(at(path, 'match'), i), m));

  const hasRoute = Array.isArray(r.route) && r.route.length > 0;
  const actions = [hasRoute && 'route', r.redirect !== undefined && 'redirect', r.directResponse !== undefined && 'directResponse', r.delegate !== undefined && 'delegate'].filter(Boolean);
  if (actions.length === 0) c.error(path, 'needs a route or a redirect');
  if (actions.length > 1) c.error(path, `cannot have both ${actions.join(' and ')}`);

  const routes = c.list(at(path, 'route'), r.route);
  if (routes) {
    routes.forEach((d, i) => {
      const p = at(at(path, 'route'), i);
      const o = c.object(p, d, true, ['destination', 'weight', 'headers', 'appendRequestHeaders', 'appendResponseHeaders', 'removeRequestHeaders', 'removeResponseHeaders']);
      if (!o) return;
      checkDestination(c, at(p, 'destination'), o.destination);
      checkHeaderOps(c, at(p, 'headers'), o.headers);
      checkLegacyHeaderOps(c, p, o);
    });
    checkWeights(c, at(path, 'route'), routes);
  }

  const red = c.object(at(path, 'redirect'), r.redirect, false, ['uri', 'authority', 'port', 'derivePort', 'scheme', 'redirectCode']);
  if (red) {
    for (const k of ['uri', 'authority', 'scheme', 'derivePort'] as const) c.string(at(at(path, 'redirect'), k), red[k]);
    c.port(at(at(path, 'redirect'), 'port'), red.port);
    c.int(at(at(path, 'redirect'), 'redirectCode'), red.redirectCode, 300, 399);
  }
  const rw = c.object(at(path, 'rewrite'), r.rewrite, false, ['uri', 'authority', 'uriRegexRewrite']);
  if (rw) {
    c.string(at(at(path, 'rewrite'), 'uri'), rw.uri);
    c.string(at(at(path, 'rewrite'), 'authority'), rw.authority);
  }
  c.duration(at(path, 'timeout'), r.timeout);
  checkRetries(c, at(path, 'retries'), r.retries);
  checkFault(c, at(path, 'fault'), r.fault);
  if (r.mirror !== undefined) checkDestination(c, at(path, 'mirror'), r.mirror);
  c.percent(at(path, 'mirrorPercent'), r.mirrorPercent);
  const mp = c.object(at(path, 'mirrorPercentage'), r.mirrorPercentage, false, ['value']);
  if (mp) c.percent(at(at(path, 'mirrorPercentage'), 'value'), mp.value);
  checkCors(c, at(path, 'corsPolicy'), r.corsPolicy);
  checkHeaderOps(c, at(path, 'headers'), r.headers);
  checkLegacyHeaderOps(c, path, r);
  c.bool(at(path, 'websocketUpgrade'), r.websocketUpgrade);
}

function checkL4Route(c: FieldChecker, path: string, v: unknown, tls: boolean): void {
  const r = c.object(path, v, true, ['match', 'route']);
  if (!r) return;
  const matchFields = ['destinationSubnets', 'port', 'sourceLabels', 'gateways', 'sourceNamespace', 'sourceSubnet', ...(tls ? ['sniHosts'] : [])];
  c.list(at(path, 'match'), r.match, { required: tls, nonEmpty: tls })?.forEach((m, i) => {
    const p = at(at(path, 'match'), i);
    const o = c.object(p, m, true, matchFields);
    if (!o) return;
    c.strings(at(p, 'destinationSubnets'), o.destinationSubnets);
    c.port(at(p, 'port'), o.port);
    c.labels(at(p, 'sourceLabels'), o.sourceLabels);
    c.strings(at(p, 'gateways'), o.gateways);
    if (tls) c.strings(at(p, 'sniHosts'), o.sniHosts, { required: true, nonEmpty: true });
  });
  const routes = c.list(at(path, 'route'), r.route, { required: true, nonEmpty: true });
  if (!routes) return;
  routes.forEach((d, i) => {
    const p = at(at(path, 'route'), i);
    const o = c.object(p, d, true, ['destination', 'weight']);
    if (o) checkDestination(c, at(p, 'destination'), o.destination);
  });
  checkWeights(c, at(path, 'route'), routes);
}

export function validateVirtualService(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['hosts', 'gateways', 'http', 'tcp', 'tls', 'exportTo']);
  const hosts = c.list('spec.hosts', spec.hosts, { required: true, nonEmpty: true });
  hosts?.forEach((h, i) => checkHost(c, `spec.hosts[${i}]`, h));
  c.strings('spec.gateways', spec.gateways);
  c.strings('spec.exportTo', spec.exportTo);
  const http = c.list('spec.http', spec.http);
  const tcp = c.list('spec.tcp', spec.tcp);
  const tls = c.list('spec.tls', spec.tls);
  if (!http?.length && !tcp?.length && !tls?.length) c.error('spec', 'needs at least one http, tcp or tls route');
  http?.forEach((r, i) => checkHttpRoute(c, `spec.http[${i}]`, r));
  tcp?.forEach((r, i) => checkL4Route(c, `spec.tcp[${i}]`, r, false));
  tls?.forEach((r, i) => checkL4Route(c, `spec.tls[${i}]`, r, true));
}
