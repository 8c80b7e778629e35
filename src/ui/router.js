/*
 * Hash routes and the life of views: parsing and building "#/dags/..."
 * addresses, one context per view (aborts its fetches on navigation),
 * loaders that drop stale answers, the one poller of the visible view, and
 * mounting the view of the current route into #view.
 */
import { messages, report } from './api.js';
import { $ } from './dom.js';
import { enc } from './format.js';

export const POLL_MS = 2500;

/** Hash route -> {name: 'dags'|'dag'|'notfound', dagId, tab, runId, taskId}; null for non-route hashes. */
export function parseRoute(hash) {
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

export const hrefs = {
  dags: () => '#/',
  dag: (d, tab) => `#/dags/${enc(d)}${tab ? `/${tab}` : ''}`,
  run: (d, r) => `#/dags/${enc(d)}/runs/${enc(r)}`,
  ti: (d, r, t) => `#/dags/${enc(d)}/runs/${enc(r)}/tasks/${enc(t)}`,
};

/** Per-view lifetime: abort its fetches and stop its timers on navigation. */
export function newCtx() {
  const ac = new AbortController();
  return {
    signal: ac.signal,
    alive: true,
    destroy() { this.alive = false; ac.abort(); },
  };
}

/** refresh() = load() then apply(); responses older than the last applied one are dropped. */
export function loader(ctx, load, apply) {
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
export const poller = {
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
let viewFor = null;   // route -> a new view (main.js)

function route() {
  const r = parseRoute(location.hash);
  if (!r) return;                                   // e.g. "#main": not a route
  if (current && current.update && current.update(r)) return;
  if (current) current.destroy();
  poller.stop();
  const view = viewFor(r);
  current = view;
  $('#view').replaceChildren(view.el);
  window.scrollTo(0, 0);
  view.start();
  focusHeading(view.el);
}

/** After a page change, move focus to the new heading if the old focus is gone. */
export function focusHeading(root) {
  const a = document.activeElement;
  if (a && a !== document.body && document.contains(a)) return;
  const hd = root.querySelector('h1[tabindex], h2[tabindex]');
  if (hd) hd.focus({ preventScroll: true });
}

/** Refreshes the mounted view now (after triggering a run). */
export function refreshNow() {
  if (current && current.refresh) current.refresh();
}

/** Mounts the view of the current route now and on every hash change. */
export function startRouter(makeView) {
  viewFor = makeView;
  window.addEventListener('hashchange', route);
  route();
}
