// `meshctl apply -f FILE`: puts a file of Istio YAML into the config folder galley watches,
// the way kubectl apply goes through validation first. The file is checked exactly as galley
// checks it and refused on any Error (nothing written); it is written atomically (a dotfile
// temp in the same folder, fsync, rename), so galley never reads half a file.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Command } from 'commander';
import { resourceKey, type Resource } from '#api';
import {
  analyzeFiles, checkFile, formatMessage, listConfigFiles, type AnalysisMessage,
} from '../../../galley/src/analysis/index.js';
import { UsageError } from './analyze.js';

/** The folder apply/delete change: --config-dir, else MESH_CONFIG_DIR, else compose/config. */
export function configDirOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.MESH_CONFIG_DIR ?? 'compose/config';
}

/** kubectl's spelling: `virtualservice.networking.istio.io/reviews`. */
export function displayName(r: Pick<Resource, 'kind' | 'apiVersion' | 'metadata'>): string {
  const group = r.apiVersion.includes('/') ? r.apiVersion.slice(0, r.apiVersion.indexOf('/')) : '';
  return `${r.kind.toLowerCase()}${group ? `.${group}` : ''}/${r.metadata.name}`;
}

/** Write a temp file beside the target (a dotfile galley ignores), flush it, rename it over. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.meshctl-${process.pid}-${Date.now().toString(36)}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
}

export interface ApplyOptions {
  configDir: string;
  dryRun?: boolean;
  /** Name in the folder; default: the input's file name. */
  as?: string;
}

export interface ApplyResult {
  target: string;
  /** `virtualservice.networking.istio.io/reviews created` ... */
  lines: string[];
  /** Errors that refused the file, or findings about the folder as it now is. */
  messages: AnalysisMessage[];
  written: boolean;
  exitCode: number;
}

function strip(r: Resource): unknown {
  return { apiVersion: r.apiVersion, kind: r.kind, metadata: r.metadata, spec: r.spec };
}

export function runApply(input: { file: string; text: string }, opts: ApplyOptions): ApplyResult {
  const name = opts.as ?? basename(input.file);
  if (!/\.ya?ml$/i.test(name) || name.startsWith('.') || name.includes('..')) {
    throw new UsageError(`${name}: the config folder only reads *.yaml / *.yml files (not dotfiles); name it with --as`);
  }
  const target = join(opts.configDir, name);
  const check = checkFile(target, input.text);
  const errors = check.messages.filter((m) => m.level === 'Error');
  if (errors.length > 0) return { target, lines: [], messages: check.messages, written: false, exitCode: 1 };

  // The folder as it is, to tell created / configured / unchanged, and to refuse a resource
  // another file already defines (galley would ignore one of the two).
  let existing: string[] = [];
  try { existing = listConfigFiles(opts.configDir); } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const current = analyzeFiles(existing.map((rel) => ({ file: join(opts.configDir, rel), text: readFileSync(join(opts.configDir, rel), 'utf8') })));
  const byKey = new Map(current.resources.map((r) => [resourceKey(r), r]));
  const conflicts = check.resources.map((lr) => lr.resource).filter((r) => {
    const other = byKey.get(resourceKey(r));
    return other?.source && other.source.file !== target;
  });
  if (conflicts.length > 0) {
    const messages = conflicts.map((r): AnalysisMessage => ({
      code: 'MSH0006', level: 'Error', resource: `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`, file: target, line: r.source?.line,
      message: `already defined in ${byKey.get(resourceKey(r))!.source!.file}: apply the change to that file, or delete it there first`,
    }));
    return { target, lines: [], messages, written: false, exitCode: 1 };
  }

  const lines: string[] = [];
  for (const { resource: r } of check.resources) {
    const before = byKey.get(resourceKey(r));
    const state = !before ? 'created' : isDeepStrictEqual(strip(before), strip(r)) ? 'unchanged' : 'configured';
    lines.push(`${displayName(r)} ${state}${opts.dryRun ? ' (dry run)' : ''}`);
  }
  const mine = new Set(check.resources.map((lr) => resourceKey(lr.resource)));
  for (const r of current.resources) {
    if (r.source?.file === target && !mine.has(resourceKey(r))) lines.push(`${displayName(r)} deleted (no longer in ${name})${opts.dryRun ? ' (dry run)' : ''}`);
  }
  let previous: string | undefined;
  try { previous = readFileSync(target, 'utf8'); } catch { /* new file */ }
  const written = !opts.dryRun && previous !== input.text;
  if (written) writeFileAtomic(target, input.text);

  // Findings about the folder as it is now (warnings, cross-resource errors): reported, not refused.
  const after = analyzeFiles([...existing.filter((rel) => join(opts.configDir, rel) !== target)
    .map((rel) => ({ file: join(opts.configDir, rel), text: readFileSync(join(opts.configDir, rel), 'utf8') })), { file: target, text: input.text }]);
  const messages = after.messages.filter((m) => m.file === target);
  return { target, lines, messages, written, exitCode: 0 };
}

export function formatApply(r: ApplyResult): string {
  let out = r.lines.map((l) => `${l}\n`).join('');
  if (!r.written && r.exitCode !== 0) out += `Error: ${r.target} not applied:\n`;
  for (const m of r.messages) out += `${formatMessage(m)}\n`;
  return out;
}

function readInput(file: string): { file: string; text: string } {
  return { file: file === '-' ? 'stdin.yaml' : file, text: readFileSync(file === '-' ? 0 : file, 'utf8') };
}

/** `meshctl apply -f` and `meshctl delete -f` on the command line (wired in main.ts). */
export function registerApplyCommand(program: Command): void {
  program.command('apply')
    .description('validate a file of Istio YAML as galley does and put it in the config folder atomically')
    .requiredOption('-f, --filename <file>', 'the YAML file (- for stdin, then name it with --as)')
    .option('--config-dir <dir>', 'the config folder (default: MESH_CONFIG_DIR or compose/config)')
    .option('--as <name>', 'file name in the config folder (default: the input file name)')
    .option('--dry-run', 'check and report, write nothing')
    .action((opts: { filename: string; configDir?: string; as?: string; dryRun?: boolean }) => {
      const r = runApply(readInput(opts.filename), { configDir: configDirOf(opts.configDir), dryRun: opts.dryRun, as: opts.as });
      (r.exitCode === 0 ? process.stdout : process.stderr).write(formatApply(r));
      process.exitCode = r.exitCode;
    });
}
