// The web app's files, read once at start: a plain page, one script, one stylesheet, all
// served by the console itself (no CDN, nothing fetched from elsewhere).

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WebAssets {
  html: Buffer;
  favicon: string;
  files: Map<string, { type: string; body: Buffer }>;
}

const types: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** console/web of this checkout, seen from dist/console/src/assets.js or console/src/assets.ts. */
export function defaultAssetsDir(): string {
  return resolve(fileURLToPath(import.meta.url), '../../../../console/web');
}

export function loadAssets(dir: string = defaultAssetsDir()): WebAssets {
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name));
    } catch (err) {
      throw new Error(`console: cannot read the web app file ${join(dir, name)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set MESH_CONSOLE_ASSETS_DIR`);
    }
  };
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const [name, type] of Object.entries(types)) files.set(name, { type, body: read(name) });
  return { html: read('index.html'), favicon: read('favicon.svg').toString('utf8'), files };
}
