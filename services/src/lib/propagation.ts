// Headers Istio's Bookinfo services copy from the request they serve onto the requests they
// make, so the sidecars' spans join into one trace and routing rules on end-user keep working.

export const FORWARDED_HEADERS = [
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  'x-ot-span-context',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'traceparent',
  'tracestate',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
  'end-user',
  'user-agent',
  'cookie',
  'authorization',
  'jwt',
] as const;

export type HeaderBag = Record<string, string | string[] | undefined>;

/** The forwardable subset of incoming headers; `except` drops some (productpage sets end-user itself). */
export function forwardHeaders(incoming: HeaderBag, except: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    if (except.includes(name)) continue;
    const v = incoming[name];
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
