// `meshctl analyze <dir|files...>`: galley's validation and analyzers, offline (no mesh
// running), with istioctl analyze's habits: `-o log|json|yaml`, `--failure-threshold`,
// `--output-threshold`, `--suppress`, `--list-analyzers`, exit code 79 when issues at or above
// the failure threshold are found.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYamlText, stringify } from 'yaml';
import { fqdn } from '#api';
import {
  analyzeFiles, defaultAnalyzers, defaultParseLimits, formatMessage, listConfigFiles, messageTypes, sortMessages,
  type AnalysisMessage, type ConfigFile, type KnownService, type MessageLevel,
} from '../../../galley/src/analysis/index.js';

/** istioctl's exit code for "Analyzers found issues". */
export const EXIT_ISSUES_FOUND = 79;

export type AnalyzeFormat = 'log' | 'json' | 'yaml';

const levels: MessageLevel[] = ['Info', 'Warning', 'Error'];

export function parseLevel(raw: string, flag: string): MessageLevel {
  const l = levels.find((x) => x.toLowerCase() === raw.toLowerCase());
  if (!l) throw new UsageError(`${flag} ${JSON.stringify(raw)}: use Info, Warning or Error`);
  return l;
}

export function parseAnalyzeFormat(raw: string): AnalyzeFormat {
  const f = raw.toLowerCase();
  if (f === 'log' || f === 'json' || f === 'yaml') return f;
  throw new UsageError(`-o ${JSON.stringify(raw)}: use log, json or yaml`);
}

export class UsageError extends Error {}

export interface AnalyzeOptions {
  output: AnalyzeFormat;
  failureThreshold: MessageLevel;
  outputThreshold: MessageLevel;
  /** `CODE=RESOURCE` with `*` wildcards (`IST0130=VirtualService default/*`), or just `CODE`. */
  suppress: string[];
  /** Services known to exist (from a compose file): enables the host checks. */
  services?: KnownService[];
}

export interface AnalyzeResult {
  messages: AnalysisMessage[];
  /** What was analyzed, for the "no issues" line. */
  target: string;
  files: number;
  exitCode: number;
}

const rank = (l: MessageLevel) => levels.indexOf(l);

/** Reads the paths (folders recursively; `-` is stdin) into config files, refusing oversized ones unread. */
export function readInputs(paths: readonly string[], readStdin: () => string = () => readFileSync(0, 'utf8')): { files: ConfigFile[]; messages: AnalysisMessage[] } {
  const files: ConfigFile[] = [];
  const messages: AnalysisMessage[] = [];
  const add = (file: string) => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch (err) {
      const t = messageTypes.FileUnreadable;
      messages.push({ code: t.code, level: t.level, file, message: `cannot read file: ${(err as Error).message}` });
      return;
    }
    if (size > defaultParseLimits.maxBytes) {
      const t = messageTypes.InputRejected;
      messages.push({ code: t.code, level: t.level, file, message: `file is ${size} bytes, over the limit of ${defaultParseLimits.maxBytes} bytes` });
      return;
    }
    try {
      files.push({ file, text: readFileSync(file, 'utf8') });
    } catch (err) {
      const t = messageTypes.FileUnreadable;
      messages.push({ code: t.code, level: t.level, file, message: `cannot read file: ${(err as Error).message}` });
    }
  };
  for (const p of paths) {
    if (p === '-') { files.push({ file: 'stdin', text: readStdin() }); continue; }
    let isDir = false;
    try { isDir = statSync(p).isDirectory(); } catch (err) { throw new UsageError(`${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`); }
    if (isDir) for (const rel of listConfigFiles(p)) add(join(p, rel));
    else add(p);
  }
  return { files, messages };
}

/** Services a compose file declares through its `mesh.service` / `mesh.ports` labels. */
export function servicesFromCompose(text: string): KnownService[] {
  const doc = parseYamlText(text, { maxAliasCount: 100 }) as { services?: Record<string, { labels?: unknown }> } | null;
  const out = new Map<string, KnownService>();
  for (const svc of Object.values(doc?.services ?? {})) {
    let labels: Record<string, string> = {};
    if (Array.isArray(svc?.labels)) {
      for (const l of svc.labels) if (typeof l === 'string' && l.includes('=')) labels[l.slice(0, l.indexOf('='))] = l.slice(l.indexOf('=') + 1);
    } else if (svc?.labels && typeof svc.labels === 'object') {
      labels = Object.fromEntries(Object.entries(svc.labels).map(([k, v]) => [k, String(v)]));
    }
    const names = (labels['mesh.service'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const ns = labels['mesh.namespace'] || 'default';
    const ports = (labels['mesh.ports'] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((p) => {
      const [name, port] = p.split(':');
      return { number: Number(port), name: name ?? '' };
    }).filter((p) => Number.isInteger(p.number));
    for (const name of names) {
      const hostname = fqdn(name, ns);
      const known = out.get(hostname) ?? { hostname, ports: [] };
      for (const p of ports) if (!known.ports.some((k) => k.number === p.number)) known.ports.push(p);
      out.set(hostname, known);
    }
  }
  return [...out.values()];
}

function suppressed(m: AnalysisMessage, rules: readonly string[]): boolean {
  return rules.some((rule) => {
    const eq = rule.indexOf('=');
    const code = eq < 0 ? rule : rule.slice(0, eq);
    if (code.toUpperCase() !== m.code) return false;
    if (eq < 0) return true;
    const glob = new RegExp(`^${rule.slice(eq + 1).split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return glob.test(m.resource ?? '');
  });
}

export function runAnalyze(paths: readonly string[], opts: AnalyzeOptions, readStdin?: () => string): AnalyzeResult {
  const { files, messages: readMessages } = readInputs(paths, readStdin);
  const report = analyzeFiles(files, defaultParseLimits, opts.services ? { services: opts.services } : {});
  const all = sortMessages([...readMessages, ...report.messages]).filter((m) => !suppressed(m, opts.suppress));
  const failing = all.some((m) => rank(m.level) >= rank(opts.failureThreshold));
  return {
    messages: all.filter((m) => rank(m.level) >= rank(opts.outputThreshold)),
    target: paths.join(' '),
    files: files.length,
    exitCode: failing ? EXIT_ISSUES_FOUND : 0,
  };
}

/** istioctl's JSON shape (code, level, message, origin, reference) plus the field and place. */
function asIstio(m: AnalysisMessage): Record<string, unknown> {
  const reference = m.file ? `${m.file}${m.line ? `:${m.line}` : ''}` : undefined;
  return { code: m.code, level: m.level, message: m.message, ...(m.resource ? { origin: m.resource } : {}), ...(reference ? { reference } : {}),
    ...(m.file ? { file: m.file } : {}), ...(m.line ? { line: m.line } : {}), ...(m.column ? { column: m.column } : {}), ...(m.field ? { field: m.field } : {}) };
}

export function formatAnalyze(r: AnalyzeResult, format: AnalyzeFormat): string {
  if (format === 'json') return JSON.stringify(r.messages.map(asIstio), null, 2) + '\n';
  if (format === 'yaml') return r.messages.length ? stringify(r.messages.map(asIstio)) : '[]\n';
  if (r.messages.length === 0) return `\u2714 No validation issues found when analyzing ${r.target} (${r.files} file${r.files === 1 ? '' : 's'}).\n`;
  return r.messages.map(formatMessage).join('\n') + '\n';
}

export function listAnalyzers(): string {
  return defaultAnalyzers.map((a) => `${a.name}: ${a.description}`).join('\n') + '\n';
}

/** `meshctl analyze` on the command line (wired in main.ts). */
export function registerAnalyzeCommand(program: Command): void {
  program.command('analyze [paths...]')
    .description('validate Istio YAML offline, as galley does: field checks and analyzers with IST codes and file:line')
    .option('-o, --output <format>', 'log | json | yaml', 'log')
    .option('--failure-threshold <level>', 'exit 79 when a message at this level or above is found: Info | Warning | Error', 'Error')
    .option('--output-threshold <level>', 'show messages at this level or above: Info | Warning | Error', 'Info')
    .option('-S, --suppress <CODE=RESOURCE>', 'hide messages with this code (for resources matching, * wildcards); repeatable', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--compose <file>', 'a compose file whose mesh.service / mesh.ports labels list the services that exist (enables host checks)')
    .option('-L, --list-analyzers', 'list the analyzers and exit')
    .addHelpText('after', '\nPaths default to MESH_CONFIG_DIR or compose/config; folders are read recursively (*.yaml, *.yml); - reads stdin.')
    .action((paths: string[], opts: { output: string; failureThreshold: string; outputThreshold: string; suppress: string[]; compose?: string; listAnalyzers?: boolean }) => {
      if (opts.listAnalyzers) { process.stdout.write(listAnalyzers()); return; }
      const format = parseAnalyzeFormat(opts.output);
      const options: AnalyzeOptions = {
        output: format,
        failureThreshold: parseLevel(opts.failureThreshold, '--failure-threshold'),
        outputThreshold: parseLevel(opts.outputThreshold, '--output-threshold'),
        suppress: opts.suppress,
        ...(opts.compose ? { services: servicesFromCompose(readFileSync(opts.compose, 'utf8')) } : {}),
      };
      const targets = paths.length > 0 ? paths : [process.env.MESH_CONFIG_DIR ?? 'compose/config'];
      const result = runAnalyze(targets, options);
      process.stdout.write(formatAnalyze(result, format));
      process.exitCode = result.exitCode;
    });
}
