// What an analyzer sees: every resource of the snapshot, and a way to report a message about
// one of them (file and line filled in from where the resource came from).

import type { Resource } from '#api';
import type { Position } from '../parse.js';
import { resourceName, type AnalysisMessage, type MessageType } from './messages.js';

/** Finds the position of a field of a resource, when its text is at hand. */
export type Locator = (resource: Resource, field: string) => Position | undefined;

/**
 * A service the analysis can take as existing although no resource in the files declares it
 * (compose labels, pilot's registry). Without any, hosts are checked only against ServiceEntries.
 */
export interface KnownService {
  /** Fully qualified: `reviews.default.svc.cluster.local`. */
  hostname: string;
  ports: { number: number; protocol?: string; name?: string }[];
}

export interface AnalysisOptions {
  /** When given, destinations must name one of these or a ServiceEntry host (IST0101). */
  services?: readonly KnownService[];
}

export interface AnalysisContext {
  readonly resources: readonly Resource[];
  readonly options: AnalysisOptions;
  ofKind(kind: string): readonly Resource[];
  report(resource: Resource, type: MessageType, message: string, field?: string): void;
}

/** A cross-resource check. Add new ones to the list in analyzers/index.ts. */
export interface Analyzer {
  name: string;
  description: string;
  analyze(ctx: AnalysisContext): void;
}

export function createContext(resources: readonly Resource[], locate?: Locator, options: AnalysisOptions = {}): { ctx: AnalysisContext; messages: AnalysisMessage[] } {
  const messages: AnalysisMessage[] = [];
  const byKind = new Map<string, Resource[]>();
  for (const r of resources) {
    let list = byKind.get(r.kind);
    if (!list) byKind.set(r.kind, (list = []));
    list.push(r);
  }
  const ctx: AnalysisContext = {
    resources,
    options,
    ofKind: (kind) => byKind.get(kind) ?? [],
    report(resource, type, message, field) {
      const pos = field && locate ? locate(resource, field) : undefined;
      messages.push({
        code: type.code, level: type.level, message, resource: resourceName(resource),
        ...(resource.source ? { file: resource.source.file, line: pos?.line ?? resource.source.line } : {}),
        ...(field ? { field } : {}),
      });
    },
  };
  return { ctx, messages };
}
