// The console's HTTP surface with a fake upstream: the page and its assets (strict CSP, no CDN),
// the JSON views, and unreachable components reported as problems, never as a failed page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildConsoleApp } from '../../../console/src/app.js';
import { defaultAssetsDir, loadAssets } from '../../../console/src/assets.js';
import type { ComponentName, Fetched, Upstream } from '../../../console/src/upstreams.js';
import { edges, proxies, registry } from './fixtures.js';

const urls = { galley: 'http://g', pilot: 'http://p', citadel: 'http://c', mixer: 'http://m' };

function fakeUpstream(down: ComponentName[] = []): Upstream {
  const bodies: Record<string, unknown> = {
    'pilot /debug/registryz': registry,
    'pilot /debug/syncz': proxies,
    'mixer /debug/edges': edges,
    'galley /status': { version: 'v1', files: [{ file: 'broken.yaml', state: 'invalid', resources: [], messages: [{ code: 'IST0106', level: 'Error', message: 'bad weight', file: 'broken.yaml', line: 12 }] }] },
    'pilot /debug/configz': { problems: [] },
  };
  return async <T>(component: ComponentName, path: string): Promise<Fetched<T>> => {
    const url = `${urls[component]}${path}`;
    if (down.includes(component)) return { ok: false, component, url, code: 'CONSOLE_UPSTREAM_UNREACHABLE', error: `${component} at ${url}: ECONNREFUSED` };
    if (path === '/ready') return { ok: true, component, url, status: 200, body: { component, ready: true } as T };
    const body = bodies[`${component} ${path}`];
    if (body === undefined) return { ok: false, component, url, status: 404, code: 'NOT_FOUND', error: `${component}: no ${path}` };
    return { ok: true, component, url, status: 200, body: body as T };
  };
}

test('the page, script and stylesheet are served from the console itself under a strict CSP', async () => {
  const app = buildConsoleApp({ upstream: fakeUpstream(), assets: loadAssets(), urls });
  const page = await app.inject('/');
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/);
  assert.match(page.body, /\/assets\/app\.js/);
  const js = await app.inject('/assets/app.js');
  assert.equal(js.statusCode, 200);
  assert.match(js.headers['content-type'] as string, /javascript/);
  assert.equal((await app.inject('/assets/nope.js')).statusCode, 404);
  assert.equal((await app.inject('/favicon.ico')).statusCode, 200);
  // Nothing in the web app reaches outside the console (no CDN, no external fonts).
  for (const f of ['index.html', 'app.js', 'style.css']) {
    const text = readFileSync(`${defaultAssetsDir()}/${f}`, 'utf8');
    assert.doesNotMatch(text.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, ''), /https?:\/\//, `${f} references no external URL`);
  }
  assert.deepEqual((await app.inject('/ready')).json(), { component: 'console', ready: true });
  await app.close();
});

test('the graph, config and proxies APIs assemble the components\' views', async () => {
  const app = buildConsoleApp({ upstream: fakeUpstream(), assets: loadAssets(), urls });
  const graph = (await app.inject('/api/graph')).json();
  assert.deepEqual(graph.problems, []);
  assert.ok(graph.view.edges.some((e: { traffic: boolean }) => e.traffic));
  const config = (await app.inject('/api/config')).json();
  assert.equal(config.view.files[0].messages[0].text, 'Error [IST0106] (broken.yaml:12) bad weight');
  const ps = (await app.inject('/api/proxies')).json();
  assert.equal(ps.view.length, proxies.length);
  assert.equal((await app.inject('/api/proxy-config')).statusCode, 400);
  await app.close();
});

test('an unreachable component is a problem in the answer, the rest still renders', async () => {
  const app = buildConsoleApp({ upstream: fakeUpstream(['mixer', 'citadel']), assets: loadAssets(), urls });
  const graph = await app.inject('/api/graph');
  assert.equal(graph.statusCode, 200);
  const body = graph.json();
  assert.deepEqual(body.problems.map((p: { component: string }) => p.component), ['mixer']);
  assert.ok(body.view.nodes.length > 0, 'the topology from pilot is still there');
  const overview = (await app.inject('/api/overview')).json();
  assert.deepEqual(overview.view.components.map((c: { component: string; healthy: boolean }) => [c.component, c.healthy]),
    [['galley', true], ['pilot', true], ['citadel', false], ['mixer', false]]);
  const certs = await app.inject('/api/certs');
  assert.equal(certs.statusCode, 200);
  assert.equal(certs.json().view.certs.length, 0);
  const metrics = await app.inject('/metrics');
  assert.match(metrics.body, /console_upstream_errors_total\{component="mixer",code="CONSOLE_UPSTREAM_UNREACHABLE"\} 1/);
  await app.close();
});
