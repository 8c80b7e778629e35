/*
 * dwfs web UI: one script for the login page and the single-page app.
 *
 * Sections:
 *   1. constants and pure helpers (no DOM; exported for node tests at the end)
 *   2. DOM helpers and small widgets
 *   3. API client, session, messages (error bar, status line)
 *   4. router and polling
 *   5. views: DAG list; DAG page (grid, graph, code, runs, run, task instance)
 *   6. boot (login page or app)
 *
 * Security rules kept everywhere: data reaches the DOM only through
 * textContent, text nodes and setAttribute with fixed attribute names;
 * hrefs are built from encodeURIComponent'd segments; no HTML parsing of
 * data, no inline styles in markup (element.style from JS only), no eval.
 */
(function () {
  'use strict';

  // ===========================================================================
  // 1. Constants and pure helpers
  // ===========================================================================

  const GLYPHS = Object.freeze({
    success: '✓', failed: '✗', running: '▶', queued: '◷', scheduled: '◷',
    up_for_retry: '↻', upstream_failed: '⚠', skipped: '⤼', removed: '⊘',
    none: '', unknown: '?',
  });
  const LEGEND_STATES = ['success', 'failed', 'running', 'queued', 'scheduled',
    'up_for_retry', 'upstream_failed', 'skipped', 'removed', 'none'];
  const RUN_STATES = ['queued', 'running', 'success', 'failed'];
  const LIVE_STATES = new Set(['running', 'queued']);
  const PAGE_SIZE = 25;
  const GRID_LIMITS = [25, 50, 100];
  const LOG_TAIL_BYTES = 1024 * 1024;   // first log fetch: at most the last MiB
  const POLL_MS = 2500;
  const TI_POLL_MS = 2000;              // task instance page: live log tail
  const RUN_ID_RE = /^[A-Za-z0-9_.~:+-]{1,250}$/;

  const hasOwn = (o, k) => o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k);
  /** obj[key] only for own properties (ids like "__proto__" stay harmless). */
  const own = (o, k) => (hasOwn(o, k) ? o[k] : undefined);

  /** A state name safe for data-state: a known state, "none" or "unknown". */
  function stateKey(s) {
    if (s === null || s === undefined || s === '' || s === 'none') return 'none';
    return hasOwn(GLYPHS, s) && s !== 'unknown' ? s : 'unknown';
  }
  function stateGlyph(s) { return GLYPHS[stateKey(s)]; }
  function stateLabel(s) {
    return stateKey(s) === 'none' ? 'no status' : String(s).replace(/_/g, ' ');
  }

  function pad2(n) { return String(n).padStart(2, '0'); }
  function parseTime(v) {
    if (!v) return null;
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  /** "2026-01-02 03:04:05" in UTC, "—" for null. */
  function fmtDate(iso) {
    const t = parseTime(iso);
    if (t === null) return iso ? String(iso) : '—';
    return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
  }
  /** "01-02 03:04" in UTC (grid column heads). */
  function fmtShortDate(iso) {
    const t = parseTime(iso);
    if (t === null) return '—';
    const d = new Date(t);
    return `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  }
  function fmtDuration(sec) {
    if (sec === null || sec === undefined || sec === '' || !Number.isFinite(Number(sec))) return '—';
    sec = Math.max(0, Number(sec));
    if (sec < 10) return `${sec.toFixed(1)}s`;
    if (sec < 60) return `${Math.round(sec)}s`;
    const s = Math.round(sec);
    const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), ss = s % 60;
    if (d) return `${d}d ${hh}h`;
    if (hh) return `${hh}h ${pad2(m)}m`;
    return `${m}m ${pad2(ss)}s`;
  }
  /** Seconds from start to end (or to now while unfinished), null when not started. */
  function spanSeconds(start, end, nowMs) {
    const s = parseTime(start);
    if (s === null) return null;
    const e = parseTime(end);
    return ((e === null ? nowMs : e) - s) / 1000;
  }
  function pageText(offset, count, total) {
    if (!total || !count) return `0 of ${total || 0}`;
    return `${offset + 1}-${offset + count} of ${total}`;
  }
  function queryString(q) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q || {})) {
      if (Array.isArray(v)) v.forEach((x) => p.append(k, String(x)));
      else if (v !== undefined && v !== null && v !== '') p.append(k, String(v));
    }
    return p.toString();
  }
  /** "bytes 10-19/100" -> {start: 10, end: 19, size: 100}; size null for "*". */
  function parseContentRange(v) {
    const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/.exec(String(v || '').trim());
    if (!m) return null;
    return { start: Number(m[1]), end: Number(m[2]), size: m[3] === '*' ? null : Number(m[3]) };
  }
  /** Checks the trigger dialog's conf text: {conf} or {error}. */
  function parseConf(text) {
    const t = String(text || '').trim();
    if (!t) return { conf: {} };
    let v;
    try { v = JSON.parse(t); } catch (e) { return { error: `Conf is not valid JSON: ${e.message}` }; }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'Conf must be a JSON object, like {"key": "value"}.' };
    return { conf: v };
  }

  /** Hash route -> {name: 'dags'|'dag'|'notfound', dagId, tab, runId, taskId}; null for non-route hashes. */
  function parseRoute(hash) {
    const raw = String(hash || '');
    if (raw !== '' && raw !== '#' && !raw.startsWith('#/')) return null;
    const parts = raw.replace(/^#\/?/, '').split('/');
    if (parts.length && parts[parts.length - 1] === '') parts.pop();
    let seg;
    try { seg = parts.map(decodeURIComponent); } catch (e) { return { name: 'notfound' }; }
    if (seg.length === 0) return { name: 'dags' };
    if (seg[0] !== 'dags' || seg.length < 2 || seg[1] === '') return { name: 'notfound' };
    const dagId = seg[1];
    if (seg.length === 2) return { name: 'dag', dagId, tab: 'grid' };
    if (seg.length === 3 && ['grid', 'graph', 'code', 'runs'].includes(seg[2])) return { name: 'dag', dagId, tab: seg[2] };
    if (seg[2] === 'runs' && seg[3]) {
      if (seg.length === 4) return { name: 'dag', dagId, tab: 'run', runId: seg[3] };
      if (seg.length === 6 && seg[4] === 'tasks' && seg[5]) return { name: 'dag', dagId, tab: 'ti', runId: seg[3], taskId: seg[5] };
    }
    return { name: 'notfound' };
  }

  const enc = (s) => encodeURIComponent(String(s));
  const hrefs = {
    dags: () => '#/',
    dag: (d, tab) => `#/dags/${enc(d)}${tab ? `/${tab}` : ''}`,
    run: (d, r) => `#/dags/${enc(d)}/runs/${enc(r)}`,
    ti: (d, r, t) => `#/dags/${enc(d)}/runs/${enc(r)}/tasks/${enc(t)}`,
  };

  /**
   * Longest-path layering of a DAG given as [{task_id, upstream_task_ids}],
   * then a few barycenter sweeps (down by upstreams, up by downstreams) to
   * reduce crossings, keeping the best ordering seen. Cycles (should not
   * happen) put the leftover tasks into one extra layer.
   * Returns {layers: [[task_id...]], layerOf: Map, edges: [[from, to]], crossings}.
   */
  function layerTasks(tasks) {
    const n = tasks.length;
    const ids = tasks.map((t) => String(t.task_id));
    const index = new Map();
    ids.forEach((id, i) => { if (!index.has(id)) index.set(id, i); });
    const ups = tasks.map((t, i) => {
      const seen = new Set();
      for (const u of t.upstream_task_ids || []) {
        const j = index.get(String(u));
        if (j !== undefined && j !== i) seen.add(j);
      }
      return [...seen];
    });
    const downs = ids.map(() => []);
    const indeg = new Array(n).fill(0);
    ups.forEach((us, i) => { for (const j of us) { downs[j].push(i); indeg[i]++; } });

    const layer = new Array(n).fill(0);
    const queue = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
    for (let head = 0; head < queue.length; head++) {
      const i = queue[head];
      for (const j of downs[i]) {
        if (layer[i] + 1 > layer[j]) layer[j] = layer[i] + 1;
        if (--indeg[j] === 0) queue.push(j);
      }
    }
    if (queue.length < n) {
      const placed = new Set(queue);
      let top = -1;
      for (const i of queue) top = Math.max(top, layer[i]);
      for (let i = 0; i < n; i++) if (!placed.has(i)) layer[i] = top + 1;
    }
    let depth = 0;
    for (let i = 0; i < n; i++) depth = Math.max(depth, layer[i] + 1);
    let layers = Array.from({ length: depth }, () => []);
    for (let i = 0; i < n; i++) layers[layer[i]].push(i);

    const pos = new Array(n).fill(0);
    const setPos = (L) => { L.forEach((i, k) => { pos[i] = k; }); };
    layers.forEach(setPos);
    const edgeList = [];
    ups.forEach((us, i) => { for (const j of us) edgeList.push([j, i]); });
    const crossings = () => countCrossings(edgeList, layer, pos);
    const sweep = (L, nbrs) => {
      const bary = new Map();
      for (const i of L) {
        const ns = nbrs[i];
        bary.set(i, ns.length ? ns.reduce((a, j) => a + pos[j], 0) / ns.length : pos[i]);
      }
      L.sort((a, b) => bary.get(a) - bary.get(b) || pos[a] - pos[b]);
      setPos(L);
    };
    let best = layers.map((L) => L.slice());
    let bestX = crossings();
    for (let it = 0; it < 6 && bestX > 0; it++) {
      for (let d = 1; d < depth; d++) sweep(layers[d], ups);
      for (let d = depth - 2; d >= 0; d--) sweep(layers[d], downs);
      const x = crossings();
      if (x < bestX) { bestX = x; best = layers.map((L) => L.slice()); }
    }
    layers = best;
    const layerOf = new Map();
    ids.forEach((id, i) => { if (!layerOf.has(id)) layerOf.set(id, layer[i]); });
    return {
      layers: layers.map((L) => L.map((i) => ids[i])),
      layerOf,
      edges: edgeList.map(([a, b]) => [ids[a], ids[b]]),
      crossings: bestX,
    };
  }

  /** Crossings among edges between adjacent layers (the usual proxy). */
  function countCrossings(edges, layer, pos) {
    const byLayer = new Map();
    for (const [a, b] of edges) {
      if (layer[b] - layer[a] !== 1) continue;
      const k = layer[a];
      if (!byLayer.has(k)) byLayer.set(k, []);
      byLayer.get(k).push([pos[a], pos[b]]);
    }
    let total = 0;
    for (const es of byLayer.values()) {
      for (let i = 0; i < es.length; i++) {
        for (let j = i + 1; j < es.length; j++) {
          const [a1, b1] = es[i], [a2, b2] = es[j];
          if ((a1 - a2) * (b1 - b2) < 0) total++;
        }
      }
    }
    return total;
  }

  function truncate(s, max) { return s.length > max ? `${s.slice(0, Math.max(1, max - 1))}…` : s; }

  /** Pixel layout for the graph view: layers left to right, nodes centred per layer. */
  function graphLayout(tasks, opt) {
    const o = Object.assign({ nodeH: 30, gapX: 60, gapY: 14, charW: 7.3, padX: 24, minW: 90, maxW: 260, margin: 16 }, opt);
    const lay = layerTasks(tasks);
    const maxChars = Math.floor((o.maxW - o.padX) / o.charW) - 2;   // 2: glyph and space
    const colW = lay.layers.map((L) => {
      let w = o.minW;
      for (const id of L) w = Math.max(w, Math.min(o.maxW, Math.ceil((id.length + 2) * o.charW) + o.padX));
      return w;
    });
    let tallest = 0;
    for (const L of lay.layers) tallest = Math.max(tallest, L.length);
    const nodes = new Map();
    let x = o.margin;
    lay.layers.forEach((L, d) => {
      const offset = ((tallest - L.length) * (o.nodeH + o.gapY)) / 2;
      L.forEach((id, k) => {
        nodes.set(id, { id, layer: d, x, y: o.margin + offset + k * (o.nodeH + o.gapY), w: colW[d], h: o.nodeH, label: truncate(id, maxChars) });
      });
      x += colW[d] + o.gapX;
    });
    const edges = lay.edges.map(([a, b]) => {
      const s = nodes.get(a), t = nodes.get(b);
      const x1 = s.x + s.w, y1 = s.y + s.h / 2, x2 = t.x - 2, y2 = t.y + t.h / 2;
      const dx = Math.max(24, (x2 - x1) / 2);
      return { from: a, to: b, d: `M${x1} ${y1} C${x1 + dx} ${y1} ${x2 - dx} ${y2} ${x2} ${y2}` };
    });
    return {
      nodes: [...nodes.values()],
      edges,
      width: Math.max(x - o.gapX + o.margin, 2 * o.margin),
      height: Math.max(2 * o.margin + tallest * (o.nodeH + o.gapY) - o.gapY, 2 * o.margin),
      layers: lay.layers,
    };
  }

  /**
   * Gantt bars for a run: each TI from start_date to end_date (now while
   * running), scaled to the span [run start or first TI start, run end or
   * now]. left/width are percentages.
   */
  function ganttModel(tis, runStart, runEnd, nowMs) {
    let lo = parseTime(runStart);
    let hi = parseTime(runEnd);
    const raw = tis.map((ti) => {
      const s = parseTime(ti.start_date);
      let e = parseTime(ti.end_date);
      if (s !== null && e === null) e = LIVE_STATES.has(ti.state) ? Math.max(nowMs, s) : s;
      if (s !== null) {
        lo = lo === null ? s : Math.min(lo, s);
        hi = hi === null ? e : Math.max(hi, e);
      }
      return { ti, s, e };
    });
    if (lo !== null && hi === null) hi = Math.max(nowMs, lo);
    const span = lo === null ? 1 : Math.max(hi - lo, 1);
    const rows = raw.map(({ ti, s, e }) => {
      const row = { task_id: String(ti.task_id), state: ti.state === undefined ? null : ti.state, started: s !== null, left: 0, width: 0, duration: null };
      if (s !== null) {
        row.left = Math.min(100, Math.max(0, ((s - lo) / span) * 100));
        row.width = Math.min(100 - row.left, Math.max(0.4, ((e - s) / span) * 100));
        row.duration = ti.duration !== null && ti.duration !== undefined && ti.end_date ? Number(ti.duration) : (e - s) / 1000;
      }
      return row;
    });
    return { start: lo, end: lo === null ? null : hi, rows };
  }

  // Everything below needs a browser.
  const HELPERS = {
    GLYPHS, stateKey, stateGlyph, stateLabel, fmtDate, fmtShortDate, fmtDuration, spanSeconds,
    pageText, queryString, parseContentRange, parseConf, parseRoute, hrefs, layerTasks,
    countCrossings, graphLayout, ganttModel, own,
  };
  if (typeof document === 'undefined') {
    if (typeof module !== 'undefined' && module.exports) module.exports = HELPERS;
    return;
  }

  // ===========================================================================
  // 2. DOM helpers and widgets
  // ===========================================================================

  const $ = (sel, root) => (root || document).querySelector(sel);
  const SVGNS = 'http://www.w3.org/2000/svg';

  function appendKids(el, kids) {
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) appendKids(el, k);
      else if (k instanceof Node) el.append(k);
      else el.append(document.createTextNode(String(k)));
    }
  }
  function setProps(el, props) {
    if (!props) return;
    for (const [k, v] of Object.entries(props)) {     // keys are always literals in this file
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.setAttribute('class', v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  /** createElement with attributes (fixed names) and text/node children. */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    setProps(el, props);
    appendKids(el, kids);
    return el;
  }
  function s(tag, props, ...kids) {
    const el = document.createElementNS(SVGNS, tag);
    setProps(el, props);
    appendKids(el, kids);
    return el;
  }
  /** Sets textContent only when it changes (keeps selections and avoids work). */
  function setText(el, text) {
    const t = String(text);
    if (el.textContent !== t) el.textContent = t;
  }
  function setAttr(el, name, value) {
    const v = String(value);
    if (el.getAttribute(name) !== v) el.setAttribute(name, v);
  }

  /**
   * Runs fn (which rebuilds part of container) and gives focus back to the
   * element carrying the same data-fkey, if the focused one was replaced.
   */
  function preserveFocus(container, fn) {
    const a = document.activeElement;
    const key = a && a !== document.body && container.contains(a) ? a.getAttribute('data-fkey') : null;
    fn();
    if (key === null || document.contains(a)) return;
    for (const el of container.querySelectorAll('[data-fkey]')) {
      if (el.getAttribute('data-fkey') === key) { el.focus({ preventScroll: true }); break; }
    }
  }

  function stateBadge(state, props) {
    const el = h('span', Object.assign({ class: 'state-badge' }, props));
    setStateBadge(el, state);
    return el;
  }
  function setStateBadge(el, state) {
    const k = stateKey(state);
    const label = stateLabel(state);
    if (el.getAttribute('data-state') === k && el.getAttribute('data-label') === label) return;
    el.setAttribute('data-state', k);
    el.setAttribute('data-label', label);
    el.replaceChildren(h('span', { class: 'glyph', 'aria-hidden': 'true' }, GLYPHS[k]), h('span', { class: 'state-text' }, label));
  }
  function runDot(state) {
    const k = stateKey(state);
    return h('span', { class: 'run-dot', 'data-state': k, 'aria-hidden': 'true' }, GLYPHS[k]);
  }
  function legend(id) {
    return h('ul', { class: 'legend', id, 'aria-label': 'State legend' },
      LEGEND_STATES.map((st) => h('li', {}, stateBadge(st === 'none' ? null : st))));
  }
  const tagName = (t) => String(t && typeof t === 'object' ? t.name : t);

  /** Pager with #page-prev / #page-info / #page-next; only one is ever on screen. */
  function makePager(onPage) {
    const prev = h('button', { type: 'button', id: 'page-prev', class: 'button', 'aria-disabled': 'true' }, '‹ Previous');
    const next = h('button', { type: 'button', id: 'page-next', class: 'button', 'aria-disabled': 'true' }, 'Next ›');
    const info = h('span', { id: 'page-info', class: 'page-info' }, '');
    let st = { offset: 0, count: 0, total: 0 };
    prev.addEventListener('click', () => { if (st.offset > 0) onPage(Math.max(0, st.offset - PAGE_SIZE)); });
    next.addEventListener('click', () => { if (st.offset + st.count < st.total) onPage(st.offset + PAGE_SIZE); });
    return {
      el: h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, info, next),
      update(offset, count, total) {
        st = { offset, count, total };
        setText(info, pageText(offset, count, total));
        // aria-disabled (not disabled) so a focused button keeps focus on the last page
        setAttr(prev, 'aria-disabled', String(offset <= 0));
        setAttr(next, 'aria-disabled', String(offset + count >= total));
      },
    };
  }

  function definitionList(id, pairs) {
    const dl = h('dl', { class: 'meta', id });
    for (const [label, value] of pairs) dl.append(h('div', { class: 'meta-item' }, h('dt', {}, label), h('dd', {}, value)));
    return dl;
  }

  // ===========================================================================
  // 3. API client, session, messages
  // ===========================================================================

  const session = { user: '', role: '', csrf: '' };
  const canEdit = () => session.role === 'Admin' || session.role === 'Op';

  class ApiError extends Error {
    constructor(status, title, detail) {
      super(detail ? `${title}: ${detail}` : title);
      this.status = status;
      this.title = title;
      this.detail = detail || '';
    }
  }

  function goLogin() {
    try {
      if (location.hash.startsWith('#/') && location.hash !== '#/') sessionStorage.setItem('dwfs.next', location.hash);
    } catch (e) { /* storage may be disabled */ }
    location.assign('/login');
  }

  async function problemOf(res) {
    let title = `HTTP ${res.status}`;
    let detail = res.statusText || '';
    try {
      const text = await res.text();
      try {
        const p = JSON.parse(text);
        if (p && typeof p === 'object') {
          if (p.title) title = String(p.title);
          detail = p.detail !== undefined && p.detail !== null ? String(p.detail) : '';
        }
      } catch (e) {
        if (text && text.length < 300) detail = text.trim();
      }
    } catch (e) { /* body unreadable */ }
    return new ApiError(res.status, title, detail);
  }

  /**
   * fetch with the session cookie; POST/PATCH/DELETE carry the CSRF token
   * and a JSON body. 401 goes to the login page. raw: return the Response.
   */
  async function request(method, path, opts) {
    const o = opts || {};
    const url = o.query ? `${path}?${queryString(o.query)}` : path;
    const headers = Object.assign({ Accept: 'application/json' }, o.headers);
    const init = { method, credentials: 'same-origin', headers, signal: o.signal, cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') {
      headers['X-CSRF-Token'] = session.csrf;
      headers['Content-Type'] = 'application/json';
      if (o.body !== undefined) init.body = JSON.stringify(o.body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'Network error', 'the server did not answer');
    }
    if (res.status === 401) {
      goLogin();
      const e = new ApiError(401, 'Unauthorized');
      e.silent = true;
      throw e;
    }
    if (o.raw) return res;
    if (!res.ok) throw await problemOf(res);
    if (res.status === 204) return null;
    const ct = res.headers.get('Content-Type') || '';
    return ct.includes('json') ? res.json() : res.text();
  }
  const api = {
    get: (p, o) => request('GET', p, o),
    post: (p, body, o) => request('POST', p, Object.assign({}, o, { body })),
    patch: (p, body, o) => request('PATCH', p, Object.assign({}, o, { body })),
  };
  const dagPath = (d) => `/api/v1/dags/${enc(d)}`;
  const runPath = (d, r) => `${dagPath(d)}/dagRuns/${enc(r)}`;
  const tiPath = (d, r, t) => `${runPath(d, r)}/taskInstances/${enc(t)}`;

  // Error bar (#error-bar, aria-live) and status line (#status).
  const messages = {
    dismissed: null,    // a poll error the user dismissed: not shown again until polls recover
    statusTimer: 0,
    error(msg, fromPoll) {
      const bar = $('#error-bar');
      if (!bar || (fromPoll && msg === this.dismissed)) return;
      const cur = $('#error-text', bar);
      bar.setAttribute('data-source', fromPoll ? 'poll' : 'action');
      if (cur && cur.textContent === msg) return;
      bar.replaceChildren(
        h('span', { class: 'error-icon', 'aria-hidden': 'true' }, '⚠'),
        h('span', { id: 'error-text' }, msg),
        h('button', { type: 'button', id: 'error-dismiss', class: 'icon-button', 'aria-label': 'Dismiss error', title: 'Dismiss' }, '✕'));
    },
    dismiss() {
      const bar = $('#error-bar');
      const cur = $('#error-text', bar);
      if (cur && bar.getAttribute('data-source') === 'poll') this.dismissed = cur.textContent;
      bar.replaceChildren();
    },
    pollOk() {
      this.dismissed = null;
      const bar = $('#error-bar');
      if (bar && bar.getAttribute('data-source') === 'poll' && bar.firstChild) bar.replaceChildren();
    },
    status(msg) {
      const el = $('#status');
      if (!el) return;
      el.textContent = msg;
      clearTimeout(this.statusTimer);
      this.statusTimer = setTimeout(() => { el.textContent = ''; }, 6000);
    },
  };
  function report(e, fromPoll) {
    if (!e || e.name === 'AbortError' || e.silent) return;
    messages.error(e.message || String(e), !!fromPoll);
  }

  // ===========================================================================
  // 4. Router and polling
  // ===========================================================================

  /** Per-view lifetime: abort its fetches and stop its timers on navigation. */
  function newCtx() {
    const ac = new AbortController();
    return {
      signal: ac.signal,
      alive: true,
      destroy() { this.alive = false; ac.abort(); },
    };
  }

  /** refresh() = load() then apply(); responses older than the last applied one are dropped. */
  function loader(ctx, load, apply) {
    let seq = 0;
    let applied = 0;
    return async function refresh() {
      const my = ++seq;
      try {
        const data = await load(ctx.signal);
        if (!ctx.alive || my < applied) return;
        applied = my;
        apply(data);
        messages.pollOk();
      } catch (e) {
        if (ctx.alive) report(e, true);
      }
    };
  }

  // One poller for the visible view; ticks only while the page is visible.
  const poller = {
    timer: 0,
    fn: null,
    busy: false,
    start(fn, ms) {
      this.stop();
      this.fn = fn;
      this.timer = setInterval(() => this.tick(), ms);
    },
    stop() { clearInterval(this.timer); this.timer = 0; this.fn = null; },
    async tick() {
      if (!this.fn || this.busy || document.visibilityState !== 'visible') return;
      this.busy = true;
      try { await this.fn(); } finally { this.busy = false; }
    },
  };

  let current = null;   // the mounted view: {el, start(), destroy(), update?(route)}

  function route() {
    const r = parseRoute(location.hash);
    if (!r) return;                                   // e.g. "#main": not a route
    if (current && current.update && current.update(r)) return;
    if (current) current.destroy();
    poller.stop();
    const view = r.name === 'dags' ? dagListView() : r.name === 'dag' ? dagShell(r) : notFoundView();
    current = view;
    $('#view').replaceChildren(view.el);
    window.scrollTo(0, 0);
    view.start();
    focusHeading(view.el);
  }

  /** After a page change, move focus to the new heading if the old focus is gone. */
  function focusHeading(root) {
    const a = document.activeElement;
    if (a && a !== document.body && document.contains(a)) return;
    const hd = root.querySelector('h1[tabindex], h2[tabindex]');
    if (hd) hd.focus({ preventScroll: true });
  }

  function refreshNow() {
    if (current && current.refresh) current.refresh();
  }

  // ===========================================================================
  // 5. Views
  // ===========================================================================

  // ---- 5.1 DAG list (#/) ------------------------------------------------------

  const listState = { q: '', tags: [], paused: null, offset: 0 };

  function dagListView() {
    const ctx = newCtx();
    document.title = 'DAGs · dwfs';
    const heading = h('h1', { tabindex: '-1' }, 'DAGs');
    const importBox = h('section', { id: 'import-errors', class: 'import-errors', 'aria-labelledby': 'import-errors-title', hidden: true });
    const search = h('input', { id: 'dag-search', type: 'search', class: 'input', placeholder: 'Search DAG ids…', autocomplete: 'off', spellcheck: 'false' });
    search.value = listState.q;
    const filters = [['all', null, 'All'], ['active', false, 'Active'], ['paused', true, 'Paused']].map(([key, val, text]) => {
      const b = h('button', { type: 'button', id: `filter-${key}`, class: 'seg-button' }, text);
      b.addEventListener('click', () => { listState.paused = val; listState.offset = 0; syncFilters(); refresh(); });
      return [b, val];
    });
    const tagBox = h('div', { id: 'tag-filters', class: 'tag-filters' });
    const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: '7', class: 'empty' }, 'Loading…')));
    const table = h('table', { id: 'dag-list', class: 'data' },
      h('caption', { class: 'sr-only' }, 'DAGs'),
      h('thead', {}, h('tr', {}, ['DAG', 'Tags', 'Schedule', 'Paused', 'Last run', 'Next run', 'Recent runs'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody);
    const pager = makePager((off) => { listState.offset = off; refresh(); });
    const el = h('div', { class: 'view dag-list-view' },
      heading,
      importBox,
      h('div', { class: 'toolbar' },
        h('label', { for: 'dag-search', class: 'sr-only' }, 'Search DAGs by id'),
        search,
        h('div', { class: 'seg', role: 'group', 'aria-label': 'Show' }, filters.map(([b]) => b)),
        tagBox),
      h('div', { class: 'table-wrap' }, table),
      pager.el);

    function syncFilters() {
      for (const [b, val] of filters) setAttr(b, 'aria-pressed', String(listState.paused === val));
      preserveFocus(tagBox, () => {
        tagBox.replaceChildren(...listState.tags.map((t) => h('button', {
          type: 'button', class: 'tag-chip tag-filter', 'data-tag': t, 'data-fkey': `tf:${t}`, 'aria-label': `Remove tag filter ${t}`,
        }, `tag: ${t} `, h('span', { 'aria-hidden': 'true' }, '✕'))));
      });
    }
    tagBox.addEventListener('click', (e) => {
      const b = e.target.closest('button.tag-filter');
      if (!b) return;
      listState.tags = listState.tags.filter((t) => t !== b.getAttribute('data-tag'));
      listState.offset = 0;
      syncFilters();
      search.focus();
      refresh();
    });
    let debounce = 0;
    search.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => { listState.q = search.value.trim(); listState.offset = 0; refresh(); }, 300);
    });

    // One delegated listener for the pause toggles and tag chips of all rows.
    tbody.addEventListener('click', (e) => {
      const pt = e.target.closest('button.pause-toggle');
      if (pt) { togglePause(pt.closest('tr').getAttribute('data-dag-id'), pt, refresh); return; }
      const tag = e.target.closest('button.tag-chip');
      if (tag) {
        const t = tag.getAttribute('data-tag');
        if (!listState.tags.includes(t)) listState.tags.push(t);
        listState.offset = 0;
        syncFilters();
        refresh();
      }
    });

    async function load(signal) {
      const query = {
        limit: PAGE_SIZE, offset: listState.offset, dag_id_pattern: listState.q, tags: listState.tags,
        paused: listState.paused === null ? undefined : listState.paused,
      };
      const [list, errs] = await Promise.all([
        api.get('/api/v1/dags', { query, signal }),
        api.get('/api/v1/importErrors', { query: { limit: 100 }, signal }).catch((e) => {
          if (e.name === 'AbortError' || e.silent) throw e;
          return null;                                   // the list still shows
        }),
      ]);
      const dags = Array.isArray(list.dags) ? list.dags : [];
      const recent = dags.length
        ? await api.get('/ui/api/recent_runs', { query: { dag_id: dags.map((d) => d.dag_id), limit: 5 }, signal })
        : {};
      return {
        dags, recent, offset: query.offset,
        total: Number.isFinite(list.total_entries) ? list.total_entries : dags.length,
        errors: errs && Array.isArray(errs.import_errors) ? errs.import_errors : [],
        filtered: !!(query.dag_id_pattern || query.tags.length || query.paused !== undefined),
      };
    }

    let errKey = '';
    let rowsKey = '';
    function renderImportErrors(errs) {
      const key = JSON.stringify(errs.map((x) => [x.filename, x.line, x.stack_trace]));
      if (key === errKey) return;
      errKey = key;
      importBox.hidden = errs.length === 0;
      importBox.replaceChildren();
      if (!errs.length) return;
      importBox.append(
        h('h2', { id: 'import-errors-title' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), `Import errors (${errs.length})`),
        h('ul', { class: 'import-error-list' }, errs.map((x) => h('li', { class: 'import-error' },
          h('div', { class: 'import-error-where' },
            h('span', { class: 'import-file' }, String(x.filename === undefined || x.filename === null ? '' : x.filename)),
            x.line ? h('span', { class: 'import-line' }, `line ${x.line}`) : null),
          h('pre', { class: 'import-message' }, String(x.stack_trace === undefined || x.stack_trace === null ? '' : x.stack_trace))))));
    }

    function apply(d) {
      renderImportErrors(d.errors);
      if (!d.dags.length && d.offset > 0 && d.total > 0) {     // the page emptied: go to the last one
        listState.offset = Math.floor((d.total - 1) / PAGE_SIZE) * PAGE_SIZE;
        refresh();
        return;
      }
      pager.update(d.offset, d.dags.length, d.total);
      // Unchanged data: leave the rows alone (keeps selections and hover).
      const key = JSON.stringify([d.dags, d.recent, listState.tags, d.filtered]);
      if (key === rowsKey) return;
      rowsKey = key;
      const frag = document.createDocumentFragment();
      for (const dag of d.dags) {
        const runs = own(d.recent, String(dag.dag_id));
        frag.append(dagRow(dag, Array.isArray(runs) ? runs : []));
      }
      if (!d.dags.length) frag.append(h('tr', {}, h('td', { colspan: '7', class: 'empty' }, d.filtered ? 'No DAGs match the filters.' : 'No DAGs yet.')));
      preserveFocus(table, () => tbody.replaceChildren(frag));
    }

    const refresh = loader(ctx, load, apply);
    syncFilters();
    return {
      el,
      refresh,
      start() { refresh(); poller.start(refresh, POLL_MS); },
      destroy() { clearTimeout(debounce); ctx.destroy(); },
    };
  }

  function scheduleText(dag) {
    const si = dag.schedule_interval;
    if (si && typeof si === 'object' && si.value !== undefined && si.value !== null) return String(si.value);
    if (typeof si === 'string' && si) return si;
    return 'None';
  }

  function pauseButton(paused, props) {
    const b = h('button', Object.assign({ type: 'button', class: 'pause-toggle' }, props));
    setPauseButton(b, paused);
    if (!canEdit()) b.disabled = true;
    return b;
  }
  function setPauseButton(b, paused) {
    setAttr(b, 'aria-pressed', String(!!paused));
    setText(b, paused ? 'Paused' : 'Active');
    setAttr(b, 'title', canEdit() ? (paused ? 'Paused: click to unpause' : 'Active: click to pause') : (paused ? 'Paused' : 'Active'));
  }
  /** PATCH is_paused, optimistic; then refresh whichever view asked. */
  async function togglePause(dagId, button, after) {
    if (!canEdit() || button.getAttribute('aria-busy') === 'true') return;
    const next = button.getAttribute('aria-pressed') !== 'true';
    setPauseButton(button, next);
    button.setAttribute('aria-busy', 'true');
    try {
      await api.patch(dagPath(dagId), { is_paused: next }, { query: { update_mask: 'is_paused' } });
      messages.status(`DAG ${dagId} ${next ? 'paused' : 'unpaused'}.`);
    } catch (e) {
      setPauseButton(button, !next);
      report(e);
    } finally {
      button.removeAttribute('aria-busy');
      if (after) after();
    }
  }

  function dagRow(dag, runs) {
    const id = String(dag.dag_id);
    const tr = h('tr', { 'data-dag-id': id });
    const name = h('th', { scope: 'row', class: 'dag-name' }, h('a', { class: 'dag-link', href: hrefs.dag(id), 'data-fkey': `dag:${id}` }, id));
    if (dag.description) name.append(h('span', { class: 'dag-desc' }, String(dag.description)));
    const tags = (Array.isArray(dag.tags) ? dag.tags : []).map((t) => {
      const n = tagName(t);
      return h('button', {
        type: 'button', class: 'tag-chip', 'data-tag': n, 'data-fkey': `tag:${id}:${n}`,
        'aria-pressed': String(listState.tags.includes(n)), title: `Show DAGs tagged ${n}`,
      }, n);
    });
    const last = runs[0];
    const lastCell = last
      ? h('a', { class: 'last-run', href: hrefs.run(id, last.dag_run_id), 'data-fkey': `last:${id}`, title: `${last.dag_run_id} · ${fmtDate(last.logical_date)}` },
        stateBadge(last.state))
      : h('span', { class: 'muted' }, '—');
    const dots = runs.slice().reverse().map((r) => {
      const label = `run ${r.dag_run_id}: ${stateLabel(r.state)}`;
      return h('a', {
        class: 'run-dot-link', href: hrefs.run(id, r.dag_run_id), 'data-fkey': `dot:${id}:${r.dag_run_id}`,
        'aria-label': label, title: `${label} · ${fmtDate(r.logical_date)}`,
      }, runDot(r.state));
    });
    tr.append(
      name,
      h('td', { class: 'tags-cell' }, h('div', { class: 'tags' }, tags)),
      h('td', {}, h('code', { class: 'schedule' }, scheduleText(dag))),
      h('td', {}, pauseButton(dag.is_paused, { 'data-fkey': `pause:${id}` })),
      h('td', {}, lastCell),
      h('td', { class: 'nowrap' }, fmtDate(dag.next_dagrun)),
      h('td', { class: 'recent-runs' }, dots.length ? dots : h('span', { class: 'muted' }, '—')));
    return tr;
  }

  // ---- 5.2 DAG page shell (#/dags/{id}[/...]): header, tabs, sub view -----------

  const TABS = [['grid', 'Grid'], ['graph', 'Graph'], ['code', 'Code'], ['runs', 'Runs']];

  function dagShell(first) {
    const ctx = newCtx();
    const dagId = first.dagId;
    const crumbs = h('nav', { id: 'breadcrumbs', class: 'breadcrumbs', 'aria-label': 'Breadcrumb' });
    const title = h('h1', { id: 'dag-title', tabindex: '-1' }, dagId);
    const desc = h('p', { id: 'dag-description', class: 'dag-description', hidden: true });
    const tags = h('div', { id: 'dag-tags', class: 'tags' });
    const meta = h('div', { class: 'dag-meta-box' });
    const pause = pauseButton(false, { id: 'pause-toggle', hidden: true });
    pause.addEventListener('click', () => togglePause(dagId, pause, refreshShell));
    const actions = h('div', { class: 'dag-actions' }, pause);
    if (canEdit()) {
      const trig = h('button', { type: 'button', id: 'trigger-button', class: 'button primary' }, h('span', { 'aria-hidden': 'true' }, '▶ '), 'Trigger');
      trig.addEventListener('click', () => openTrigger(dagId, trig));
      actions.append(trig);
    }
    const tabLinks = new Map();
    const tabs = h('nav', { class: 'tabs', 'aria-label': 'DAG views' }, TABS.map(([key, label]) => {
      const a = h('a', { id: `tab-${key}`, class: 'tab', href: hrefs.dag(dagId, key === 'grid' ? '' : key) }, label);
      tabLinks.set(key, a);
      return a;
    }));
    const content = h('section', { id: 'dag-content', class: 'dag-content' });
    const el = h('div', { class: 'view dag-view' },
      crumbs,
      h('div', { class: 'dag-header' }, h('div', { class: 'dag-heading' }, title, desc, tags), actions),
      meta, tabs, content);

    tags.addEventListener('click', (e) => {
      const b = e.target.closest('button.tag-chip');
      if (!b) return;
      Object.assign(listState, { tags: [b.getAttribute('data-tag')], offset: 0, q: '', paused: null });
      location.hash = '#/';
    });

    let shellKey = '';
    function apply(dag) {
      if (pause.hidden) pause.hidden = false;
      if (pause.getAttribute('aria-busy') !== 'true') setPauseButton(pause, dag.is_paused);
      const key = JSON.stringify([dag.description, dag.tags, dag.schedule_interval, dag.next_dagrun, dag.timezone, dag.owners, dag.max_active_runs, dag.catchup, dag.fileloc]);
      if (key === shellKey) return;
      shellKey = key;
      desc.hidden = !dag.description;
      setText(desc, dag.description ? String(dag.description) : '');
      preserveFocus(tags, () => tags.replaceChildren(...(Array.isArray(dag.tags) ? dag.tags : []).map((t) => {
        const n = tagName(t);
        return h('button', { type: 'button', class: 'tag-chip', 'data-tag': n, 'data-fkey': `tag:${n}`, title: `Show DAGs tagged ${n}` }, n);
      })));
      meta.replaceChildren(definitionList('dag-meta', [
        ['Schedule', h('code', { class: 'schedule' }, scheduleText(dag))],
        ['Next run', fmtDate(dag.next_dagrun)],
        ['Timezone', String(dag.timezone || 'UTC')],
        ['Owners', Array.isArray(dag.owners) && dag.owners.length ? dag.owners.join(', ') : '—'],
        ['Max active runs', dag.max_active_runs === undefined ? '—' : String(dag.max_active_runs)],
        ['Catchup', dag.catchup === undefined ? '—' : dag.catchup ? 'yes' : 'no'],
      ]));
    }
    const refreshShell = loader(ctx, (signal) => api.get(dagPath(dagId), { signal }), apply);

    let sub = null;
    let subKey = '';
    function setSub(r) {
      const key = JSON.stringify([r.tab, r.runId, r.taskId]);
      if (key === subKey) return;
      subKey = key;
      const hadFocusInside = content.contains(document.activeElement);
      if (sub) sub.destroy();
      sub = makeSub(dagId, r);
      content.replaceChildren(sub.el);
      const activeTab = r.tab === 'run' || r.tab === 'ti' ? 'runs' : r.tab;
      for (const [k, a] of tabLinks) {
        if (k === activeTab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
      }
      crumbs.replaceChildren(h('ol', {}, [['DAGs', hrefs.dags()], [dagId, hrefs.dag(dagId)], ...sub.crumbs].map(([text, href], i, all) =>
        h('li', {}, i === all.length - 1 ? h('span', { 'aria-current': 'page' }, text) : h('a', { href }, text)))));
      document.title = `${sub.title ? `${sub.title} · ` : ''}${dagId} · dwfs`;
      if (hadFocusInside) focusHeading(sub.el);
      if (content.getBoundingClientRect().top < 0) content.scrollIntoView();
      refreshAll();
      poller.start(refreshAll, sub.pollMs || POLL_MS);
    }
    function refreshAll() { return Promise.all([refreshShell(), sub ? sub.refresh() : null]); }

    return {
      el,
      refresh: refreshAll,
      start() { setSub(first); },
      update(r) {
        if (r.name !== 'dag' || r.dagId !== dagId) return false;
        setSub(r);
        return true;
      },
      destroy() { if (sub) sub.destroy(); ctx.destroy(); },
    };
  }

  function makeSub(dagId, r) {
    switch (r.tab) {
      case 'graph': return graphSub(dagId);
      case 'code': return codeSub(dagId);
      case 'runs': return runsSub(dagId);
      case 'run': return runSub(dagId, r.runId);
      case 'ti': return tiSub(dagId, r.runId, r.taskId);
      default: return gridSub(dagId);
    }
  }

  // ---- Trigger dialog (static <dialog id="trigger-dialog"> in index.html) -------

  let triggerFor = null;   // {dagId, opener}
  function openTrigger(dagId, opener) {
    const dlg = $('#trigger-dialog');
    triggerFor = { dagId, opener };
    $('#trigger-dag-id').textContent = dagId;
    $('#trigger-conf').value = '{}';
    $('#trigger-run-id').value = '';
    showTriggerError('');
    $('#trigger-submit').disabled = false;
    if (typeof dlg.showModal === 'function') dlg.showModal(); else dlg.setAttribute('open', '');
    $('#trigger-conf').focus();
  }
  function showTriggerError(msg) {
    const el = $('#trigger-error');
    el.textContent = msg;
    el.hidden = !msg;
  }
  function closeTrigger() {
    const dlg = $('#trigger-dialog');
    if (dlg.open) { if (typeof dlg.close === 'function') dlg.close(); else dlg.removeAttribute('open'); }
  }
  function wireTriggerDialog() {
    const dlg = $('#trigger-dialog');
    if (!dlg) return;
    dlg.addEventListener('close', () => {
      if (triggerFor && triggerFor.opener && document.contains(triggerFor.opener)) triggerFor.opener.focus();
    });
    $('#trigger-cancel').addEventListener('click', closeTrigger);
    $('#trigger-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!triggerFor) return;
      const parsed = parseConf($('#trigger-conf').value);
      if (parsed.error) { showTriggerError(parsed.error); $('#trigger-conf').focus(); return; }
      const runId = $('#trigger-run-id').value.trim();
      if (runId && !RUN_ID_RE.test(runId)) {
        showTriggerError('Run id: 1-250 characters of A-Z a-z 0-9 _ . ~ : + -');
        $('#trigger-run-id').focus();
        return;
      }
      const body = { conf: parsed.conf };
      if (runId) body.dag_run_id = runId;
      const btn = $('#trigger-submit');
      btn.disabled = true;
      showTriggerError('');
      try {
        const run = await api.post(`${dagPath(triggerFor.dagId)}/dagRuns`, body);
        closeTrigger();
        messages.status(`Triggered run ${run && run.dag_run_id ? run.dag_run_id : ''} of ${triggerFor.dagId}.`);
        refreshNow();
      } catch (err) {
        if (!err.silent && err.name !== 'AbortError') showTriggerError(err.message);
      } finally {
        btn.disabled = false;
      }
    });
  }

  // ---- 5.3 Grid --------------------------------------------------------------

  const gridPrefs = { limit: 25 };

  function gridSub(dagId) {
    const ctx = newCtx();
    const select = h('select', { id: 'grid-limit', class: 'input' }, GRID_LIMITS.map((n) => h('option', { value: String(n) }, String(n))));
    select.value = String(gridPrefs.limit);
    const table = h('table', { id: 'grid', class: 'grid' });
    const note = h('p', { id: 'grid-note', class: 'muted' }, 'Loading…');
    const wrap = h('div', { class: 'table-wrap grid-wrap' }, table);
    const el = h('div', { class: 'sub-view' },
      h('h2', { class: 'sr-only', tabindex: '-1' }, 'Grid'),
      h('div', { class: 'toolbar' },
        h('label', { for: 'grid-limit' }, 'Runs:'), select,
        legend('legend')),
      note,
      h('p', { class: 'sr-only' }, 'In the grid, arrow keys move between cells; Enter opens the task instance.'),
      wrap);

    let tasks = [], runs = [];
    let tasksKey = null, runsKey = null;
    let matrix = [];       // matrix[row][col] = button
    let runHeads = [];
    let active = { r: -1, c: -1 };   // the one cell in the tab order (roving tabindex)

    select.addEventListener('change', () => { gridPrefs.limit = Number(select.value); refresh(); });

    table.addEventListener('click', (e) => {
      const b = e.target.closest('button.ti-cell');
      if (b) location.hash = hrefs.ti(dagId, b.getAttribute('data-run-id'), b.getAttribute('data-task-id'));
    });
    // Row/column of a cell from the DOM (no per-cell bookkeeping attributes).
    const cellPos = (b) => ({ r: b.parentNode.parentNode.sectionRowIndex, c: b.parentNode.cellIndex - 1 });
    table.addEventListener('focusin', (e) => {
      const b = e.target.closest('button.ti-cell');
      if (b) { const p = cellPos(b); moveActive(p.r, p.c, false); }
    });
    // Tooltips are set on first hover rather than on every cell up front.
    table.addEventListener('mouseover', (e) => {
      const b = e.target.closest('button.ti-cell');
      if (b && b.title !== b.getAttribute('aria-label')) b.title = b.getAttribute('aria-label');
    });
    table.addEventListener('keydown', (e) => {
      const b = e.target.closest('button.ti-cell');
      if (!b) return;
      let { r, c } = active;
      switch (e.key) {
        case 'ArrowUp': r--; break;
        case 'ArrowDown': r++; break;
        case 'ArrowLeft': c--; break;
        case 'ArrowRight': c++; break;
        case 'Home': c = 0; break;
        case 'End': c = runs.length - 1; break;
        default: return;
      }
      e.preventDefault();
      moveActive(Math.max(0, Math.min(tasks.length - 1, r)), Math.max(0, Math.min(runs.length - 1, c)), true);
    });
    function moveActive(r, c, focus) {
      const old = matrix[active.r] && matrix[active.r][active.c];
      const nb = matrix[r] && matrix[r][c];
      if (!nb) return;
      if (old && old !== nb) old.tabIndex = -1;
      nb.tabIndex = 0;
      active = { r, c };
      if (focus) nb.focus();
    }

    function fillHead(a, run) {
      const label = `run ${run.dag_run_id}: ${stateLabel(run.state)}, ${fmtDate(run.logical_date)}`;
      if (a.getAttribute('aria-label') === label) return;
      a.setAttribute('aria-label', label);
      a.setAttribute('title', label);
      a.replaceChildren(runDot(run.state), h('span', { class: 'run-date' }, fmtShortDate(run.logical_date)));
    }
    function fillCell(b, taskId, run) {
      const ti = own(run.task_instances, taskId);
      const st = ti ? ti.state : null;
      const k = stateKey(st);
      const label = `task ${taskId}, run ${run.dag_run_id}: ${stateLabel(st)}`;
      if (b.getAttribute('aria-label') !== label) { b.setAttribute('aria-label', label); if (b.title) b.title = label; }
      if (b.getAttribute('data-state') !== k) { b.setAttribute('data-state', k); b.textContent = GLYPHS[k]; }
    }

    function build() {
      const focused = document.activeElement;
      const refocus = focused && table.contains(focused)
        ? { task: focused.getAttribute('data-task-id'), run: focused.getAttribute('data-run-id'), fkey: focused.getAttribute('data-fkey') } : null;
      const old = matrix[active.r] && matrix[active.r][active.c];
      const keep = old ? { task: old.getAttribute('data-task-id'), run: old.getAttribute('data-run-id') } : null;
      const headRow = h('tr', {}, h('th', { scope: 'col', class: 'task-col' }, 'Task'));
      runHeads = runs.map((run) => {
        const a = h('a', { class: 'run-head', href: hrefs.run(dagId, run.dag_run_id), 'data-fkey': `run:${run.dag_run_id}` });
        fillHead(a, run);
        headRow.append(h('th', { scope: 'col', class: 'run-col' }, a));
        return a;
      });
      const frag = document.createDocumentFragment();
      matrix = [];
      tasks.forEach((t) => {
        const tid = String(t.task_id);
        const tr = document.createElement('tr');
        tr.append(h('th', { scope: 'row', class: 'task-name', title: t.operator_name ? `${tid} (${t.operator_name})` : tid }, tid));
        const row = [];
        runs.forEach((run) => {
          const b = document.createElement('button');
          b.type = 'button';
          b.className = 'ti-cell';
          b.tabIndex = -1;
          b.setAttribute('data-task-id', tid);
          b.setAttribute('data-run-id', String(run.dag_run_id));
          fillCell(b, tid, run);
          const td = document.createElement('td');
          td.append(b);
          tr.append(td);
          row.push(b);
        });
        matrix.push(row);
        frag.append(tr);
      });
      const tbody = document.createElement('tbody');
      tbody.append(frag);
      table.replaceChildren(h('caption', { class: 'sr-only' }, `Task instances of ${dagId}: tasks as rows, runs as columns (oldest first)`), h('thead', {}, headRow), tbody);
      // Roving tabindex: keep the previously active cell (by ids) when it still
      // exists, else start at the first task of the newest run.
      let r = 0, c = Math.max(0, runs.length - 1);
      const want = refocus && refocus.task !== null ? refocus : keep;
      if (want) {
        const ri = tasks.findIndex((t) => String(t.task_id) === want.task);
        const ci = runs.findIndex((x) => String(x.dag_run_id) === want.run);
        if (ri >= 0 && ci >= 0) { r = ri; c = ci; }
      }
      active = { r: -1, c: -1 };
      moveActive(r, c, !!(refocus && refocus.task !== null));
      if (refocus && refocus.fkey !== null && !table.contains(document.activeElement)) {
        const a = runHeads.find((x) => x.getAttribute('data-fkey') === refocus.fkey);
        if (a) a.focus({ preventScroll: true });
      }
    }

    function apply(d) {
      tasks = Array.isArray(d.tasks) ? d.tasks : [];
      runs = Array.isArray(d.runs) ? d.runs : [];
      const tk = JSON.stringify(tasks.map((t) => t.task_id));
      const rk = JSON.stringify(runs.map((r) => r.dag_run_id));
      const atRight = wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 4;
      if (tk === tasksKey && rk === runsKey) {
        // Same shape: update in place (keeps focus, scroll and hover).
        runs.forEach((run, ci) => fillHead(runHeads[ci], run));
        tasks.forEach((t, ri) => runs.forEach((run, ci) => fillCell(matrix[ri][ci], String(t.task_id), run)));
      } else {
        const firstBuild = tasksKey === null;
        tasksKey = tk;
        runsKey = rk;
        build();
        if (firstBuild || atRight) wrap.scrollLeft = wrap.scrollWidth;   // newest runs are on the right
      }
      setText(note, !tasks.length ? 'This DAG has no tasks.' : !runs.length ? 'No runs yet.' : `${tasks.length} tasks × ${runs.length} runs (oldest left).`);
    }

    const refresh = loader(ctx, (signal) => api.get(`/ui/api/grid/${enc(dagId)}`, { query: { limit: gridPrefs.limit }, signal }), apply);
    return { el, refresh, destroy: () => ctx.destroy(), crumbs: [['Grid', '']], title: 'Grid' };
  }

  // ---- 5.4 Graph -------------------------------------------------------------

  function graphSub(dagId) {
    const ctx = newCtx();
    const graph = s('svg', { id: 'graph', class: 'graph', role: 'group', 'aria-label': `Task graph of ${dagId}`, width: '0', height: '0' });
    const note = h('p', { id: 'graph-note', class: 'muted' }, 'Loading…');
    const wrap = h('div', { class: 'graph-wrap' }, graph);
    const el = h('div', { class: 'sub-view' },
      h('h2', { class: 'sr-only', tabindex: '-1' }, 'Graph'),
      h('div', { class: 'toolbar' }, legend('legend')),
      note,
      wrap);
    let shapeKey = null;
    let nodes = new Map();   // task_id -> {g, a, text, title, label}

    function build(tasks) {
      const lay = graphLayout(tasks);
      graph.setAttribute('width', String(lay.width));
      graph.setAttribute('height', String(lay.height));
      graph.setAttribute('viewBox', `0 0 ${lay.width} ${lay.height}`);
      const defs = s('defs', {}, s('marker', { id: 'graph-arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto' },
        s('path', { d: 'M0 0 L10 5 L0 10 z', class: 'arrow-head' })));
      const edgeG = s('g', { class: 'edges' });
      for (const e of lay.edges) edgeG.append(s('path', { class: 'edge', d: e.d, 'marker-end': 'url(#graph-arrow)' }));
      const nodeG = s('g', { class: 'nodes' });
      nodes = new Map();
      for (const n of lay.nodes) {
        const title = s('title');
        const text = s('text', { x: '10', y: String(n.h / 2), class: 'node-label' });
        const a = s('a', { class: 'node-link' }, title, s('rect', { width: String(n.w), height: String(n.h), rx: '6', ry: '6' }), text);
        const g = s('g', { class: 'node', transform: `translate(${n.x} ${n.y})`, 'data-task-id': n.id, 'data-state': 'none' }, a);
        nodes.set(n.id, { g, a, text, title, label: n.label, state: undefined, href: undefined });
        nodeG.append(g);
      }
      graph.replaceChildren(defs, edgeG, nodeG);
      // Layers are centred vertically: start with the first task in view.
      const root = lay.nodes[0];
      if (root) wrap.scrollTop = Math.max(0, root.y - 24);
    }

    function apply(d) {
      const tasks = Array.isArray(d.tasks) ? d.tasks : [];
      const runs = Array.isArray(d.runs) ? d.runs : [];
      const key = JSON.stringify(tasks.map((t) => [t.task_id, t.upstream_task_ids]));
      if (key !== shapeKey) { shapeKey = key; build(tasks); }
      const latest = runs.length ? runs[runs.length - 1] : null;
      for (const [id, n] of nodes) {
        const ti = latest ? own(latest.task_instances, id) : undefined;
        const st = ti ? ti.state : null;
        const k = stateKey(st);
        if (n.state !== k) {
          n.state = k;
          n.g.setAttribute('data-state', k);
          n.text.textContent = (GLYPHS[k] ? `${GLYPHS[k]} ` : '') + n.label;
          const label = `task ${id}: ${stateLabel(st)}${latest ? ' in the latest run' : ''}`;
          n.title.textContent = label;
          n.a.setAttribute('aria-label', label);
        }
        const href = latest ? hrefs.ti(dagId, latest.dag_run_id, id) : null;
        if (n.href !== href) {
          n.href = href;
          if (href) n.a.setAttribute('href', href); else n.a.removeAttribute('href');
        }
      }
      setText(note, !tasks.length ? 'This DAG has no tasks.'
        : latest ? `${tasks.length} tasks. Colours show the latest run, ${latest.dag_run_id} (${stateLabel(latest.state)}).` : `${tasks.length} tasks. No runs yet.`);
    }
    const refresh = loader(ctx, (signal) => api.get(`/ui/api/grid/${enc(dagId)}`, { query: { limit: 1 }, signal }), apply);
    return { el, refresh, destroy: () => ctx.destroy(), crumbs: [['Graph', '']], title: 'Graph' };
  }

  // ---- 5.5 Code --------------------------------------------------------------

  function codeSub(dagId) {
    const ctx = newCtx();
    const file = h('code', { id: 'dag-fileloc' }, '…');
    const pre = h('pre', { id: 'dag-source', class: 'source', tabindex: '0', 'aria-label': 'DAG source' }, 'Loading…');
    const el = h('div', { class: 'sub-view' },
      h('h2', { class: 'sr-only', tabindex: '-1' }, 'Code'),
      h('p', { class: 'file-line' }, 'File: ', file),
      pre);
    const refresh = loader(ctx, (signal) => api.get(`/ui/api/source/${enc(dagId)}`, { signal }), (d) => {
      setText(file, d.fileloc === undefined || d.fileloc === null ? '—' : String(d.fileloc));
      setText(pre, d.content === undefined || d.content === null ? '' : String(d.content));
    });
    return { el, refresh, destroy: () => ctx.destroy(), crumbs: [['Code', '']], title: 'Code', pollMs: 10000 };
  }

  // ---- 5.6 Runs list ---------------------------------------------------------

  function runsSub(dagId) {
    const ctx = newCtx();
    let offset = 0;
    const stateSel = h('select', { id: 'runs-state', class: 'input' }, h('option', { value: '' }, 'All'), RUN_STATES.map((st) => h('option', { value: st }, stateLabel(st))));
    const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: '7', class: 'empty' }, 'Loading…')));
    const table = h('table', { id: 'runs', class: 'data' },
      h('caption', { class: 'sr-only' }, `Runs of ${dagId}, newest first`),
      h('thead', {}, h('tr', {}, ['Run', 'Type', 'State', 'Logical date', 'Start', 'End', 'Duration'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody);
    const pager = makePager((off) => { offset = off; refresh(); });
    const el = h('div', { class: 'sub-view' },
      h('h2', { class: 'sr-only', tabindex: '-1' }, 'Runs'),
      h('div', { class: 'toolbar' }, h('label', { for: 'runs-state' }, 'State:'), stateSel),
      h('div', { class: 'table-wrap' }, table),
      pager.el);
    stateSel.addEventListener('change', () => { offset = 0; refresh(); });
    let rowsKey = '';

    function apply(d) {
      const list = Array.isArray(d.dag_runs) ? d.dag_runs : [];
      const total = Number.isFinite(d.total_entries) ? d.total_entries : list.length;
      if (!list.length && offset > 0 && total > 0) { offset = Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE; refresh(); return; }
      pager.update(offset, list.length, total);
      // Rebuild only on changes, or while a run is unfinished (its duration grows).
      const key = JSON.stringify(list);
      if (key === rowsKey && list.every((r) => r.end_date || !r.start_date)) return;
      rowsKey = key;
      const now = Date.now();
      const frag = document.createDocumentFragment();
      for (const r of list) {
        const rid = String(r.dag_run_id);
        frag.append(h('tr', { 'data-run-id': rid },
          h('th', { scope: 'row' }, h('a', { class: 'run-link', href: hrefs.run(dagId, rid), 'data-fkey': `run:${rid}` }, rid)),
          h('td', {}, String(r.run_type || '—')),
          h('td', {}, stateBadge(r.state)),
          h('td', { class: 'nowrap' }, fmtDate(r.logical_date)),
          h('td', { class: 'nowrap' }, fmtDate(r.start_date)),
          h('td', { class: 'nowrap' }, fmtDate(r.end_date)),
          h('td', { class: 'nowrap' }, fmtDuration(spanSeconds(r.start_date, r.end_date, now)))));
      }
      if (!list.length) frag.append(h('tr', {}, h('td', { colspan: '7', class: 'empty' }, 'No runs.')));
      preserveFocus(table, () => tbody.replaceChildren(frag));
    }
    const refresh = loader(ctx, (signal) => api.get(`${dagPath(dagId)}/dagRuns`, {
      query: { order_by: '-logical_date', limit: PAGE_SIZE, offset, state: stateSel.value || undefined }, signal,
    }), apply);
    return { el, refresh, destroy: () => ctx.destroy(), crumbs: [['Runs', '']], title: 'Runs' };
  }

  // ---- 5.7 One run: details and Gantt -----------------------------------------

  function runSub(dagId, runId) {
    const ctx = newCtx();
    const badge = stateBadge(null, { id: 'run-state' });
    const fields = {};
    const field = (k) => { fields[k] = h('span', {}, '—'); return fields[k]; };
    const details = definitionList('run-details', [
      ['State', badge], ['Type', field('type')], ['Logical date', field('logical')], ['Data interval', field('interval')],
      ['Queued', field('queued')], ['Start', field('start')], ['End', field('end')], ['Duration', field('duration')],
    ]);
    const conf = h('pre', { id: 'run-conf', class: 'code-block', tabindex: '0' }, '');
    const axisStart = h('span', {}, '');
    const axisEnd = h('span', {}, '');
    const axis = h('div', { class: 'gantt-axis', 'aria-hidden': 'true' }, h('span'), h('span', { class: 'gantt-axis-track' }, axisStart, axisEnd), h('span'));
    const gantt = h('div', { id: 'gantt', class: 'gantt', role: 'list', 'aria-label': 'Task instances over time' }, h('p', { class: 'muted' }, 'Loading…'));
    const el = h('div', { class: 'sub-view' },
      h('h2', { id: 'run-title', tabindex: '-1' }, `Run ${runId}`),
      details,
      h('h3', {}, 'Conf'), conf,
      h('h3', {}, 'Gantt'), h('div', { class: 'gantt-view' }, axis, gantt));

    let ganttKey = '';
    function apply([run, tiList]) {
      const now = Date.now();
      setStateBadge(badge, run.state);
      setText(fields.type, run.run_type || '—');
      setText(fields.logical, fmtDate(run.logical_date));
      setText(fields.interval, `${fmtDate(run.data_interval_start)} → ${fmtDate(run.data_interval_end)}`);
      setText(fields.queued, fmtDate(run.queued_at));
      setText(fields.start, fmtDate(run.start_date));
      setText(fields.end, fmtDate(run.end_date));
      setText(fields.duration, fmtDuration(spanSeconds(run.start_date, run.end_date, now)));
      setText(conf, JSON.stringify(run.conf === undefined ? {} : run.conf, null, 2));

      const tis = Array.isArray(tiList.task_instances) ? tiList.task_instances : [];
      const key = JSON.stringify([run.start_date, run.end_date, tis]);
      if (key === ganttKey && !LIVE_STATES.has(run.state) && !tis.some((t) => LIVE_STATES.has(t.state))) return;
      ganttKey = key;
      const model = ganttModel(tis, run.start_date, run.end_date || (LIVE_STATES.has(run.state) ? null : run.end_date), now);
      setText(axisStart, model.start === null ? '' : fmtDate(new Date(model.start).toISOString()));
      setText(axisEnd, model.end === null ? '' : fmtDate(new Date(model.end).toISOString()));
      const frag = document.createDocumentFragment();
      for (const row of model.rows) {
        const k = stateKey(row.state);
        const dur = row.started ? fmtDuration(row.duration) : 'not started';
        const bar = h('span', { class: 'gantt-bar', 'data-state': k });
        if (row.started) {
          bar.style.left = `${row.left}%`;
          bar.style.width = `${row.width}%`;
        } else {
          bar.hidden = true;
        }
        frag.append(h('a', {
          class: 'gantt-row', role: 'listitem', href: hrefs.ti(dagId, runId, row.task_id), 'data-task-id': row.task_id,
          'data-fkey': `g:${row.task_id}`, 'aria-label': `task ${row.task_id}: ${stateLabel(row.state)}, ${dur}`,
        },
        h('span', { class: 'gantt-label' }, h('span', { class: 'glyph', 'data-state': k, 'aria-hidden': 'true' }, GLYPHS[k] || '·'), ` ${row.task_id}`),
        h('span', { class: 'gantt-track' }, bar),
        h('span', { class: 'gantt-dur' }, dur)));
      }
      if (!model.rows.length) frag.append(h('p', { class: 'muted' }, 'This run has no task instances.'));
      preserveFocus(gantt, () => gantt.replaceChildren(frag));
    }
    const refresh = loader(ctx, (signal) => Promise.all([
      api.get(runPath(dagId, runId), { signal }),
      api.get(`${runPath(dagId, runId)}/taskInstances`, { query: { limit: 1000 }, signal }),
    ]), apply);
    return { el, refresh, destroy: () => ctx.destroy(), crumbs: [['Runs', hrefs.dag(dagId, 'runs')], [runId, '']], title: `Run ${runId}` };
  }

  // ---- 5.8 Task instance: details, tries, log, actions --------------------------

  function tiSub(dagId, runId, taskId) {
    const ctx = newCtx();
    const stateEl = stateBadge(null, { id: 'ti-state' });
    const f = {};
    const field = (k, id) => { f[k] = h('span', { id }, '—'); return f[k]; };
    const details = definitionList('ti-details', [
      ['State', stateEl], ['Try', field('try', 'ti-try-number')], ['Start', field('start', 'ti-start')], ['End', field('end', 'ti-end')],
      ['Duration', field('duration', 'ti-duration')], ['Host', field('host', 'ti-hostname')], ['Operator', field('operator', 'ti-operator')],
      ['Note', field('note', 'ti-note')],
    ]);
    const renderedTitle = h('h3', { id: 'ti-rendered-title' }, 'Rendered template');
    const rendered = h('pre', { id: 'ti-rendered', class: 'code-block', tabindex: '0' }, '');
    const xcom = h('pre', { id: 'ti-xcom', class: 'code-block', tabindex: '0' }, '');
    const tryBox = h('div', { id: 'ti-tries', class: 'tries', role: 'group', 'aria-label': 'Log of try' });
    const log = logPanel(ctx, dagId, runId, taskId);

    const el = h('div', { class: 'sub-view' },
      h('h2', { id: 'ti-title', tabindex: '-1' }, `Task ${taskId}`),
      h('p', { class: 'muted' }, 'Run ', h('a', { href: hrefs.run(dagId, runId) }, runId)),
      details,
      canEdit() ? tiActions() : null,
      renderedTitle, rendered,
      h('h3', {}, 'XCom'), xcom,
      h('h3', {}, 'Log'), tryBox, log.el);

    let ti = null;
    let userTry = null;
    let triesKey = '';

    tryBox.addEventListener('click', (e) => {
      const b = e.target.closest('button.ti-try');
      if (!b) return;
      userTry = Number(b.getAttribute('data-try'));
      renderTries();
      log.select(userTry);
      if (ti) log.poll(ti);
    });

    function latestTry() {
      let n = ti ? Number(ti.try_number) || 0 : 0;
      for (const t of ti && Array.isArray(ti.tries) ? ti.tries : []) n = Math.max(n, Number(t.try_number) || 0);
      return n;
    }
    function selectedTry() { return userTry !== null ? userTry : latestTry(); }

    function renderTries() {
      let tries = Array.isArray(ti.tries) ? ti.tries.slice() : [];
      const latest = latestTry();
      if (!tries.length) for (let n = 1; n <= latest; n++) tries.push({ try_number: n, state: n === latest ? ti.state : null });
      tries.sort((a, b) => a.try_number - b.try_number);
      const sel = selectedTry();
      const key = JSON.stringify([sel, tries.map((t) => [t.try_number, t.state])]);
      if (key === triesKey) return;
      triesKey = key;
      preserveFocus(tryBox, () => tryBox.replaceChildren(...(tries.length ? tries.map((t) => {
        const k = stateKey(t.state);
        return h('button', {
          type: 'button', class: 'ti-try button', 'data-try': String(t.try_number), 'data-fkey': `try:${t.try_number}`,
          'aria-pressed': String(Number(t.try_number) === sel), title: [t.hostname, fmtDate(t.start_date), fmtDuration(t.duration)].filter((x) => x && x !== '—').join(' · '),
        }, h('span', { class: 'glyph', 'data-state': k, 'aria-hidden': 'true' }, GLYPHS[k] || '·'), ` Try ${t.try_number} `, h('span', { class: 'sr-only' }, stateLabel(t.state)));
      }) : [h('span', { class: 'muted' }, 'No tries yet.')])));
    }

    function apply(d) {
      ti = d;
      setStateBadge(stateEl, d.state);
      setText(f.try, `${d.try_number === undefined ? 0 : d.try_number} / ${d.max_tries === undefined ? '—' : d.max_tries}`);
      setText(f.start, fmtDate(d.start_date));
      setText(f.end, fmtDate(d.end_date));
      setText(f.duration, fmtDuration(d.duration !== null && d.duration !== undefined ? d.duration : spanSeconds(d.start_date, d.end_date, Date.now())));
      setText(f.host, d.hostname || '—');
      setText(f.operator, d.operator || '—');
      setText(f.note, d.note || '—');
      if (d.rendered && typeof d.rendered === 'object') {
        const keys = Object.keys(d.rendered);
        const str = (v) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));
        setText(renderedTitle, keys.length === 1 ? `Rendered ${keys[0]}` : 'Rendered template');
        setText(rendered, keys.length === 1 ? str(d.rendered[keys[0]]) : keys.map((k) => `${k}:\n${str(d.rendered[k])}`).join('\n\n'));
        rendered.classList.remove('is-error');
      } else if (d.render_error) {
        setText(renderedTitle, 'Rendered template');
        setText(rendered, `Render error: ${d.render_error}`);
        rendered.classList.add('is-error');
      } else {
        setText(renderedTitle, 'Rendered template');
        setText(rendered, 'Not available.');
        rendered.classList.remove('is-error');
      }
      setText(xcom, d.xcom === null || d.xcom === undefined ? 'No XCom value.' : JSON.stringify(d.xcom, null, 2));
      renderTries();
      log.select(selectedTry());
    }
    const refreshDetails = loader(ctx, (signal) => api.get(`/ui/api/task/${enc(dagId)}/${enc(runId)}/${enc(taskId)}`, { signal }), apply);
    async function refresh() {
      await refreshDetails();
      if (ti && ctx.alive) await log.poll(ti);
    }

    function tiActions() {
      const clear = h('button', { type: 'button', id: 'ti-clear', class: 'button' }, '↻ Clear…');
      const down = h('input', { type: 'checkbox', id: 'ti-clear-downstream' });
      const confirmBtn = h('button', { type: 'button', id: 'ti-clear-confirm', class: 'button danger' }, 'Yes, clear');
      const cancelBtn = h('button', { type: 'button', id: 'ti-clear-cancel', class: 'button' }, 'Cancel');
      const confirmText = h('span', {}, '');
      const confirmRow = h('div', { id: 'ti-clear-confirm-row', class: 'confirm-row', role: 'group', 'aria-label': 'Confirm clear', hidden: true }, confirmText, confirmBtn, cancelBtn);
      const success = h('button', { type: 'button', id: 'ti-mark-success', class: 'button' }, h('span', { 'aria-hidden': 'true' }, '✓ '), 'Mark success');
      const failed = h('button', { type: 'button', id: 'ti-mark-failed', class: 'button' }, h('span', { 'aria-hidden': 'true' }, '✗ '), 'Mark failed');
      const all = [clear, confirmBtn, success, failed];
      const busy = (on) => all.forEach((b) => { if (on) b.setAttribute('aria-busy', 'true'); else b.removeAttribute('aria-busy'); });
      const isBusy = () => clear.getAttribute('aria-busy') === 'true';

      clear.addEventListener('click', () => {
        if (isBusy()) return;
        confirmText.textContent = `Clear ${taskId}${down.checked ? ' and its downstream tasks' : ''} in run ${runId}? They will run again.`;
        confirmRow.hidden = false;
        confirmBtn.focus();
      });
      const hideConfirm = () => { confirmRow.hidden = true; clear.focus(); };
      cancelBtn.addEventListener('click', hideConfirm);
      confirmRow.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); hideConfirm(); } });
      confirmBtn.addEventListener('click', () => act(async () => {
        const res = await api.post(`${dagPath(dagId)}/clearTaskInstances`, {
          dry_run: false, only_failed: false, task_ids: [taskId], dag_run_id: runId, include_downstream: down.checked,
        });
        const n = res && Array.isArray(res.task_instances) ? res.task_instances.length : 0;
        confirmRow.hidden = true;
        userTry = null;
        messages.status(`Cleared ${n} task instance${n === 1 ? '' : 's'}.`);
      }, clear));
      const mark = (state) => act(async () => {
        await api.patch(tiPath(dagId, runId, taskId), { new_state: state, dry_run: false });
        messages.status(`Marked ${taskId} ${state}.`);
      });
      success.addEventListener('click', () => mark('success'));
      failed.addEventListener('click', () => mark('failed'));
      async function act(fn, focusAfter) {
        if (isBusy()) return;
        busy(true);
        try { await fn(); } catch (e) { report(e); } finally {
          busy(false);
          const a = document.activeElement;
          if (focusAfter && (!a || a === document.body || !document.contains(a) || (confirmRow.hidden && confirmRow.contains(a)))) focusAfter.focus();
          refresh();
        }
      }
      return h('section', { id: 'ti-actions', class: 'actions', 'aria-label': 'Actions' },
        h('div', { class: 'action-row' },
          clear, h('label', { class: 'check' }, down, ' Include downstream'),
          success, failed),
        confirmRow);
    }

    return {
      el, refresh, destroy: () => ctx.destroy(), pollMs: TI_POLL_MS,
      crumbs: [['Runs', hrefs.dag(dagId, 'runs')], [runId, hrefs.run(dagId, runId)], [taskId, '']],
      title: `${taskId} · ${runId}`,
    };
  }

  /**
   * The log of one try in pre#ti-log. First fetch asks for the last MiB
   * (Range: bytes=-N); while the try is live, later fetches ask for
   * bytes=<have>- and append (206), 416 meaning nothing new. Keeps the view
   * at the bottom unless the user scrolled up.
   */
  function logPanel(ctx, dagId, runId, taskId) {
    const pre = h('pre', { id: 'ti-log', class: 'log', tabindex: '0', 'aria-label': 'Log' });
    const note = h('p', { id: 'ti-log-note', class: 'muted small' }, '');
    const download = h('a', { id: 'ti-log-download', class: 'small', hidden: true, download: '' }, 'Download this try’s full log');
    const el = h('div', { class: 'log-panel' }, h('div', { class: 'log-bar' }, note, download), pre);
    const url = (n) => `${tiPath(dagId, runId, taskId)}/logs/${enc(n)}`;
    let cur = null;   // {tryNo, bytes, loaded, decoder, wasLive, busy, truncated}

    function select(n) {
      if (cur && cur.tryNo === n) return;
      cur = { tryNo: n, bytes: 0, loaded: false, decoder: new TextDecoder('utf-8'), wasLive: false, busy: false, truncated: false };
      pre.replaceChildren();
      setText(note, n ? 'Loading log…' : 'No log yet: the task has not run.');
      download.hidden = !n;
      if (n) download.setAttribute('href', url(n));
    }
    function append(text) {
      if (!text) return;
      const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 32;
      pre.append(document.createTextNode(text));
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
    async function poll(ti) {
      const c = cur;
      if (!c || !c.tryNo || c.busy) return;
      const live = Number(ti.try_number) === c.tryNo && LIVE_STATES.has(ti.state);
      if (c.loaded && !live && !c.wasLive) return;     // finished and fully read
      c.wasLive = live;                                  // one more fetch after it ends
      c.busy = true;
      try {
        await fetchChunk(c, live);
      } catch (e) {
        report(e, true);
      } finally {
        c.busy = false;
      }
      if (c !== cur || !c.loaded) return;
      setText(note, [c.truncated ? 'Showing the end of a large log.' : '', live ? 'Following live output…' : '',
        !pre.firstChild ? 'The log is empty.' : ''].filter(Boolean).join(' '));
    }
    async function fetchChunk(c, live) {
      const first = !c.loaded;
      const res = await request('GET', url(c.tryNo), {
        raw: true, signal: ctx.signal,
        headers: { Accept: 'text/plain', Range: first ? `bytes=-${LOG_TAIL_BYTES}` : `bytes=${c.bytes}-` },
      });
      if (c !== cur) return;
      if (res.status === 416) { c.loaded = true; return; }            // nothing (new)
      if (res.status === 404 && first) {
        if (!live) { c.loaded = true; setText(note, 'No log for this try.'); } else setText(note, 'Waiting for the log…');
        return;
      }
      if (!res.ok) throw await problemOf(res);
      const buf = new Uint8Array(await res.arrayBuffer());
      if (c !== cur) return;
      const range = res.status === 206 ? parseContentRange(res.headers.get('Content-Range')) : null;
      if (!range && !first) { pre.replaceChildren(); c.decoder = new TextDecoder('utf-8'); }   // a full body: start over
      let text = c.decoder.decode(buf, { stream: true });
      if (first && range && range.start > 0) {                         // began mid-file: drop the partial line
        c.truncated = true;
        const nl = text.indexOf('\n');
        if (nl >= 0) text = text.slice(nl + 1);
      }
      c.bytes = range ? range.end + 1 : buf.length;
      c.loaded = true;
      append(text);
      if (first) pre.scrollTop = pre.scrollHeight;
    }
    return { el, select, poll };
  }

  // ---- 5.9 Not found ---------------------------------------------------------

  function notFoundView() {
    document.title = 'Not found · dwfs';
    return {
      el: h('div', { class: 'view' }, h('h1', { tabindex: '-1' }, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the DAG list'))),
      start() {},
      destroy() {},
    };
  }

  // ===========================================================================
  // 6. Boot
  // ===========================================================================

  function bootLogin() {
    const err = $('#login-error');
    if (err && new URLSearchParams(location.search).get('error')) err.hidden = false;
    const user = $('#username');
    if (user && !user.value) user.focus();
  }

  async function bootApp() {
    $('#error-bar').addEventListener('click', (e) => {
      if (e.target.closest('#error-dismiss')) messages.dismiss();
    });
    const skip = $('.skip-link');
    if (skip) skip.addEventListener('click', (e) => { e.preventDefault(); $('#main').focus(); });
    wireTriggerDialog();
    $('#logout').addEventListener('click', async () => {
      try {
        await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': session.csrf, 'Content-Type': 'application/json' }, body: '{}', redirect: 'manual' });
      } catch (e) { /* go to the login page anyway */ }
      location.assign('/login');
    });
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') poller.tick(); });

    try {
      const me = await api.get('/ui/api/session');
      session.user = String(me.user || '');
      session.role = String(me.role || 'Viewer');
      session.csrf = String(me.csrf_token || '');
    } catch (e) {
      report(e);
      return;
    }
    $('#user-name').textContent = session.user;
    $('#user-role').textContent = session.role;
    document.body.setAttribute('data-can-edit', String(canEdit()));
    try {
      const next = sessionStorage.getItem('dwfs.next');
      sessionStorage.removeItem('dwfs.next');
      if (next && next.startsWith('#/') && (!location.hash || location.hash === '#/' || location.hash === '#')) history.replaceState(null, '', next);
    } catch (e) { /* storage may be disabled */ }
    window.addEventListener('hashchange', route);
    route();
  }

  function boot() {
    if (document.body.getAttribute('data-page') === 'login') bootLogin();
    else if ($('#view')) bootApp();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
}());
