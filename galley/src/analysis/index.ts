// The analysis package: the one public surface galley and `meshctl analyze` share.
// Offline use:  analyze([{ file: 'compose/config/reviews.yaml', text }]) -> messages.
// It reads no files, opens no sockets and needs nothing but the mesh API and yaml.

import { resourceKey, type Resource } from '#api';
import { defaultParseLimits, parseYaml, toResource, type LocatedResource, type ParseLimits, type Position } from '../parse.js';
import { validateResource, type FieldIssue } from '../validate/index.js';
import { defaultAnalyzers } from './analyzers/index.js';
import { createContext, type AnalysisOptions, type Analyzer, type Locator } from './context.js';
import { hasErrors, messageTypes, resourceName, sortMessages, type AnalysisMessage } from './messages.js';

export interface ConfigFile {
  /** The name messages show (`compose/config/reviews.yaml`, or relative to galley's folder). */
  file: string;
  text: string;
}

export interface FileCheck {
  file: string;
  /** false when any Error: the whole file is rejected (galley keeps its last good version). */
  accepted: boolean;
  /** The file's resources of known kinds (only meaningful when accepted). */
  resources: LocatedResource[];
  messages: AnalysisMessage[];
}

function issueMessage(r: Resource, issue: FieldIssue): AnalysisMessage {
  const type = issue.internal ? messageTypes.InternalError : issue.level === 'Error' ? messageTypes.SchemaValidationError : messageTypes.SchemaWarning;
  const what = issue.internal ? 'Internal error' : issue.level === 'Error' ? 'Schema validation error' : 'Schema validation warning';
  return { code: type.code, level: type.level, message: `${what}: ${issue.field}: ${issue.message}`, resource: resourceName(r), field: issue.field };
}

/** Parses and validates one file on its own: syntax, envelope, fields, duplicates inside it. */
export function checkFile(file: string, text: string, limits: ParseLimits = defaultParseLimits): FileCheck {
  const parsed = parseYaml(file, text, limits);
  const messages = [...parsed.messages];
  const resources: LocatedResource[] = [];
  const seen = new Map<string, number>();
  const clean: LocatedResource[] = [];
  for (const doc of parsed.documents) {
    const { resource, messages: envelope } = toResource(doc, file);
    messages.push(...envelope);
    if (!resource) continue;
    const r = resource.resource;
    const issues = validateResource(r);
    for (const issue of issues) {
      messages.push({ ...issueMessage(r, issue), file, line: resource.locate(issue.field)?.line ?? doc.line });
    }
    const key = resourceKey(r);
    const first = seen.get(key);
    if (first !== undefined) {
      const t = messageTypes.DuplicateResourceInFile;
      messages.push({ code: t.code, level: t.level, message: `${resourceName(r)} is defined twice in this file (first at line ${first})`, resource: resourceName(r), file, line: doc.line });
      continue;
    }
    seen.set(key, doc.line);
    resources.push(resource);
    if (!envelope.some((m) => m.level === 'Error') && !issues.some((i) => i.level === 'Error')) clean.push(resource);
  }
  const accepted = !hasErrors(messages);
  if (!accepted && clean.length > 0) {
    // A file is applied whole or not at all; say so, so good siblings are not dropped silently.
    const t = messageTypes.DocumentsHeldBack;
    const list = clean.map((lr) => `${resourceName(lr.resource)} (line ${lr.resource.source?.line})`).join(', ');
    messages.push({
      code: t.code, level: t.level, file, line: clean[0]!.resource.source?.line,
      message: `${clean.length} valid document${clean.length === 1 ? ' is' : 's are'} not applied either, because a file is applied whole or not at all: ${list}. ` +
        'Fix the errors (or move these documents to a file of their own); galley keeps serving the last good version of this file meanwhile.',
    });
  }
  return { file, accepted, resources, messages: sortMessages(messages) };
}

/**
 * Joins the resources of several files into one deterministic list: files in name order, the
 * first definition of a kind/namespace/name wins and later ones are reported.
 */
export function mergeFiles(files: readonly { file: string; resources: readonly LocatedResource[] }[]): { resources: LocatedResource[]; messages: AnalysisMessage[] } {
  const owner = new Map<string, LocatedResource>();
  const messages: AnalysisMessage[] = [];
  for (const f of [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    for (const lr of f.resources) {
      const key = resourceKey(lr.resource);
      const first = owner.get(key);
      if (first) {
        const t = messageTypes.DuplicateResource;
        const where = first.resource.source ? `${first.resource.source.file}:${first.resource.source.line}` : 'another file';
        messages.push({
          code: t.code, level: t.level, resource: resourceName(lr.resource), file: f.file, line: lr.resource.source?.line,
          message: `${resourceName(lr.resource)} is also defined in ${where}; that one is used and this one ignored`,
        });
        continue;
      }
      owner.set(key, lr);
    }
  }
  const resources = [...owner.values()].sort((a, b) => compareResources(a.resource, b.resource));
  return { resources, messages };
}

export function compareResources(a: Resource, b: Resource): number {
  const ka = [a.kind, a.metadata.namespace, a.metadata.name];
  const kb = [b.kind, b.metadata.namespace, b.metadata.name];
  for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return 0;
}

/** Runs the cross-resource analyzers over a whole snapshot. */
export function runAnalyzers(resources: readonly Resource[], locate?: Locator, analyzers: readonly Analyzer[] = defaultAnalyzers, options: AnalysisOptions = {}): AnalysisMessage[] {
  const { ctx, messages } = createContext(resources, locate, options);
  for (const a of analyzers) {
    try {
      a.analyze(ctx);
    } catch (err) {
      const t = messageTypes.InternalError;
      messages.push({ code: t.code, level: t.level, message: `Internal error: analyzer ${a.name}: ${(err as Error).message}` });
    }
  }
  return messages;
}

/** A locator over resources whose text positions are known. */
export function locatorOf(resources: readonly LocatedResource[]): Locator {
  const byResource = new Map<Resource, (path: string) => Position | undefined>();
  for (const lr of resources) byResource.set(lr.resource, lr.locate);
  return (r, field) => byResource.get(r)?.(field);
}

export interface AnalysisReport {
  messages: AnalysisMessage[];
  /** What galley would publish: resources of accepted files, duplicates removed. */
  resources: Resource[];
  files: { file: string; accepted: boolean; messages: AnalysisMessage[] }[];
}

/** Everything galley checks, for a set of files at once (meshctl analyze). */
export function analyzeFiles(files: readonly ConfigFile[], limits: ParseLimits = defaultParseLimits, options: AnalysisOptions = {}): AnalysisReport {
  const checks = files.map((f) => checkFile(f.file, f.text, limits));
  const merged = mergeFiles(checks.filter((c) => c.accepted));
  const cross = [...merged.messages, ...runAnalyzers(merged.resources.map((r) => r.resource), locatorOf(merged.resources), defaultAnalyzers, options)];
  const messages = sortMessages([...checks.flatMap((c) => c.messages), ...cross]);
  return {
    messages,
    resources: merged.resources.map((r) => r.resource),
    files: checks.map((c) => ({ file: c.file, accepted: c.accepted, messages: messages.filter((m) => m.file === c.file) })),
  };
}

/** Field validation and analyzers for resources that have no text (already parsed). */
export function analyzeResources(resources: readonly Resource[], options: AnalysisOptions = {}): AnalysisMessage[] {
  const messages: AnalysisMessage[] = [];
  for (const r of resources) {
    for (const issue of validateResource(r)) {
      messages.push({ ...issueMessage(r, issue), ...(r.source ? { file: r.source.file, line: r.source.line } : {}) });
    }
  }
  return sortMessages([...messages, ...runAnalyzers(resources, undefined, defaultAnalyzers, options)]);
}

/** analyze(files) or analyze(resources) -> messages, sorted. */
export function analyze(input: readonly ConfigFile[] | readonly Resource[], options: AnalysisOptions = {}): AnalysisMessage[] {
  if (input.length === 0) return [];
  return 'text' in input[0]! ? analyzeFiles(input as ConfigFile[], defaultParseLimits, options).messages : analyzeResources(input as Resource[], options);
}

export { formatMessage, hasErrors, messageTypes, resourceName, sortMessages, type AnalysisMessage, type MessageLevel, type MessageType } from './messages.js';
export { defaultAnalyzers } from './analyzers/index.js';
export { isConfigFile, listConfigFiles } from '../config-files.js';
export type { Analyzer, AnalysisContext, AnalysisOptions, KnownService, Locator } from './context.js';
export { defaultParseLimits, parseYaml, toResource, type LocatedResource, type ParseLimits, type Position } from '../parse.js';
export { kindValidators, validateResource, parseDuration, type FieldIssue } from '../validate/index.js';
