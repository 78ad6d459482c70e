// IST0130: an HTTP rule that can never be used because an earlier rule catches everything,
// or because an earlier rule has exactly the same matches; IST0131: one match of a rule that
// an earlier rule already has.

import { isDeepStrictEqual } from 'node:util';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';

type Match = Record<string, unknown>;

function withoutName(m: Match): Match {
  const { name: _name, ...rest } = m;
  return rest;
}

/** A match with no conditions, or only `uri: {prefix: /}`, takes every request. */
function catchesAll(match: unknown): boolean {
  if (!Array.isArray(match) || match.length === 0) return true;
  return match.some((m) => {
    if (!m || typeof m !== 'object') return false;
    const rest = withoutName(m as Match);
    const keys = Object.keys(rest);
    if (keys.length === 0) return true;
    const uri = rest.uri as { prefix?: unknown } | undefined;
    return keys.length === 1 && keys[0] === 'uri' && uri !== undefined && Object.keys(uri).length === 1 && uri.prefix === '/';
  });
}

export const unreachableRule: Analyzer = {
  name: 'virtualservice.unreachablerules',
  description: 'Checks for HTTP rules that an earlier rule shadows',
  analyze(ctx) {
    for (const vs of ctx.ofKind('VirtualService')) {
      const http = (vs.spec as { http?: unknown }).http;
      if (!Array.isArray(http)) continue;
      const seen: { index: number; matches: Match[] }[] = [];
      let catchAll: number | undefined;
      http.forEach((r, i) => {
        const match = (r as { match?: unknown })?.match;
        if (catchAll !== undefined) {
          ctx.report(vs, messageTypes.VirtualServiceUnreachableRule,
            `VirtualService rule #${i} not used (rule #${catchAll} before it matches every request; only the last rule can have no matches).`, `spec.http[${i}]`);
          return;
        }
        if (catchesAll(match)) {
          catchAll = i;
          return;
        }
        const matches = (match as unknown[]).filter((m): m is Match => !!m && typeof m === 'object').map(withoutName);
        const earlier = seen.find((s) => matches.every((m) => s.matches.some((o) => isDeepStrictEqual(o, m))));
        if (earlier && matches.length > 0) {
          ctx.report(vs, messageTypes.VirtualServiceUnreachableRule,
            `VirtualService rule #${i} not used (same match as rule #${earlier.index}).`, `spec.http[${i}].match`);
        } else {
          // IST0131: some matches of this rule repeat an earlier rule's: those never select this one.
          matches.forEach((m, j) => {
            const dup = seen.find((s) => s.matches.some((o) => isDeepStrictEqual(o, m)));
            if (dup) {
              ctx.report(vs, messageTypes.VirtualServiceIneffectiveMatch,
                `VirtualService rule #${i} match #${j} is not used (duplicate/overlapping match in rule #${dup.index}).`, `spec.http[${i}].match[${j}]`);
            }
          });
        }
        seen.push({ index: i, matches });
      });
    }
  },
};
