import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Fixtures stay in the source tree; compiled tests run from dist/.
const dir = fileURLToPath(new URL('../../../../test/unit/pilot/fixtures/', import.meta.url));

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as T;
}
