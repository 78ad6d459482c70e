// A proxy's own subjects: the bus half of "identity must be earned". A proxy that logs in to
// the bus speaks to pilot on subjects that carry who it is (namespace, service account,
// workload, proxy id) and receives its config on a subject that carries its namespace and
// workload. NATS permissions give each proxy user only its own subjects, so the subject a
// message arrived on is the proof of its sender; pilot checks that the body agrees with it.
// On an anonymous bus nothing can be proven and proxies keep the plain subjects of bus.ts.

import { subjectToken, subjects, type ProxyAnnouncement } from './bus.js';

/** Who a proxy is on the bus. */
export interface ProxyBusScope {
  namespace: string;
  serviceAccount: string;
  workload: string;
  proxyId: string;
}

/** What a proxy tells pilot on its scoped subjects. */
export type ProxyBusVerb = 'announce' | 'heartbeat' | 'depart' | 'ack';

export const proxyBusVerbs: readonly ProxyBusVerb[] = ['announce', 'heartbeat', 'depart', 'ack'];

const tok = (s: string) => subjectToken(s);

/** `mesh.pilot.<verb>.<namespace>.<serviceAccount>.<workload>.<proxy id token>`. */
export function proxyScopedSubject(verb: ProxyBusVerb, s: ProxyBusScope): string {
  return `mesh.pilot.${verb}.${tok(s.namespace)}.${tok(s.serviceAccount)}.${tok(s.workload)}.${tok(s.proxyId)}`;
}

/** What pilot subscribes to for one verb: every scope. */
export function proxyScopedPattern(verb: ProxyBusVerb): string {
  return `mesh.pilot.${verb}.*.*.*.*`;
}

/** Every proxy of one workload (a NATS permission for a per-workload user, e.g. in compose). */
export function workloadScopedPattern(verb: ProxyBusVerb, s: Omit<ProxyBusScope, 'proxyId'>): string {
  return `mesh.pilot.${verb}.${tok(s.namespace)}.${tok(s.serviceAccount)}.${tok(s.workload)}.*`;
}

/** `mesh.proxy.<namespace>.<workload>.<proxy id token>.config`: where a logged-in proxy's config goes. */
export function proxyScopedConfigSubject(s: Pick<ProxyBusScope, 'namespace' | 'workload' | 'proxyId'>): string {
  return `mesh.proxy.${tok(s.namespace)}.${tok(s.workload)}.${tok(s.proxyId)}.config`;
}

/** Every scoped config subject (pilot's publish permission). */
export const proxyScopedConfigPattern = 'mesh.proxy.*.*.*.config';

/** The config subjects of every proxy of one workload. */
export function workloadScopedConfigPattern(s: Pick<ProxyBusScope, 'namespace' | 'workload'>): string {
  return `mesh.proxy.${tok(s.namespace)}.${tok(s.workload)}.*.config`;
}

/** The tokens of a scoped subject, or undefined when `subject` is not one. */
export function parseProxyScopedSubject(subject: string): { verb: ProxyBusVerb; namespace: string; serviceAccount: string; workload: string; proxyToken: string } | undefined {
  const t = subject.split('.');
  if (t.length !== 7 || t[0] !== 'mesh' || t[1] !== 'pilot' || !proxyBusVerbs.includes(t[2] as ProxyBusVerb)) return undefined;
  return { verb: t[2] as ProxyBusVerb, namespace: t[3]!, serviceAccount: t[4]!, workload: t[5]!, proxyToken: t[6]! };
}

/** The scope of an announcement (its body's claims). */
export function announcementScope(a: ProxyAnnouncement): ProxyBusScope {
  return { namespace: a.workload.namespace, serviceAccount: a.workload.serviceAccount, workload: a.workload.name, proxyId: a.proxyId };
}

/** Whether a scoped subject's tokens name exactly `s`. */
export function scopeMatchesSubject(s: ProxyBusScope, parsed: NonNullable<ReturnType<typeof parseProxyScopedSubject>>): boolean {
  return parsed.namespace === tok(s.namespace) && parsed.serviceAccount === tok(s.serviceAccount)
    && parsed.workload === tok(s.workload) && parsed.proxyToken === tok(s.proxyId);
}

/** Where pilot sends a proxy its config: the scoped subject when it announced on its scoped
 *  subjects (pilot sets `busScoped` from the subject, never from the body), else the plain one. */
export function proxyConfigSubjectOf(a: ProxyAnnouncement): string {
  return a.busScoped ? proxyScopedConfigSubject(announcementScope(a)) : subjects.proxyConfig(a.proxyId);
}
