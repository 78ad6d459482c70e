// hardenServer on a bare node:http server: the framing attacks of the chaos suite, cheaply.
// Oversized heads get 431, smuggling framings a single 400, and no request reaches the handler.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { hardenServer, listenOn, type ListeningServer } from '../../../sidecar/src/listen.js';
import { rawHttp } from '../../chaos/raw.js';

let handled = 0;
const server = http.createServer((_req, res) => { handled++; res.end('ok'); });
hardenServer(server);
let l: ListeningServer | undefined;
const port = async () => (l ??= await listenOn(server, '127.0.0.1', 0)).port;
after(() => l?.close());

test('a head over the limit gets 431 and never reaches the handler', async () => {
  const a = await rawHttp(await port(), `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 500);
  assert.deepEqual(a.statuses, [431]);
  assert.equal(handled, 0);
});

test('CL+TE, double Content-Length and obs-fold get one 400 each; nothing is handled', async () => {
  for (const bytes of [
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n',
  ]) {
    const a = await rawHttp(await port(), bytes, 500);
    assert.deepEqual(a.statuses, [400], JSON.stringify(bytes));
  }
  assert.equal(handled, 0);
  const ok = await rawHttp(await port(), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 500);
  assert.deepEqual(ok.statuses, [200]);
  assert.equal(handled, 1);
});
