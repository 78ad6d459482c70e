#!/usr/bin/env node
// The compiled CLI lives in dist/; `npm run build` makes it.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const main = resolve(fileURLToPath(import.meta.url), '../../../dist/meshctl/src/main.js');
if (!existsSync(main)) {
  process.stderr.write(`meshctl is not built yet: run \`npm run build\` in ${resolve(main, '../../../..')}\n`);
  process.exit(1);
}
await import(pathToFileURL(main).href);
