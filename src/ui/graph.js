/*
 * The graph tab: the DAG laid out in layers (longest path, then barycenter
 * ordering against crossings), drawn as SVG and coloured by the latest
 * run. The layout functions are pure (node tests import them).
 */
import { loader, newCtx, hrefs } from './router.js';
import { api } from './api.js';
import { h, legend, s, setText } from './dom.js';
import { GLYPHS, enc, own, stateKey, stateLabel } from './format.js';

/**
 * Longest-path layering of a DAG given as [{task_id, upstream_task_ids}],
 * then a few barycenter sweeps (down by upstreams, up by downstreams) to
 * reduce crossings, keeping the best ordering seen. Cycles (should not
 * happen) put the leftover tasks into one extra layer.
 * Returns {layers: [[task_id...]], layerOf: Map, edges: [[from, to]], crossings}.
 */
export function layerTasks(tasks) {
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
export function countCrossings(edges, layer, pos) {
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
export function graphLayout(tasks, opt) {
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

// ---- Graph tab: the layout as SVG, coloured by the latest run -------------------

export function graphSub(dagId) {
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
