// `-o json|yaml|short|table` for every command: JSON and YAML print the data as is,
// tables print the columns a person scans.

import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'json' | 'yaml' | 'short';

export function parseFormat(raw: string | undefined): OutputFormat {
  const f = (raw ?? 'table').toLowerCase();
  if (f === 'table' || f === 'json' || f === 'yaml' || f === 'short') return f;
  throw new Error(`unknown output format ${JSON.stringify(raw)}: use json, yaml, short or table`);
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** `short` prints one terse line per item when the command gives a short form, else the table. */
export function render(format: OutputFormat, data: unknown, asTable: () => string, asShort?: () => string): string {
  switch (format) {
    case 'json': return JSON.stringify(data, null, 2) + '\n';
    case 'yaml': return stringify(data);
    case 'short': return asShort ? asShort() : asTable();
    default: return asTable();
  }
}

/** Lines joined with a trailing newline; nothing at all for no lines. */
export function lines(items: string[]): string {
  return items.length ? items.join('\n') + '\n' : '';
}
