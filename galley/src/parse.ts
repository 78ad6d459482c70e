// Multi-document YAML -> resources with their place in the file. Keeps yaml's positions so
// every message can point at a line (and a field inside a document), and refuses hostile
// input (huge files, alias bombs, absurd nesting) before it costs anything.

import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { knownKinds, type Resource } from '#api';
import { messageTypes, type AnalysisMessage, type MessageType } from './analysis/messages.js';
import { parsePath } from './field-path.js';

export interface ParseLimits {
  /** Files above this many bytes are refused unread. */
  maxBytes: number;
  /** yaml's alias expansion budget: a billion-laughs document trips it. */
  maxAliasCount: number;
  /** Deepest nesting of maps and lists accepted. */
  maxDepth: number;
}

export const defaultParseLimits: ParseLimits = { maxBytes: 1024 * 1024, maxAliasCount: 100, maxDepth: 64 };

export interface Position {
  line: number;
  column: number;
}

export interface ParsedDocument {
  /** 0-based index among the file's documents (empty ones included). */
  index: number;
  /** Where the document's content begins (1-based). */
  line: number;
  column: number;
  value: unknown;
  /** The position of a field (`spec.http[0].route[1].weight`), or of its deepest existing parent. */
  locate(path: string): Position | undefined;
}

export interface ParsedYaml {
  file: string;
  documents: ParsedDocument[];
  /** Syntax errors and refusals; any of them rejects the whole file. */
  messages: AnalysisMessage[];
}

/** A resource with the means to find its fields' lines in the text it came from. */
export interface LocatedResource {
  resource: Resource;
  locate(path: string): Position | undefined;
}

function fileMessage(type: MessageType, file: string, message: string, pos?: Position): AnalysisMessage {
  return { code: type.code, level: type.level, message, file, ...(pos ? { line: pos.line, column: pos.column } : {}) };
}

/**
 * yaml's parser spends memory per open flow collection (`[[[[...`), enough to kill the
 * process at a few thousand levels; count brackets first. Quotes are ignored on purpose:
 * an over-estimate only refuses files no person writes.
 */
function flowDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) {
      depth--;
    }
  }
  return false;
}

function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

function locator(doc: Document, lc: LineCounter): (path: string) => Position | undefined {
  const pos = (offset: number): Position => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  return (path) => {
    let node: unknown = doc.contents;
    if (!node) return undefined;
    let best: Position | undefined = (node as Node).range ? pos((node as Node).range![0]) : undefined;
    for (const seg of parsePath(path)) {
      if (typeof seg === 'number' && isSeq(node)) {
        const item: unknown = node.items[seg];
        if (!item || !(item as Node).range) return best;
        best = pos((item as Node).range![0]);
        node = item;
      } else if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return best;
        const key = pair.key as Node;
        if (key.range) best = pos(key.range[0]);
        node = pair.value;
        if (!node) return best;
      } else {
        return best;
      }
    }
    return best;
  };
}

/** Parses every document of a file; never throws. */
export function parseYaml(file: string, text: string, limits: ParseLimits = defaultParseLimits): ParsedYaml {
  const out: ParsedYaml = { file, documents: [], messages: [] };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    out.messages.push(fileMessage(messageTypes.InputRejected, file, `file is ${bytes} bytes, over the limit of ${limits.maxBytes} bytes`));
    return out;
  }
  if (flowDepthExceeds(text, limits.maxDepth)) {
    out.messages.push(fileMessage(messageTypes.InputRejected, file, `flow collections ([ or {) nested deeper than ${limits.maxDepth} levels`));
    return out;
  }
  const lc = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false }) as Document.Parsed[];
  } catch (err) {
    out.messages.push(fileMessage(messageTypes.InputRejected, file, `YAML parser gave up: ${(err as Error).message}`));
    return out;
  }
  // parseAllDocuments returns an EmptyStream (an array) for input without documents.
  if (!Array.isArray(docs)) docs = [docs];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors.slice(0, 3)) {
        const p = lc.linePos(e.pos[0]);
        const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        out.messages.push(fileMessage(messageTypes.YamlSyntaxError, file, `YAML syntax error: ${first}`, { line: p.line, column: p.col }));
      }
      return;
    }
    const contents = doc.contents as Node | null;
    if (!contents || (isScalar(contents) && contents.value === null)) return; // empty document (`---` at the end)
    const start = lc.linePos(contents.range ? contents.range[0] : 0);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (err) {
      const why = err instanceof ReferenceError && /alias/i.test(err.message)
        ? `too many alias expansions (over ${limits.maxAliasCount}): refusing a possible alias bomb`
        : `YAML could not be read: ${(err as Error).message}`;
      out.messages.push(fileMessage(messageTypes.InputRejected, file, why, { line: start.line, column: start.col }));
      return;
    }
    if (depthExceeds(value, limits.maxDepth)) {
      out.messages.push(fileMessage(messageTypes.InputRejected, file, `document nested deeper than ${limits.maxDepth} levels`, { line: start.line, column: start.col }));
      return;
    }
    out.documents.push({ index, line: start.line, column: start.col, value, locate: locator(doc, lc) });
  });
  return out;
}

/** Istio kinds that later Istio replaced: the warning says what to write instead. */
const supersededKinds: Record<string, string> = {
  'rbac.istio.io/ServiceRole': 'Istio 1.4 replaced it with AuthorizationPolicy (security.istio.io)',
  'rbac.istio.io/ServiceRoleBinding': 'Istio 1.4 replaced it with AuthorizationPolicy (security.istio.io)',
  'rbac.istio.io/RbacConfig': 'Istio 1.4 replaced it with AuthorizationPolicy (security.istio.io)',
  'rbac.istio.io/ClusterRbacConfig': 'Istio 1.4 replaced it with AuthorizationPolicy (security.istio.io)',
  'authentication.istio.io/Policy': 'Istio 1.5 replaced it with PeerAuthentication and RequestAuthentication (security.istio.io)',
  'authentication.istio.io/MeshPolicy': 'Istio 1.5 replaced it with PeerAuthentication (security.istio.io)',
};

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

/**
 * Turns one document into a resource. Unknown kinds give a warning and no resource: they are
 * not published. Envelope problems (no kind, bad metadata) are errors.
 */
export function toResource(doc: ParsedDocument, file: string): { resource?: LocatedResource; messages: AnalysisMessage[] } {
  const messages: AnalysisMessage[] = [];
  const at = (path: string): Position => doc.locate(path) ?? { line: doc.line, column: doc.column };
  const v = doc.value;
  if (!isObject(v)) {
    messages.push({ ...fileMessage(messageTypes.InvalidDocument, file, `document ${doc.index + 1} is not a resource: expected a map with apiVersion, kind and metadata, got ${describe(v)}`), line: doc.line });
    return { messages };
  }
  if (typeof v.kind !== 'string' || v.kind === '') {
    messages.push({ ...fileMessage(messageTypes.InvalidDocument, file, `document ${doc.index + 1} has no kind`), line: doc.line });
    return { messages };
  }
  if (typeof v.apiVersion !== 'string' || v.apiVersion === '') {
    messages.push({ ...fileMessage(messageTypes.InvalidDocument, file, `document ${doc.index + 1} (kind ${v.kind}) has no apiVersion`), line: doc.line });
    return { messages };
  }
  const kind = v.kind;
  // Kubernetes core kinds have no group (`apiVersion: v1`).
  const slash = v.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : v.apiVersion.slice(0, slash);
  const version = v.apiVersion.slice(slash + 1);
  const meta = isObject(v.metadata) ? v.metadata : undefined;
  const rawName = meta && typeof meta.name === 'string' ? meta.name : undefined;
  const namespace = meta && typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
  const display = `${kind} ${namespace}/${rawName ?? '?'}`;
  const schemaError = (field: string, message: string) => {
    messages.push({
      code: messageTypes.SchemaValidationError.code, level: messageTypes.SchemaValidationError.level,
      message: `Schema validation error: ${field}: ${message}`, resource: display, file, line: at(field).line, field,
    });
  };

  const known = knownKinds[kind];
  if ((!known || known.group !== group) && /(^|\.)istio\.io$/.test(group)) {
    const instead = supersededKinds[`${group}/${kind}`];
    messages.push({
      code: messageTypes.UnsupportedIstioKind.code, level: messageTypes.UnsupportedIstioKind.level,
      message: `Istio kind ${kind} (apiVersion ${v.apiVersion}) is not supported by compose-mesh: ignored, not published${instead ? `; ${instead}` : ''}`,
      resource: display, file, line: doc.line,
    });
    return { messages };
  }
  if (!known || known.group !== group) {
    messages.push({
      code: messageTypes.UnknownKind.code, level: messageTypes.UnknownKind.level,
      message: `Unknown kind ${kind} (apiVersion ${v.apiVersion}): ignored, not published`,
      resource: display, file, line: doc.line,
    });
    return { messages };
  }
  if (!known.versions.includes(version)) {
    schemaError('apiVersion', `${v.apiVersion} is not a supported version of ${kind} (${known.versions.map((x) => `${group}/${x}`).join(', ')})`);
  }
  if (!meta) {
    schemaError('metadata', 'metadata with a name is required');
    return { messages };
  }
  if (rawName === undefined || rawName === '') schemaError('metadata.name', 'a name is required');
  else if (rawName.length > 253 || !dns1123Subdomain.test(rawName)) schemaError('metadata.name', `"${rawName}" is not a valid name (lower case letters, digits, '-' and '.', starting and ending with a letter or digit)`);
  if (meta.namespace !== undefined && (typeof meta.namespace !== 'string' || (meta.namespace !== '' && (meta.namespace.length > 63 || !dns1123Label.test(meta.namespace))))) {
    schemaError('metadata.namespace', `${JSON.stringify(meta.namespace)} is not a valid namespace`);
  }
  for (const key of ['labels', 'annotations'] as const) {
    const m = meta[key];
    if (m === undefined || m === null) continue;
    if (!isObject(m)) { schemaError(`metadata.${key}`, `must be a map of strings, got ${describe(m)}`); continue; }
    for (const [k, val] of Object.entries(m)) {
      if (typeof val !== 'string') schemaError(`metadata.${key}.${k}`, `value must be a string, got ${describe(val)} (quote it)`);
    }
  }
  if (v.spec !== undefined && v.spec !== null && !isObject(v.spec)) schemaError('spec', `must be a map, got ${describe(v.spec)}`);
  if (messages.length > 0) return { messages };

  const metadata: Resource['metadata'] = { name: rawName!, namespace };
  if (isObject(meta.labels)) metadata.labels = meta.labels as Record<string, string>;
  if (isObject(meta.annotations)) metadata.annotations = meta.annotations as Record<string, string>;
  const resource: Resource = {
    apiVersion: v.apiVersion,
    kind,
    metadata,
    spec: isObject(v.spec) ? v.spec : {},
    source: { file, line: doc.line },
  };
  return { resource: { resource, locate: doc.locate }, messages };
}
