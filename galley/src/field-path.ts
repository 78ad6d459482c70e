// Field paths as messages show them: `spec.http[0].route[1].weight`. Keys that are not plain
// identifiers (label keys such as `app.kubernetes.io/name`) are written `["..."]`.

export type PathSegment = string | number;

const plainKey = /^[A-Za-z_$][\w$-]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (plainKey.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') { i++; continue; }
    if (c === '[') {
      if (path[i + 1] === '"') {
        // JSON string up to the matching unescaped quote.
        let j = i + 2;
        while (j < path.length && path[j] !== '"') j += path[j] === '\\' ? 2 : 1;
        out.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        i = j + 2;
      } else {
        const j = path.indexOf(']', i);
        out.push(Number(path.slice(i + 1, j < 0 ? undefined : j)));
        i = j < 0 ? path.length : j + 1;
      }
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    out.push(path.slice(i, j));
    i = j;
  }
  return out;
}

export function childPath(path: string, key: PathSegment): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!plainKey.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}
