// compose-mesh console: a dependency-free single page. It polls the console's /api/* (which
// reads galley, pilot, citadel and mixer) and renders with DOM calls only: no innerHTML, so
// names and messages from config files can never become markup.

const SVG = 'http://www.w3.org/2000/svg';
const POLL_MS = 2000;

/** h('div', { class: 'x', onclick: fn }, child, 'text') */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  return fill(el, attrs, children);
}
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  return fill(el, attrs, children);
}
function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces the current view's content; null/false children are skipped. */
function setView(...children) {
  document.getElementById('view').replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

async function api(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

// ---------- formatting ----------
const fmtRps = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtPct = (v) => (v === 0 ? '0%' : v < 0.001 ? '<0.1%' : `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`);
const fmtMs = (v) => (v === null || v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : v >= 10 ? `${v.toFixed(0)}ms` : `${v.toFixed(1)}ms`);
function fmtDuration(seconds) {
  const sign = seconds < 0 ? '-' : '';
  let x = Math.abs(Math.round(seconds));
  const d = Math.floor(x / 86400); x -= d * 86400;
  const hh = Math.floor(x / 3600); x -= hh * 3600;
  const m = Math.floor(x / 60); x -= m * 60;
  if (d) return `${sign}${d}d ${hh}h`;
  if (hh) return `${sign}${hh}h ${m}m`;
  if (m) return `${sign}${m}m ${x}s`;
  return `${sign}${x}s`;
}
const ago = (iso) => (iso ? `${fmtDuration((Date.now() - Date.parse(iso)) / 1000)} ago` : '–');
const shortVersion = (v) => (v ? v.slice(0, 10) : '–');
const statusClass = { SYNCED: 'ok', 'NOT SENT': 'warn', STALE: 'warn', NACKED: 'bad' };

// ---------- shell: header, problems, routing ----------
const state = { view: 'graph', selected: null, proxy: null, proxyTab: 'clusters', proxyConfig: null, timer: null, seq: 0 };

function renderProblems(problems) {
  const box = document.getElementById('problems');
  box.replaceChildren(...(problems ?? []).map((p) => h('div', {}, h('b', {}, `${p.component}: `), `${p.message} `, h('span', { class: 'mono' }, `[${p.code}]`))));
  box.hidden = !problems || problems.length === 0;
}

async function refreshHeader() {
  try {
    const { view } = await api('/api/overview');
    document.getElementById('components').replaceChildren(...view.components.map((c) =>
      h('span', { class: `chip ${c.healthy ? 'ok' : 'bad'}`, title: `${c.url}${c.detail ? ` – ${c.detail}` : ''}`, 'data-component': c.component, 'data-healthy': String(c.healthy) },
        h('span', { class: 'dot' }), c.component)));
    const counts = Object.entries(view.proxies.byStatus).map(([k, v]) => `${v} ${k}`).join(', ');
    document.getElementById('summary').replaceChildren(...[
      h('span', {}, 'proxies ', h('b', {}, String(view.proxies.total)), counts ? ` (${counts})` : ''),
      h('span', {}, 'config ', h('b', {}, shortVersion(view.config.version)), view.config.invalid ? ` · ${view.config.invalid} invalid` : ''),
      view.prometheus ? h('a', { href: view.prometheus, target: '_blank', rel: 'noopener' }, 'Prometheus ↗') : null,
    ].filter(Boolean));
  } catch {
    document.getElementById('components').replaceChildren(h('span', { class: 'chip bad' }, h('span', { class: 'dot' }), 'console unreachable'));
  }
}

const views = { graph: renderGraph, config: renderConfig, proxies: renderProxies, certs: renderCerts, traces: renderTraces };

function route() {
  const name = (location.hash.replace(/^#\/?/, '').split('/')[0]) || 'graph';
  state.view = views[name] ? name : 'graph';
  state.selected = null;
  for (const a of document.querySelectorAll('.sidebar a')) a.classList.toggle('active', a.dataset.view === state.view);
  setView();
  document.body.dataset.view = state.view;
  void tick();
}

async function tick() {
  clearTimeout(state.timer);
  const seq = ++state.seq;
  try {
    await views[state.view]();
    document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    renderProblems([{ component: 'console', code: 'CONSOLE_FETCH', message: err.message }]);
  }
  if (seq === state.seq) state.timer = setTimeout(() => void tick(), POLL_MS);
}

function head(title, lede, ...extra) {
  return h('div', { class: 'view-head' }, h('div', {}, h('h1', {}, title), h('p', { class: 'lede' }, lede)), h('div', { class: 'spacer' }), ...extra);
}
function stat(n, label, cls) {
  return h('div', { class: `stat ${cls ?? ''}` }, h('div', { class: 'n' }, String(n)), h('div', { class: 'l' }, label));
}

// ---------- graph ----------
const NODE_R = 18;

function nodeShape(n) {
  const g = s('g', {});
  if (n.kind === 'service') g.append(s('path', { class: 'shape', d: `M0 ${-NODE_R - 2} L${NODE_R + 3} ${NODE_R - 4} L${-NODE_R - 3} ${NODE_R - 4} Z` }));
  else if (n.kind === 'gateway') g.append(s('path', { class: 'shape', d: `M0 ${-NODE_R - 3} L${NODE_R + 3} 0 L0 ${NODE_R + 3} L${-NODE_R - 3} 0 Z` }));
  else if (n.kind === 'unknown') g.append(s('rect', { class: 'shape', x: -NODE_R + 2, y: -NODE_R + 2, width: 2 * NODE_R - 4, height: 2 * NODE_R - 4, rx: 4 }));
  else g.append(s('circle', { class: 'shape', r: NODE_R }));
  return g;
}

function edgePath(a, b) {
  const x1 = a.x + NODE_R + 4, y1 = a.y, x2 = b.x - NODE_R - 8, y2 = b.y;
  const dx = Math.max(40, (x2 - x1) / 2);
  return { d: `M${x1} ${y1} C${x1 + dx} ${y1} ${x2 - dx} ${y2} ${x2} ${y2}`, mx: (x1 + x2) / 2, my: (y1 + y2) / 2 };
}

/** Width of one character of an edge label (11px font), for collision boxes. */
const LABEL_CHAR_W = 5.7;

/**
 * Edge labels sit at their edge's middle; where several edges leave one node their middles
 * are close and the labels overlapped each other and the node names. Each label takes the
 * nearest free row (up, then down, a line at a time) that clears the labels placed before it
 * and every node with its name.
 */
function labelPlacer(nodes) {
  const boxes = nodes.map((n) => {
    const w = Math.max(2 * NODE_R + 12, n.name.length * 7.2);
    return { x1: n.x - w / 2, x2: n.x + w / 2, y1: n.y - NODE_R - 4, y2: n.y + NODE_R + 35 };
  });
  const hits = (b) => boxes.some((o) => b.x1 < o.x2 && o.x1 < b.x2 && b.y1 < o.y2 && o.y1 < b.y2);
  return (cx, baseline, width) => {
    for (const step of [0, -1, 1, -2, 2, -3, 3, -4, 4]) {
      const y = baseline + step * 13;
      const box = { x1: cx - width / 2, x2: cx + width / 2, y1: y - 10, y2: y + 3 };
      if (!hits(box)) { boxes.push(box); return y; }
    }
    return baseline;
  };
}

function lockIcon(x, y) {
  return s('g', { class: 'lock', transform: `translate(${x} ${y})` },
    s('title', {}, 'mutual TLS'),
    s('path', { class: 'shackle', d: 'M-2.6 -1.5 V-4 a2.6 2.6 0 0 1 5.2 0 V-1.5' }),
    s('rect', { x: -4, y: -1.5, width: 8, height: 6, rx: 1 }));
}

async function renderGraph() {
  const { view: g, problems } = await api('/api/graph');
  renderProblems(problems);
  if (state.view !== 'graph') return;
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const traffic = g.edges.filter((e) => e.traffic);
  const totalRps = traffic.filter((e) => byId.get(e.from)?.kind !== 'service').reduce((n, e) => n + e.rps, 0);
  const width = Math.max(g.width, 640), height = Math.max(g.height, 360);

  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'graph-svg', 'data-testid': 'graph', role: 'img', 'aria-label': 'service graph' },
    s('defs', {},
      ...['healthy', 'degraded', 'failing', 'idle', 'selected'].map((k) => s('marker', { id: `arrow-${k}`, viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' },
        s('path', { d: 'M0 0 L10 5 L0 10 z', fill: { healthy: '#58a878', degraded: '#e08a00', failing: '#d13b3b', idle: '#c8d0da', selected: '#2f7fd1' }[k] })))),
  );

  const edgeLayer = s('g', {});
  const labelLayer = s('g', {});
  const place = labelPlacer(g.nodes);
  for (const e of g.edges) {
    const a = byId.get(e.from), b = byId.get(e.to);
    if (!a || !b) continue;
    const { d, mx, my } = edgePath(a, b);
    const sel = state.selected === `edge:${e.id}`;
    const width = e.traffic ? Math.min(7, 1.6 + Math.log2(1 + e.rps) * 1.1) : 1.2;
    const cls = `edge ${e.traffic ? 'traffic' : 'idle'} ${e.health}${sel ? ' selected' : ''}`;
    const group = s('g', { class: cls, 'data-edge': e.id, 'data-from': e.from, 'data-to': e.to, 'data-rps': e.rps, 'data-mtls': String(e.mtls), onmousedown: () => select(`edge:${e.id}`) },
      s('path', { class: 'line', d, 'stroke-width': width, 'marker-end': `url(#arrow-${sel ? 'selected' : e.traffic ? e.health : 'idle'})` }),
      e.traffic ? s('path', { class: 'flow', d }) : null,
      s('path', { class: 'hit', d }));
    edgeLayer.append(group);
    if (e.traffic) {
      const text = `${fmtRps(e.rps)} rps · ${fmtPct(e.errorRate)} · p99 ${fmtMs(e.p99Ms)}`;
      const y = place(mx, my - 7, text.length * LABEL_CHAR_W + (e.mtls ? 14 : 0));
      labelLayer.append(s('g', { class: `edge ${e.health}`, 'data-edge-label': e.id },
        s('text', { x: mx + (e.mtls ? 7 : 0), y, 'text-anchor': 'middle' }, text),
        e.mtls ? lockIcon(mx - text.length * 2.85 - 3, y - 4) : null));
    }
  }
  const nodeLayer = s('g', {});
  for (const n of g.nodes) {
    const sel = state.selected === `node:${n.id}`;
    const glyph = n.kind === 'service' ? 'S' : n.kind === 'gateway' ? 'G' : n.kind === 'unknown' ? '?' : '';
    const grp = s('g', { class: `node ${n.kind} ${n.health}${sel ? ' selected' : ''}`, transform: `translate(${n.x} ${n.y})`, 'data-node': n.id, 'data-kind': n.kind, 'data-health': n.health, onmousedown: () => select(`node:${n.id}`) },
      s('title', {}, `${n.kind} ${n.name}${n.reasons.length ? `\n${n.reasons.join('\n')}` : ''}`),
      s('circle', { class: 'ring', r: NODE_R + 6 }),
      nodeShape(n),
      glyph ? s('text', { class: 'glyph', y: n.kind === 'service' ? 6 : 4 }, glyph) : null,
      s('text', { y: NODE_R + 17 }, n.kind === 'workload' && n.app && n.version ? n.app : n.name),
      n.kind === 'workload' && n.version ? s('text', { class: 'version', y: NODE_R + 31 }, n.version) : null);
    nodeLayer.append(grp);
  }
  svg.append(edgeLayer, nodeLayer, labelLayer);

  const legendShape = (kind) => s('svg', { viewBox: '-22 -22 44 44' }, nodeShape({ kind }));
  const legend = h('div', { class: 'legend' },
    h('span', {}, legendShape('workload'), 'workload'), h('span', {}, legendShape('service'), 'service'), h('span', {}, legendShape('gateway'), 'gateway'),
    h('span', {}, s('svg', { viewBox: '-6 -7 12 13' }, lockIcon(0, 0)), 'mTLS'),
    h('span', {}, 'green ok · orange ≥0.1% errors · red ≥20%'));
  const details = state.selected ? h('div', { class: 'panel details floating', id: 'details' }, detailsFor(g, byId)) : null;
  const canvas = h('div', { class: 'panel graph-canvas' }, svg, legend, details);
  const stats = h('div', { class: 'stats' },
    stat(g.nodes.filter((n) => n.kind === 'workload').length, 'workloads'),
    stat(g.nodes.filter((n) => n.kind === 'service').length, 'services'),
    stat(traffic.length, 'traffic edges'),
    stat(fmtRps(totalRps), 'requests / s'),
    stat(g.nodes.filter((n) => n.health === 'failing' || n.health === 'degraded').length, 'unhealthy', g.nodes.some((n) => n.health === 'failing') ? 'bad' : g.nodes.some((n) => n.health === 'degraded') ? 'warn' : ''));
  const win = g.windowSeconds ? `rates over the last ${g.windowSeconds} s` : 'no traffic data';
  setView(
    head('Service graph', `Workloads call services; services send to the workloads behind them. Edge labels: rate · errors · p99, ${win}. Click a node or an edge for details.`),
    stats,
    canvas);
}

// mousedown, not click: the graph re-renders every poll, and a click whose mousedown and
// mouseup land on different renderings never fires.
function select(key) {
  state.selected = state.selected === key ? null : key;
  void tick();
}

function detailsFor(g, byId) {
  const sel = state.selected;
  if (sel?.startsWith('node:')) {
    const n = byId.get(sel.slice(5));
    if (n) {
      const inbound = g.edges.filter((e) => e.to === n.id && e.traffic);
      const outbound = g.edges.filter((e) => e.from === n.id && e.traffic);
      return [
        h('h2', {}, n.name), h('div', { class: 'sub' }, `${n.kind} · ${n.namespace || 'outside the mesh'}`),
        h('dl', { class: 'kv' },
          h('dt', {}, 'health'), h('dd', {}, h('span', { class: `badge ${badgeFor(n.health)}` }, n.health)),
          n.app ? [h('dt', {}, 'app'), h('dd', {}, n.app)] : null,
          n.version ? [h('dt', {}, 'version'), h('dd', {}, n.version)] : null,
          h('dt', {}, 'inbound'), h('dd', {}, `${fmtRps(n.rps)} rps, ${fmtPct(n.errorRate)} errors`),
          n.proxies.total ? [h('dt', {}, 'proxies'), h('dd', {}, `${n.proxies.synced}/${n.proxies.total} synced${n.proxies.nacked ? `, ${n.proxies.nacked} NACKED` : ''}`)] : null),
        n.reasons.length ? h('ul', {}, n.reasons.map((r) => h('li', {}, r))) : null,
        edgeList('calls in', inbound, byId, (e) => e.from), edgeList('calls out', outbound, byId, (e) => e.to),
      ];
    }
  }
  if (sel?.startsWith('edge:')) {
    const e = g.edges.find((x) => `edge:${x.id}` === sel);
    if (e) {
      const codes = Object.entries(e.codes).sort().map(([c, n]) => `${c}: ${n}`).join(', ');
      return [
        h('h2', {}, `${byId.get(e.from)?.name} → ${byId.get(e.to)?.name}`), h('div', { class: 'sub' }, e.traffic ? `${e.protocol} traffic` : 'no traffic in the window'),
        h('dl', { class: 'kv' },
          h('dt', {}, 'rate'), h('dd', {}, `${fmtRps(e.rps)} rps`),
          h('dt', {}, 'errors'), h('dd', {}, fmtPct(e.errorRate)),
          h('dt', {}, 'p50 / p99'), h('dd', {}, `${fmtMs(e.p50Ms)} / ${fmtMs(e.p99Ms)}`),
          h('dt', {}, 'security'), h('dd', {}, e.mtls ? 'mutual TLS' : e.traffic ? 'plaintext (or mixed)' : '–'),
          h('dt', {}, 'codes'), h('dd', {}, codes || '–')),
      ];
    }
  }
  return [h('h2', {}, 'Details'), h('div', { class: 'sub' }, 'Select a node or an edge.'),
    h('ul', {}, h('li', {}, 'Node colour: health from the errors of the traffic it receives and its proxies\u2019 sync state.'),
      h('li', {}, 'Edge width: request rate. The lock marks edges where every request used mutual TLS.'),
      h('li', {}, 'Dashed edges: a service and the workloads behind it, without traffic yet.'))];
}

function edgeList(title, edges, byId, other) {
  if (!edges.length) return null;
  return [h('div', { class: 'sub' }, h('b', {}, title)), h('ul', {}, edges.map((e) => h('li', {}, `${byId.get(other(e))?.name}: ${fmtRps(e.rps)} rps, ${fmtPct(e.errorRate)} err, p99 ${fmtMs(e.p99Ms)}${e.mtls ? ' (mTLS)' : ''}`)))];
}

const badgeFor = (health) => ({ healthy: 'ok', degraded: 'warn', failing: 'bad' }[health] ?? '');

// ---------- config ----------
async function renderConfig() {
  const { view: c, problems } = await api('/api/config');
  renderProblems(problems);
  if (state.view !== 'config') return;
  const t = c.totals;
  const files = c.files.map((f) => h('div', { class: `panel file ${f.state}`, 'data-file': f.file, 'data-state': f.state },
    h('div', { class: 'file-head' },
      h('span', { class: 'file-name' }, f.file),
      h('span', { class: `badge ${f.state === 'valid' ? 'ok' : f.state === 'invalid' ? 'bad' : ''}` }, f.state),
      f.servingLastGood ? h('span', { class: 'badge info', title: 'the last version of this file that passed validation is still in effect' }, 'serving last good version') : null,
      f.errors ? h('span', { class: 'badge bad' }, `${f.errors} error${f.errors > 1 ? 's' : ''}`) : null,
      f.warnings ? h('span', { class: 'badge warn' }, `${f.warnings} warning${f.warnings > 1 ? 's' : ''}`) : null,
      h('span', { class: 'spacer' }), h('span', { class: 'when' }, f.updatedAt ? `read ${ago(f.updatedAt)}` : '')),
    f.resources.length ? h('div', { class: 'resources' }, f.resources.map((r) => h('span', { class: 'resource' }, r))) : null,
    f.messages.length ? h('ul', { class: 'messages' }, f.messages.map(messageRow)) : null));
  setView(
    head('Config', `Every file in the watched folder, what it contributes, and its validation messages. Snapshot ${shortVersion(c.version)}${c.publishedAt ? `, published ${ago(c.publishedAt)}` : ''}.`),
    h('div', { class: 'stats' }, stat(t.files, 'files'), stat(t.resources, 'resources'), stat(t.invalid, 'invalid files', t.invalid ? 'bad' : ''), stat(t.errors, 'errors', t.errors ? 'bad' : ''), stat(t.warnings, 'warnings', t.warnings ? 'warn' : '')),
    c.messages.length ? h('div', { class: 'panel file' }, h('div', { class: 'file-head' }, h('span', { class: 'file-name' }, 'Across files')), h('ul', { class: 'messages' }, c.messages.map(messageRow))) : null,
    c.pilotProblems.length ? h('div', { class: 'panel file invalid' }, h('div', { class: 'file-head' }, h('span', { class: 'file-name' }, 'pilot could not apply')), h('ul', {}, c.pilotProblems.map((p) => h('li', { class: 'mono' }, p)))) : null,
    files.length ? h('div', { class: 'files', 'data-testid': 'config-files' }, files) : h('div', { class: 'panel empty' }, 'No config files yet: drop Istio YAML into the watched folder.'));
}

function messageRow(m) {
  const where = m.file ? `${m.file}${m.line ? `:${m.line}` : ''}${m.column ? `:${m.column}` : ''}` : '';
  return h('li', { class: `message ${m.level}`, 'data-code': m.code, 'data-line': m.line ?? '', title: m.text },
    h('span', {}, h('span', { class: `badge ${m.level === 'Error' ? 'bad' : m.level === 'Warning' ? 'warn' : 'info'}` }, m.level)),
    h('span', { class: 'code' }, m.code),
    h('span', {}, where ? h('span', { class: 'where' }, where) : null, where ? ' ' : '', m.resource ? `${m.resource}: ` : '', m.message,
      m.field ? h('span', { class: 'field' }, ` (${m.field})`) : null));
}

// ---------- proxies ----------
async function renderProxies() {
  const { view: rows, problems } = await api('/api/proxies');
  renderProblems(problems);
  if (state.view !== 'proxies') return;
  const count = (st) => rows.filter((r) => r.status === st).length;
  const table = h('table', { class: 'grid', 'data-testid': 'proxies' },
    h('thead', {}, h('tr', {}, ['Proxy', 'Workload', 'Kind', 'Status', 'Sent', 'ACKed', 'Inbound', 'Last push', 'Error'].map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map((r) => h('tr', { class: `clickable${state.proxy === r.proxy ? ' selected' : ''}`, 'data-proxy': r.proxy, 'data-status': r.status, onmousedown: () => selectProxy(r.proxy) },
      h('td', { class: 'mono' }, r.proxy), h('td', {}, r.workload), h('td', {}, r.kind ?? ''),
      h('td', {}, h('span', { class: `badge ${statusClass[r.status] ?? ''}` }, r.status)),
      h('td', { class: 'mono' }, shortVersion(r.version)), h('td', { class: 'mono' }, shortVersion(r.ackedVersion)),
      h('td', { class: 'mono' }, r.inbound ?? ''), h('td', { class: 'nowrap' }, ago(r.lastPushAt)),
      h('td', { class: 'err' }, r.error ?? '')))));
  const panel = state.proxy ? await proxyConfigPanel() : null;
  setView(
    head('Proxies', 'What pilot sent each proxy and whether the proxy accepted it (ACK) or rejected it (NACK, with its error). Select a proxy to see its config.'),
    h('div', { class: 'stats' }, stat(rows.length, 'proxies'), stat(count('SYNCED'), 'synced'), stat(count('NACKED'), 'nacked', count('NACKED') ? 'bad' : ''), stat(count('STALE') + count('NOT SENT'), 'stale / not sent', count('STALE') + count('NOT SENT') ? 'warn' : '')),
    rows.length ? h('div', { class: 'table-wrap' }, table) : h('div', { class: 'panel empty' }, 'No proxy has announced itself to pilot.'),
    panel);
}

function selectProxy(id) {
  state.proxy = state.proxy === id ? null : id;
  state.proxyConfig = null;
  void tick();
}

async function proxyConfigPanel() {
  if (!state.proxyConfig || state.proxyConfig.proxy !== state.proxy) {
    const { view } = await api(`/api/proxy-config?proxy=${encodeURIComponent(state.proxy)}`);
    state.proxyConfig = { proxy: state.proxy, dump: view };
  }
  const dump = state.proxyConfig.dump;
  const sections = ['clusters', 'listeners', 'routes', 'endpoints', 'all'];
  const body = !dump ? 'pilot has not sent this proxy any config yet.'
    : JSON.stringify(state.proxyTab === 'all' ? dump.config : dump.config?.[state.proxyTab] ?? [], null, 2);
  return h('div', { class: 'panel proxy-config', 'data-testid': 'proxy-config' },
    h('div', { class: 'title' }, `${state.proxy}`, dump ? h('span', { class: 'lede' }, `  version ${shortVersion(dump.version)}, sent ${ago(dump.sentAt)}`) : null),
    h('div', { class: 'tabs' }, sections.map((sec) => h('button', { class: state.proxyTab === sec ? 'active' : '', onclick: () => { state.proxyTab = sec; void tick(); } }, sec))),
    h('pre', { class: 'json' }, body));
}

// ---------- certificates ----------
async function renderCerts() {
  const { view: c, problems } = await api('/api/certs');
  renderProblems(problems);
  if (state.view !== 'certs') return;
  const rows = c.certs.map((r) => {
    const used = r.lifetimeSeconds > 0 ? Math.min(1, Math.max(0, 1 - r.expiresInSeconds / r.lifetimeSeconds)) : 1;
    const bar = h('span', {});
    bar.style.width = `${(used * 100).toFixed(1)}%`;
    return h('tr', { 'data-proxy': r.proxy },
      h('td', { class: 'mono' }, r.proxy), h('td', { class: 'mono' }, r.identity), h('td', {}, r.issuer),
      h('td', { class: 'mono' }, r.serial.slice(0, 12)),
      h('td', {}, new Date(r.notAfter).toLocaleString()),
      h('td', {}, h('span', { class: `life ${r.state === 'expired' ? 'expired' : r.state === 'rotation due' ? 'due' : ''}`, title: `${(used * 100).toFixed(0)} % of the lifetime used` }, bar), ' ', fmtDuration(r.expiresInSeconds)),
      h('td', {}, r.rotatesInSeconds > 0 ? `in ${fmtDuration(r.rotatesInSeconds)}` : 'due now'),
      h('td', {}, h('span', { class: `badge ${r.state === 'valid' ? 'ok' : r.state === 'expired' ? 'bad' : 'warn'}` }, r.state)),
      h('td', {}, String(r.issuedCount)));
  });
  setView(
    head('Certificates', 'The workload certificate each proxy holds: the SPIFFE identity citadel verified, who signed it, when it expires and when the sidecar rotates it (at half its lifetime).'),
    c.root ? h('div', { class: 'panel root-card' },
      h('div', {}, h('div', { class: 'l' }, 'trust domain'), h('div', { class: 'v' }, c.trustDomain ?? '–')),
      h('div', {}, h('div', { class: 'l' }, 'root'), h('div', { class: 'v' }, c.root.subject)),
      h('div', {}, h('div', { class: 'l' }, 'root expires'), h('div', { class: 'v' }, new Date(c.root.notAfter).toLocaleDateString())),
      h('div', {}, h('div', { class: 'l' }, 'issued'), h('div', { class: 'v' }, String(c.issuedTotal ?? '–')))) : null,
    rows.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'grid', 'data-testid': 'certs' },
      h('thead', {}, h('tr', {}, ['Proxy', 'Identity', 'Issuer', 'Serial', 'Not after', 'Expires in', 'Rotation', 'State', 'Issued'].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows))) : h('div', { class: 'panel empty' }, 'citadel has not issued any certificate yet.'));
}

// ---------- traces ----------
async function renderTraces() {
  const { view: traces, problems } = await api('/api/traces');
  renderProblems(problems);
  if (state.view !== 'traces') return;
  const cards = traces.map((t) => {
    const root = t.spans[0];
    const failed = t.spans.some((x) => x.responseCode === 0 || x.responseCode >= 500);
    return h('div', { class: 'panel trace', 'data-trace': t.requestId },
      h('div', { class: 'trace-head' },
        h('span', { class: 'root' }, root ? `${root.method ?? ''} ${root.service.split('.')[0]}${root.path ?? ''}` : t.requestId),
        failed ? h('span', { class: 'badge bad' }, 'error') : h('span', { class: 'badge ok' }, String(root?.responseCode ?? '')),
        h('span', { class: 'id' }, t.requestId), h('span', { class: 'spacer' }),
        h('span', {}, `${t.spans.length} spans · ${fmtMs(t.durationMs)} · ${new Date(t.startMs).toLocaleTimeString()}`)),
      t.spans.map((x) => {
        const bar = h('span', { class: `bar ${x.reporter === 'destination' ? 'server' : ''} ${x.responseCode === 0 || x.responseCode >= 500 ? 'error' : ''}`, title: `${x.responseCode} ${x.responseFlags}` });
        const total = Math.max(t.durationMs, 0.001);
        bar.style.left = `${(((x.startMs - t.startMs) / total) * 100).toFixed(2)}%`;
        bar.style.width = `${Math.max(0.4, (x.durationMs / total) * 100).toFixed(2)}%`;
        return h('div', { class: 'span-row' },
          h('span', { class: 'name', title: `${x.source} → ${x.destination} (${x.service})` }, `${x.source} → ${x.destination === 'unknown' ? x.service.split('.')[0] : x.destination} `, h('span', { class: 'side' }, x.reporter === 'source' ? 'client' : 'server')),
          h('span', { class: 'track' }, bar),
          h('span', { class: 'ms' }, fmtMs(x.durationMs)));
      }));
  });
  setView(
    head('Traces', 'The most recent requests, grouped by x-request-id: each hop as its client side (blue) and server side (green) reported it to mixer.'),
    cards.length ? h('div', { class: 'traces', 'data-testid': 'traces' }, cards) : h('div', { class: 'panel empty' }, 'No requests reported yet.'));
}

// ---------- start ----------
window.addEventListener('hashchange', route);
void refreshHeader();
setInterval(() => void refreshHeader(), 3000);
route();
