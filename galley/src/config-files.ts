// Which files of a config folder are config: `.yaml` / `.yml`, recursively; dotfiles, dot
// folders and editor temp files (`#x#`, `~x`) are not. galley's watcher, meshctl analyze and
// meshctl apply/delete all use this one rule, so they agree on what the folder holds.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Is this path (relative to the config folder) a config file galley reads? */
export function isConfigFile(rel: string): boolean {
  const parts = rel.split(/[\\/]/);
  if (parts.some((p) => p.startsWith('.') || p.startsWith('#') || p.startsWith('~'))) return false;
  return /\.ya?ml$/i.test(rel);
}

/** Every config file under a folder, relative to it, `/`-separated, sorted. */
export function listConfigFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && isConfigFile(r)) out.push(r);
    }
  };
  walk('');
  return out.sort();
}
