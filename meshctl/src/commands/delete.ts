// `meshctl delete -f FILE`: removes the resources FILE names (kind, namespace, name) from the
// config folder. A folder file left with none of its documents is removed; one that keeps some
// is rewritten atomically without the deleted documents (the others are kept as written).

import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { listConfigFiles, parseYaml } from '../../../galley/src/analysis/index.js';
import { UsageError } from './analyze.js';
import { configDirOf, displayName, writeFileAtomic } from './apply.js';

interface Ref { apiVersion: string; kind: string; namespace: string; name: string }

function refOf(v: unknown): Ref | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') return undefined;
  const ns = typeof o.metadata.namespace === 'string' && o.metadata.namespace ? o.metadata.namespace : 'default';
  return { apiVersion: typeof o.apiVersion === 'string' ? o.apiVersion : '', kind: o.kind, namespace: ns, name: o.metadata.name };
}

const keyOf = (r: Ref) => `${r.kind}/${r.namespace}/${r.name}`;

export interface DeleteOptions {
  configDir: string;
  dryRun?: boolean;
  ignoreNotFound?: boolean;
}

export interface DeleteResult {
  lines: string[];
  errors: string[];
  /** Folder files removed or rewritten. */
  changed: { file: string; action: 'removed' | 'rewritten' }[];
  exitCode: number;
}

export function runDelete(input: { file: string; text: string }, opts: DeleteOptions): DeleteResult {
  const parsed = parseYaml(input.file, input.text);
  if (parsed.messages.some((m) => m.level === 'Error')) {
    throw new UsageError(`${input.file}: ${parsed.messages.map((m) => `${m.line ? `line ${m.line}: ` : ''}${m.message}`).join('; ')}`);
  }
  const wanted = new Map<string, Ref>();
  for (const d of parsed.documents) {
    const ref = refOf(d.value);
    if (ref) wanted.set(keyOf(ref), ref);
  }
  if (wanted.size === 0) throw new UsageError(`${input.file}: no resource (kind and metadata.name) to delete`);

  let files: string[] = [];
  try { files = listConfigFiles(opts.configDir); } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const found = new Set<string>();
  const result: DeleteResult = { lines: [], errors: [], changed: [], exitCode: 0 };
  for (const rel of files) {
    const path = join(opts.configDir, rel);
    const text = readFileSync(path, 'utf8');
    let docs;
    try {
      docs = parseAllDocuments(text);
    } catch {
      continue; // not ours to judge here; analyze reports it
    }
    if (!Array.isArray(docs)) continue;
    const keep: string[] = [];
    let removed = 0;
    let present = 0;
    for (const doc of docs) {
      if (doc.errors.length > 0) { keep.push(String(doc)); present++; continue; }
      let value: unknown;
      try { value = doc.toJS({ maxAliasCount: 100 }); } catch { keep.push(String(doc)); present++; continue; }
      if (value === null || value === undefined) continue;
      present++;
      const ref = refOf(value);
      if (ref && wanted.has(keyOf(ref))) {
        found.add(keyOf(ref));
        removed++;
        result.lines.push(`${displayName({ kind: ref.kind, apiVersion: ref.apiVersion, metadata: { name: ref.name, namespace: ref.namespace } })} deleted (from ${path})${opts.dryRun ? ' (dry run)' : ''}`);
      } else {
        keep.push(String(doc));
      }
    }
    if (removed === 0) continue;
    if (removed === present) {
      if (!opts.dryRun) unlinkSync(path);
      result.changed.push({ file: path, action: 'removed' });
    } else {
      if (!opts.dryRun) writeFileAtomic(path, keep.map((d) => (d.endsWith('\n') ? d : `${d}\n`)).join('---\n'));
      result.changed.push({ file: path, action: 'rewritten' });
    }
  }
  for (const [key, ref] of wanted) {
    if (found.has(key)) continue;
    const msg = `${ref.kind.toLowerCase()} "${ref.namespace}/${ref.name}" not found in ${opts.configDir}`;
    if (opts.ignoreNotFound) continue;
    result.errors.push(msg);
    result.exitCode = 1;
  }
  return result;
}

export function formatDelete(r: DeleteResult): string {
  return [...r.lines, ...r.errors.map((e) => `Error: ${e}`)].map((l) => `${l}\n`).join('');
}

export function registerDeleteCommand(program: Command): void {
  program.command('delete')
    .description('remove the resources a file names from the config folder (atomically)')
    .requiredOption('-f, --filename <file>', 'the YAML file naming the resources (- for stdin)')
    .option('--config-dir <dir>', 'the config folder (default: MESH_CONFIG_DIR or compose/config)')
    .option('--ignore-not-found', 'a resource that is not there is not an error')
    .option('--dry-run', 'report, change nothing')
    .action((opts: { filename: string; configDir?: string; ignoreNotFound?: boolean; dryRun?: boolean }) => {
      const text = readFileSync(opts.filename === '-' ? 0 : opts.filename, 'utf8');
      const r = runDelete({ file: opts.filename === '-' ? 'stdin' : opts.filename, text },
        { configDir: configDirOf(opts.configDir), ignoreNotFound: opts.ignoreNotFound, dryRun: opts.dryRun });
      process.stdout.write(r.lines.map((l) => `${l}\n`).join(''));
      process.stderr.write(r.errors.map((e) => `Error: ${e}\n`).join(''));
      process.exitCode = r.exitCode;
    });
}
