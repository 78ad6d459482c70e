// Reads components' own views of the world (their debug JSON). meshctl never guesses.

export class MeshUnreachable extends Error {
  constructor(readonly component: string, readonly url: string, reason: string) {
    super(`cannot reach ${component} at ${url}: ${reason}. Is the mesh up? (npm start, or docker compose -f compose/compose.yaml up)`);
    this.name = 'MeshUnreachable';
  }
}

export interface Fetched<T> {
  status: number;
  body: T;
}

export async function getJson<T>(component: string, url: string, timeoutMs = 3000): Promise<Fetched<T>> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new MeshUnreachable(component, url, cause);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as T };
  } catch {
    throw new MeshUnreachable(component, url, `answered ${res.status} with something that is not JSON`);
  }
}
