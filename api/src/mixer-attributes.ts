// Istio 1.1's attribute vocabulary over a CheckRequest: what `source.labels["app"]` or
// `request.headers["x-user"]` means. Mixer evaluates rules with it; the sidecar's check cache
// uses the same lookups to key an answer by the attributes mixer says it depended on, so
// both sides must agree, hence one definition here.

import type { CheckRequest, PeerInfo } from './bus.js';

/** A raw attribute value: strings, numbers (INT64, ms for TIMESTAMP and DURATION), booleans, string maps. */
export type RawAttribute = string | number | boolean | Record<string, string>;

/** `name` or `name[key]` for a map entry: how a referenced attribute is written. */
export function attributeRef(name: string, key?: string): string {
  return key === undefined ? name : `${name}[${key}]`;
}

export function parseAttributeRef(ref: string): { name: string; key?: string } {
  const open = ref.indexOf('[');
  if (open < 0 || !ref.endsWith(']')) return { name: ref };
  return { name: ref.slice(0, open), key: ref.slice(open + 1, -1) };
}

/** `spiffe://cluster.local/ns/default/sa/x` -> `cluster.local/ns/default/sa/x` (Istio 1.1's source.principal and source.user). */
function principalOf(p: PeerInfo | undefined): string | undefined {
  if (!p?.principal) return undefined;
  return p.principal.startsWith('spiffe://') ? p.principal.slice('spiffe://'.length) : p.principal;
}

function labelsOf(p: PeerInfo | undefined): Record<string, string> | undefined {
  if (!p) return undefined;
  if (p.labels) return p.labels;
  const out: Record<string, string> = {};
  if (p.app && p.app !== 'unknown') out.app = p.app;
  if (p.version && p.version !== 'unknown') out.version = p.version;
  return out;
}

function known(v: string | undefined): string | undefined {
  return v === undefined || v === '' || v === 'unknown' ? undefined : v;
}

function peerAttribute(p: PeerInfo | undefined, rest: string): RawAttribute | undefined {
  if (!p) return undefined;
  const workload = known(p.workload);
  const ns = known(p.namespace);
  switch (rest) {
    case 'labels': return labelsOf(p);
    case 'name': case 'workload.name': return workload;
    case 'namespace': case 'workload.namespace': return ns;
    case 'principal': case 'user': return principalOf(p);
    case 'uid': return workload && ns ? `kubernetes://${workload}.${ns}` : undefined;
    case 'workload.uid': return workload && ns ? `istio://${ns}/workloads/${workload}` : undefined;
    case 'owner': return workload && ns ? `kubernetes://apis/apps/v1/namespaces/${ns}/deployments/${workload}` : undefined;
    default: return undefined;
  }
}

function queryParams(path: string): Record<string, string> {
  const q = path.indexOf('?');
  const out: Record<string, string> = {};
  if (q < 0) return out;
  for (const [k, v] of new URLSearchParams(path.slice(q + 1))) if (!(k in out)) out[k] = v;
  return out;
}

/** The value of attribute `name` for a check, or undefined when absent. */
export function checkAttribute(req: CheckRequest, name: string): RawAttribute | undefined {
  if (name.startsWith('source.')) {
    if (name === 'source.ip') return req.sourceIp;
    return peerAttribute(req.source, name.slice('source.'.length));
  }
  if (name.startsWith('destination.')) {
    const d = req.destination;
    switch (name) {
      case 'destination.service.host': return known(d?.service);
      case 'destination.service.name': return known(d?.serviceName) ?? known(d?.service?.split('.')[0]);
      case 'destination.service.namespace': return known(d?.serviceNamespace) ?? known(d?.namespace);
      case 'destination.service.uid': {
        const n = known(d?.serviceName), ns = known(d?.serviceNamespace) ?? known(d?.namespace);
        return n && ns ? `istio://${ns}/services/${n}` : undefined;
      }
      case 'destination.port': return req.destinationPort;
      default: return peerAttribute(d, name.slice('destination.'.length));
    }
  }
  const r = req.request;
  switch (name) {
    case 'request.headers': return r?.headers;
    case 'request.host': return r?.host ?? r?.headers?.host;
    case 'request.method': return r?.method;
    case 'request.path': return r?.path;
    case 'request.url_path': { const p = r?.path; if (p === undefined) return undefined; const q = p.indexOf('?'); return q < 0 ? p : p.slice(0, q); }
    case 'request.query_params': return r?.path === undefined ? undefined : queryParams(r.path);
    case 'request.scheme': return r?.scheme;
    case 'request.useragent': return r?.headers?.['user-agent'];
    case 'request.referer': return r?.headers?.referer;
    case 'request.id': return r?.headers?.['x-request-id'];
    case 'request.time': return r?.time;
    case 'connection.mtls': return req.connection?.mtls;
    case 'connection.requested_server_name': return req.connection?.requestedServerName;
    case 'context.protocol': return req.protocol ?? (r ? 'http' : undefined);
    case 'context.reporter.kind': return req.reporterKind;
    case 'context.reporter.uid': return req.proxyId ? `kubernetes://${req.proxyId}` : undefined;
    case 'context.time': return r?.time;
    default: return undefined;
  }
}

/** The value a reference (`request.headers[x-user]`) names for a check. */
export function checkReference(req: CheckRequest, ref: string): RawAttribute | undefined {
  const { name, key } = parseAttributeRef(ref);
  const v = checkAttribute(req, name);
  if (key === undefined) return v;
  return v !== null && typeof v === 'object' ? v[key] : undefined;
}

/** One string identifying a request's values for `refs` (sorted): equal signatures, equal answers. */
export function referenceSignature(req: CheckRequest, refs: readonly string[]): string {
  let out = '';
  for (const ref of refs) {
    const v = checkReference(req, ref);
    // \u0000 marks absence, distinct from every present value (the empty string included).
    out += v === undefined ? '\u0000' : typeof v === 'object' ? JSON.stringify(Object.entries(v).sort()) : `${typeof v}:${v}`;
    out += '\u0001';
  }
  return out;
}
