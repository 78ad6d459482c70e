// sidecar/capture/init.sh in real containers: the iptables rules a sidecar installs in its
// app's network namespace redirect the app's outbound calls to the outbound listener (not
// the proxy's own, uid 1337), send plaintext for the app port to the inbound listener,
// install idempotently, and fall back to explicit mode without NET_ADMIN.
// Fake listeners stand in for the sidecar, so this needs only Docker and the image.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { waitFor } from '../support/wait.js';

const image = process.env.MESH_IMAGE ?? 'compose-mesh:latest';

function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const skipReason = !runs('docker', ['info'])
  ? 'no Docker engine answers `docker info` (bash compose/ensure-docker.sh starts one)'
  : !runs('docker', ['image', 'inspect', image])
    ? `image ${image} is missing (npm run compose:offline builds it)`
    : false;

function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker ${args.slice(0, 3).join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `node -e` inside a container: prints the body of GET url, or ERR <code>. */
const fetchScript = (url: string) =>
  `const h=require('http');h.get(${JSON.stringify(url)},{agent:false},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>console.log(b))}).on('error',e=>console.log('ERR '+e.code))`;

// Each listener says who it is; the outbound one echoes the Host header it was given.
const serverScript = `require('http').createServer((q,r)=>r.end('server')).listen(9080,'0.0.0.0')`;
const fakeSidecarScript = [
  `const h=require('http');`,
  `h.createServer((q,r)=>r.end('outbound host='+q.headers.host+' uid='+process.getuid())).listen(15001,'127.0.0.1');`,
  `h.createServer((q,r)=>r.end('inbound')).listen(15006,'0.0.0.0');`,
  `h.createServer((q,r)=>r.end('app')).listen(9080,'127.0.0.1');`,
  `console.log('proxy-id='+process.env.MESH_PROXY_ID);`,
].join('');

describe('sidecar capture (iptables in a NET_ADMIN container)', { skip: skipReason, timeout: 5 * 60_000 }, () => {
  const tag = randomBytes(3).toString('hex');
  const network = `meshcapture${tag}`;
  const server = `meshcapture-server-${tag}`;
  const app = `meshcapture-app-${tag}`;
  const noCap = `meshcapture-nocap-${tag}`;
  const pod = `meshcapture-pod-${tag}`;
  const podProxy = `meshcapture-podproxy-${tag}`;
  let appIp = '';

  const logsOf = async (name: string) => {
    return new Promise<string>((resolve) => execFile('docker', ['logs', name], (_e, out, err) => resolve(`${out}${err}`)));
  };

  before(async () => {
    await docker(['network', 'create', network]);
    await docker(['run', '-d', '--name', server, '--network', network, '--network-alias', 'server', image, 'node', '-e', serverScript]);
    await docker(['run', '-d', '--name', app, '--network', network, '--cap-add', 'NET_ADMIN',
      '-e', 'MESH_WORKLOAD=reviews-v9', '-e', 'MESH_APP_PORTS=http:9080:9080', '-e', 'MESH_CAPTURE_PORTS=9080,8000',
      image, 'sh', '/mesh/sidecar/capture/init.sh', 'node', '-e', fakeSidecarScript]);
    await waitFor(async () => (await logsOf(app)).includes('proxy-id='), { timeoutMs: 20_000, intervalMs: 100, what: 'the fake sidecar started' });
    appIp = (await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', app])).trim();
  });

  after(async () => {
    await docker(['rm', '-f', server, app, noCap, podProxy, pod]).catch(() => undefined);
    await docker(['network', 'rm', network]).catch(() => undefined);
  });

  test('the app\'s call to server:9080 reaches the outbound listener with its Host header', async () => {
    const out = await docker(['exec', app, 'node', '-e', fetchScript('http://server:9080/x')]);
    assert.equal(out.trim(), 'outbound host=server:9080 uid=1337');
  });

  test('the proxy user (1337) is not captured: its call reaches the server', async () => {
    const out = await docker(['exec', '-u', '1337', app, 'node', '-e', fetchScript('http://server:9080/x')]);
    assert.equal(out.trim(), 'server');
  });

  test('loopback is not captured: the app port on 127.0.0.1 answers directly', async () => {
    const out = await docker(['exec', app, 'node', '-e', fetchScript('http://127.0.0.1:9080/')]);
    assert.equal(out.trim(), 'app');
  });

  test('a port outside MESH_CAPTURE_PORTS is not captured', async () => {
    const out = await docker(['exec', app, 'node', '-e', fetchScript('http://server:9081/')]);
    assert.match(out.trim(), /^ERR ECONNREFUSED/);
  });

  test('plaintext to the app port from another container lands on the inbound listener', async () => {
    const out = await docker(['exec', server, 'node', '-e', fetchScript(`http://${appIp}:9080/`)]);
    assert.equal(out.trim(), 'inbound');
  });

  test('the proxy id is <workload>-<container hostname>.<namespace> and rules install once', async () => {
    const hostname = (await docker(['exec', app, 'cat', '/etc/hostname'])).trim();
    assert.match(await logsOf(app), new RegExp(`proxy-id=reviews-v9-${hostname}\\.default`));
    const rules = async () => (await docker(['exec', app, 'iptables-nft', '-t', 'nat', '-S'])).split('\n').filter((l) => l.includes('MESH_')).sort();
    const first = await rules();
    await docker(['exec', '-e', 'MESH_APP_PORTS=http:9080:9080', '-e', 'MESH_CAPTURE_PORTS=9080,8000', app, 'sh', '/mesh/sidecar/capture/init.sh', 'true']);
    assert.deepEqual(await rules(), first);
    assert.ok(first.includes('-A MESH_OUTPUT -m owner --uid-owner 1337 -j RETURN'), first.join('\n'));
  });

  test('without NET_ADMIN it logs, stays up in explicit mode and still drops to uid 1337', async () => {
    await docker(['run', '--name', noCap, '-e', 'MESH_WORKLOAD=sleep', image, 'sh', '/mesh/sidecar/capture/init.sh', 'sh', '-c', 'echo uid=$(id -u)']);
    const logs = await logsOf(noCap);
    assert.match(logs, /iptables failed .*explicit mode/);
    assert.match(logs, /uid=1337/);
  });

  test('when the app container restarts, the sidecar left in the old namespace exits (75) to be restarted', async () => {
    await docker(['run', '-d', '--name', pod, '--network', network, image, 'node', '-e', 'setInterval(() => {}, 1000)']);
    await docker(['run', '-d', '--name', podProxy, '--network', `container:${pod}`, '-e', 'MESH_CAPTURE=none', '-e', 'MESH_NETNS_WATCH_SECONDS=0.2',
      image, 'sh', '/mesh/sidecar/capture/init.sh', 'node', '-e', 'setInterval(() => {}, 1000)']);
    const state = async () => (await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', podProxy])).trim();
    assert.equal(await state(), 'running 0');
    await docker(['restart', '-t', '1', pod]);
    assert.equal(await waitFor(async () => ((await state()).startsWith('exited') ? state() : undefined), { timeoutMs: 20_000, intervalMs: 100, what: 'the sidecar to exit' }), 'exited 75');
    assert.match(await logsOf(podProxy), /lost its link/);
  });
});

