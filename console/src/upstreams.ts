// Reads the components' own views of the world (their debug JSON), with a deadline, and
// never throws: an unreachable component becomes data the page shows, not a failed page.

export type ComponentName = 'galley' | 'pilot' | 'citadel' | 'mixer';

export type Fetched<T> =
  | { ok: true; component: ComponentName; url: string; status: number; body: T }
  | { ok: false; component: ComponentName; url: string; status?: number; code: string; error: string };

export interface UpstreamUrls {
  galley: string;
  pilot: string;
  citadel: string;
  mixer: string;
}

/** The one seam tests replace: a function from (component, path) to a Fetched answer. */
export type Upstream = <T>(component: ComponentName, path: string) => Promise<Fetched<T>>;

export function httpUpstream(urls: UpstreamUrls, timeoutMs: number): Upstream {
  return async <T>(component: ComponentName, path: string): Promise<Fetched<T>> => {
    const url = `${urls[component].replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string }; message: string };
      const code = e.name === 'TimeoutError' ? 'TIMEOUT' : e.cause?.code ?? 'UNREACHABLE';
      return { ok: false, component, url, code: 'CONSOLE_UPSTREAM_UNREACHABLE', error: `${component} at ${url}: ${code}` };
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, component, url, status: res.status, code: 'CONSOLE_UPSTREAM_NOT_JSON', error: `${component} answered ${res.status} with something that is not JSON` };
    }
    // Components answer readiness with 503 and a JSON body; that is data, not an error.
    if (res.status >= 400 && !path.startsWith('/ready')) {
      const msg = (body as { message?: string }).message ?? `status ${res.status}`;
      return { ok: false, component, url, status: res.status, code: (body as { code?: string }).code ?? 'CONSOLE_UPSTREAM_ERROR', error: `${component}: ${msg}` };
    }
    return { ok: true, component, url, status: res.status, body: body as T };
  };
}
