// The config view: every file galley watches, its resources, and its validation messages in
// Istio's one-line format with file:line, errors first.

import type { GalleyMessage, GalleyStatusBody } from './inputs.js';

export interface ConfigMessageView extends GalleyMessage {
  /** `Error [IST0106] (VirtualService default/broken broken.yaml:12) ...` */
  text: string;
}

export interface ConfigFileView {
  file: string;
  state: string;
  servingLastGood: boolean;
  resources: string[];
  messages: ConfigMessageView[];
  errors: number;
  warnings: number;
  updatedAt?: string;
}

export interface ConfigView {
  version: string | null;
  publishedAt: string | null;
  files: ConfigFileView[];
  /** Messages across files (a VirtualService naming a host nobody declares). */
  messages: ConfigMessageView[];
  totals: { files: number; invalid: number; resources: number; errors: number; warnings: number };
  /** What pilot could not turn into proxy config, if it says. */
  pilotProblems: string[];
}

const levelRank: Record<string, number> = { Error: 0, Warning: 1, Info: 2 };

export function messageText(m: GalleyMessage): string {
  const place = m.file ? `${m.file}${m.line ? `:${m.line}` : ''}` : '';
  const where = [m.resource, place].filter(Boolean).join(' ');
  return `${m.level} [${m.code}]${where ? ` (${where})` : ''} ${m.message}`;
}

const view = (m: GalleyMessage): ConfigMessageView => ({ ...m, text: messageText(m) });

const byLevelThenLine = (a: GalleyMessage, b: GalleyMessage) =>
  (levelRank[a.level] ?? 3) - (levelRank[b.level] ?? 3) || (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0);

export function buildConfigView(status: GalleyStatusBody | undefined, pilotProblems: unknown[] = []): ConfigView {
  const files: ConfigFileView[] = (status?.files ?? []).map((f) => {
    const messages = [...(f.messages ?? [])].sort(byLevelThenLine).map(view);
    return {
      file: f.file,
      state: f.state,
      servingLastGood: f.servingLastGood ?? false,
      resources: [...(f.resources ?? [])],
      messages,
      errors: messages.filter((m) => m.level === 'Error').length,
      warnings: messages.filter((m) => m.level === 'Warning').length,
      updatedAt: f.updatedAt,
    };
  });
  // Invalid files first, then by name: what needs attention is on top.
  files.sort((a, b) => Number(b.state === 'invalid') - Number(a.state === 'invalid') || a.file.localeCompare(b.file));
  // galley's top-level list repeats the per-file messages; keep only those no file shows.
  const key = (m: GalleyMessage) => `${m.code}\u0001${m.file ?? ''}\u0001${m.line ?? ''}\u0001${m.message}`;
  const shown = new Set(files.flatMap((f) => f.messages.map(key)));
  const messages = [...(status?.messages ?? [])].filter((m) => !shown.has(key(m))).sort(byLevelThenLine).map(view);
  return {
    version: status?.version ?? null,
    publishedAt: status?.publishedAt ?? null,
    files,
    messages,
    totals: {
      files: files.length,
      invalid: files.filter((f) => f.state === 'invalid').length,
      resources: files.reduce((n, f) => n + f.resources.length, 0),
      errors: files.reduce((n, f) => n + f.errors, 0) + messages.filter((m) => m.level === 'Error').length,
      warnings: files.reduce((n, f) => n + f.warnings, 0) + messages.filter((m) => m.level === 'Warning').length,
    },
    pilotProblems: pilotProblems.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))),
  };
}
