// The browser half of bench/ui_render/run: drives headless Chromium through
// chromedriver (W3C WebDriver over plain HTTP, with Node 20's fetch; no npm
// packages), logs in through the form, and times the DAG list and the grid
// in the page itself. Started by the run script, which owns chromedriver,
// the api server and the database; see the script's header for the figures.
//
//   node measure.mjs --driver URL --base URL --user NAME --profile DIR
//                    --rounds N --out FILE --list-rows N --list-dots N
//                    --grid-tasks N --grid-runs N --dag DAG_ID
//                    [--screenshots DIR]
//
// The password comes from $DWFS_BENCH_PASSWORD (not argv: ps shows argv).
// Writes one line per figure and round to FILE: "round<TAB>name<TAB>value"
// (milliseconds, or bytes for *_bytes); progress goes to stderr. Exits 1 on
// any failure (a WebDriver error, a wait that timed out), after ending the
// WebDriver session.
import { writeFileSync, appendFileSync, mkdirSync } from 'node:fs';

const opt = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i];
  const v = process.argv[i + 1];
  if (!k.startsWith('--') || v === undefined) throw new Error(`bad argument ${k}`);
  opt[k.slice(2)] = v;
}
const need = (k) => { if (opt[k] === undefined) throw new Error(`--${k} is required`); return opt[k]; };
const DRIVER = need('driver');
const BASE = need('base');
const USER = need('user');
const PASSWORD = process.env.DWFS_BENCH_PASSWORD || '';
const PROFILE = need('profile');
const ROUNDS = Number(need('rounds'));
const OUT = need('out');
const LIST_ROWS = Number(need('list-rows'));
const LIST_DOTS = Number(need('list-dots'));
const TASKS = Number(need('grid-tasks'));
const RUNS_MAX = Number(need('grid-runs'));
const DAG = need('dag');
const SHOTS = opt.screenshots || '';
const WAIT_MS = 60000;      // a view that takes longer is a failure, not a figure
const POLL_MS = 10;

const log = (msg) => process.stderr.write(`[ui-bench] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
writeFileSync(OUT, '');
const record = (round, name, value) => appendFileSync(OUT, `${round}\t${name}\t${value}\n`);

// --- WebDriver ---------------------------------------------------------------

class WdError extends Error {}

async function wd(method, path, body) {
  let res;
  try {
    res = await fetch(DRIVER + path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new WdError(`${method} ${path}: chromedriver did not answer (${e.cause ? e.cause.code || e.cause.message : e.message})`);
  }
  const text = await res.text();
  let j;
  try { j = JSON.parse(text); } catch (e) { throw new WdError(`${method} ${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`); }
  const v = j && typeof j === 'object' ? j.value : undefined;
  if (!res.ok || (v && typeof v === 'object' && v.error)) {
    const err = new WdError(`${method} ${path}: ${v && v.error ? `${v.error}: ${String(v.message).split('\n')[0]}` : `HTTP ${res.status}`}`);
    err.wd = v && v.error;
    throw err;
  }
  return v;
}

let session = null;
const S = (p) => `/session/${session}${p}`;
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

async function newSession() {
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', `--user-data-dir=${PROFILE}`, '--window-size=1280,800'];
  const v = await wd('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        browserName: 'chrome',
        // 'none': navigation commands return at once, so the first poll
        // runs before the view can be complete (with 'normal' the command
        // waits for the load event, and a view drawn before it would be
        // timed at the first poll instead).
        pageLoadStrategy: 'none',
        timeouts: { pageLoad: 30000, script: 30000, implicit: 0 },
        'goog:chromeOptions': { binary: '/usr/bin/chromium', args },
      },
    },
  });
  session = v.sessionId;
  if (!session) throw new WdError(`new session: no sessionId in ${JSON.stringify(v).slice(0, 300)}`);
  const caps = v.capabilities || {};
  log(`WebDriver session ${session}: ${caps.browserName} ${caps.browserVersion}`);
}

const navigate = (url) => wd('POST', S('/url'), { url });
const exec = (script, args = []) => wd('POST', S('/execute/sync'), { script, args });
const execAsync = (script, args = []) => wd('POST', S('/execute/async'), { script, args });
const cdp = (cmd, params = {}) => wd('POST', S('/goog/cdp/execute'), { cmd, params });

async function find(css, timeoutMs = WAIT_MS) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const els = await wd('POST', S('/elements'), { using: 'css selector', value: css });
      if (els.length) return els[0][ELEMENT];
    } catch (e) {
      if (!transient(e)) throw e;
    }
    if (Date.now() > end) throw new WdError(`no element ${css} after ${timeoutMs} ms (at ${await currentUrl()})`);
    await sleep(25);
  }
}
async function currentUrl() {
  try { return await wd('GET', S('/url')); } catch (e) { return `? (${e.message})`; }
}
// Errors a command can meet while a navigation replaces the document.
function transient(e) {
  return e instanceof WdError && /stale element|no such execution context|execution context was destroyed|detached|javascript error: (Cannot find context|Inspected target navigated)|unexpected alert|target frame detached/i.test(e.message);
}

async function screenshot(name) {
  if (!SHOTS) return;
  const png = await wd('GET', S('/screenshot'));
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(`${SHOTS}/${name}.png`, Buffer.from(png, 'base64'));
  log(`  screenshot ${SHOTS}/${name}.png`);
}

// --- In-page timing -------------------------------------------------------------

// Waits in the page for the view to be complete: checks it every POLL_MS
// (setTimeout), reads performance.now() (ms since the document's navigation
// start) when it first is, and collects the resource timings of the data
// requests and the long tasks and long animation frames since t0.
// spec.action, when given, is the in-app change to time, made by this same
// script just after reading t0.
//
// The checks run in the page (timer tasks of this script) rather than as one
// WebDriver command each: no round trip between a check and the next, and
// the change and t0 in one script. A check runs only when the page's main
// thread is free. After the grid's build task, the next check was seen to
// come 150-350 ms after that task ended, mostly with no long task in
// between: the renderer drawing the new table (paint, compositing,
// rasterisation on its other threads) on 2 busy cores. So the figure is
// when the page next ran script with the view in place, at most the check
// interval after it could, and the build task's own length is recorded
// apart (NAME_task).
//
// Answers {timeout: true} when spec.budget ms pass first. `late` is true
// when the very first check found the view complete (the figure would then
// only be an upper bound: the caller fails on it).
const WAIT = `
const spec = arguments[0], done = arguments[arguments.length - 1];
function complete() {
  if (spec.kind === 'list') {
    const rows = document.querySelectorAll('#dag-list > tbody > tr[data-dag-id]');
    if (rows.length !== spec.rows) return false;
    return document.querySelectorAll('#dag-list > tbody > tr[data-dag-id] > td.recent-runs .run-dot').length === spec.dots;
  }
  const tb = document.querySelector('#grid > tbody');
  if (!tb || tb.rows.length !== spec.rows) return false;
  const w = spec.cols + 1;   // the task name, then one cell per run
  if (tb.rows[0].cells.length !== w || tb.rows[spec.rows - 1].cells.length !== w) return false;
  return tb.querySelectorAll('td > button.ti-cell').length === spec.rows * spec.cols &&
    document.querySelectorAll('#grid > thead > tr > th.run-col').length === spec.cols;
}
// Long tasks and long animation frames (over 50 ms) from t0 on: the task
// that built the view, and how much of its frame was style and layout
// forced by scripts. Their entries come after the frame ends.
const tasks = [], frames = [];
const observers = [];
function observe(type, fn) {
  try {
    const o = new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.startTime >= t0 - 1) fn(e); });
    o.observe({ type, buffered: true });
    observers.push(o);
  } catch (e) { /* not in this browser */ }
}
let t0 = 0;
if (spec.action === 'grid-limit') {
  performance.clearResourceTimings();
  const s = document.querySelector('#grid-limit');
  if (!s) { done({ error: 'no #grid-limit' }); return; }
  t0 = performance.now();
  s.value = String(spec.cols);
  s.dispatchEvent(new Event('change', { bubbles: true }));
} else if (spec.action === 'hash') {
  performance.clearResourceTimings();
  t0 = performance.now();
  location.hash = spec.hash;
}
observe('longtask', (e) => tasks.push({ start: e.startTime, duration: e.duration }));
observe('long-animation-frame', (e) => frames.push({
  start: e.startTime, duration: e.duration,
  forced: e.scripts.reduce((a, x) => a + x.forcedStyleAndLayoutDuration, 0),
}));
const until = performance.now() + spec.budget;
let checks = 0;
function tick() {
  checks++;
  if (complete()) { found(); return; }
  if (performance.now() > until) { observers.forEach((o) => o.disconnect()); done({ timeout: true, t0 }); return; }
  setTimeout(tick, spec.pollMs);
}
function found() {
  const tDom = performance.now();
  const res = performance.getEntriesByType('resource')
    .filter((e) => (e.name.includes('/api/v1/') || e.name.includes('/ui/api/')) && e.startTime >= t0 - 1)
    .map((e) => ({ path: e.name.slice(location.origin.length), start: e.startTime, end: e.responseEnd }));
  let sent = false;
  const finish = () => {
    if (sent) return;
    sent = true;
    observers.forEach((o) => o.disconnect());
    const inside = (e) => e.start <= tDom;
    done({ t0, tDom, late: checks === 1, checks, res, tasks: tasks.filter(inside), frames: frames.filter(inside) });
  };
  // The next frame, then a little longer: the entries of the frame that
  // built the view come once it has been drawn.
  requestAnimationFrame(() => setTimeout(() => setTimeout(finish, 100), 0));
  setTimeout(finish, 5000);
}
tick();
`;

// Waits for the app's document at `url` (after a navigation: with the
// 'none' page load strategy the old document may still be there).
async function waitDocument(url) {
  const end = Date.now() + WAIT_MS;
  for (;;) {
    try {
      if (await exec('return location.href === arguments[0]', [url])) return;
    } catch (e) {
      if (!transient(e)) throw e;
    }
    if (Date.now() > end) throw new WdError(`${url} did not load (at ${await currentUrl()})`);
    await sleep(POLL_MS);
  }
}

// Runs WAIT for `spec` (retrying while a navigation replaces the document),
// answers its result; throws when the view is not complete after WAIT_MS.
async function waitView(spec0, what) {
  const spec = { ...spec0, pollMs: POLL_MS, budget: 25000 };
  const end = Date.now() + WAIT_MS;
  for (;;) {
    let v = null;
    try {
      v = await execAsync(WAIT, [spec]);
    } catch (e) {
      if (!transient(e)) throw e;
      if (spec.action) throw new WdError(`${what}: ${e.message}`);   // the change was made: do not repeat it
    }
    if (v && v.error) throw new WdError(`${what}: ${v.error}`);
    if (v && !v.timeout) {
      if (v.late && !spec.action && !spec.allowLate) {
        throw new WdError(`${what}: complete at the first check (${v.tDom.toFixed(0)} ms): the time would be an upper bound`);
      }
      return v;
    }
    if (v && v.timeout && spec.action) throw new WdError(`${what}: not complete after ${spec.budget} ms`);
    if (Date.now() > end) {
      const state = await exec(`return {href: location.href, rows: document.querySelectorAll('#dag-list tr[data-dag-id], #grid > tbody > tr').length,
        cells: document.querySelectorAll('button.ti-cell').length, dots: document.querySelectorAll('.run-dot').length,
        error: (document.querySelector('#error-bar') || {}).textContent || ''}`).catch((e) => e.message);
      throw new WdError(`${what}: not complete after ${WAIT_MS} ms: ${JSON.stringify(state)}`);
    }
  }
}

// The first data request whose path starts with `prefix` (and contains
// `has`) made at or after t0.
function request(v, prefix, has = '') {
  return v.res.find((x) => x.path.startsWith(prefix) && x.path.includes(has)) || null;
}

// Chromium's own counters (DevTools Performance.getMetrics), in ms.
async function metrics() {
  const m = await cdp('Performance.getMetrics');
  const out = {};
  for (const { name, value } of m.metrics) out[name] = value;
  return {
    script: out.ScriptDuration * 1000, layout: out.LayoutDuration * 1000,
    style: out.RecalcStyleDuration * 1000, task: out.TaskDuration * 1000,
    process: out.ProcessTime * 1000,   // CPU of the whole renderer process: raster and compositor threads too
  };
}

// Records NAME (the view complete, ms from t0), NAME_fetch (the response
// that feeds the view fully received), NAME_long_tasks (the time in tasks
// over 50 ms between t0 and completion: building the view and drawing it),
// NAME_task (the longest of them: the one that built the view; 0 when none
// took over 50 ms) and NAME_forced_layout (style and layout forced by
// scripts in the longest animation frame, when long-animation-frame timing
// reported it).
function recordView(round, name, v, feed) {
  const t0 = v.t0;
  const dom = v.tDom - t0;
  record(round, name, dom.toFixed(1));
  if (feed) record(round, `${name}_fetch`, (feed.end - t0).toFixed(1));
  const longest = (list) => list.reduce((a, f) => (!a || f.duration > a.duration ? f : a), null);
  record(round, `${name}_long_tasks`, v.tasks.reduce((a, t) => a + t.duration, 0).toFixed(1));
  const task = longest(v.tasks);
  record(round, `${name}_task`, task ? task.duration.toFixed(1) : '0');
  const frame = longest(v.frames);
  if (frame) record(round, `${name}_forced_layout`, frame.forced.toFixed(1));
  return dom;
}
function recordMetrics(round, name, before, after) {
  for (const k of ['script', 'layout', 'style', 'task', 'process']) record(round, `${name}_cpu_${k}`, (after[k] - before[k]).toFixed(1));
}

// A fresh document: about:blank first, so the next URL is a full page load
// (a hash change alone would stay in the loaded app).
async function load(url) {
  await navigate('about:blank');
  await waitDocument('about:blank');
  await navigate(url);
  await waitDocument(url);
}

const LIST = { kind: 'list', rows: LIST_ROWS, dots: LIST_DOTS };
const grid = (cols) => ({ kind: 'grid', rows: TASKS, cols });
const DAG_URL = `${BASE}/#/dags/${encodeURIComponent(DAG)}`;
const C25 = Math.min(25, RUNS_MAX);
const C50 = Math.min(50, RUNS_MAX);

async function round(r) {
  const ms = (x) => `${x.toFixed(0)} ms`;
  const parts = [];

  // (a) the DAG list, page load.
  await load(`${BASE}/#/`);
  let v = await waitView(LIST, 'DAG list (page load)');
  parts.push(`list ${ms(recordView(r, 'list_load', v, request(v, '/ui/api/recent_runs')))}`);
  if (r === 1) await screenshot('dag-list');

  // (b) the grid, page load: the default 25 runs (the runs selector is not
  // kept across page loads).
  await load(DAG_URL);
  v = await waitView(grid(C25), 'grid (page load, 25 runs)');
  parts.push(`grid25 ${ms(recordView(r, 'grid25_load', v, request(v, '/ui/api/grid/')))}`);
  const sel = await exec('const s = document.querySelector("#grid-limit"); return s ? s.value : null');
  if (sel !== String(C25)) throw new WdError(`#grid-limit shows ${sel}, expected ${C25}`);

  // (c) 25 -> 50 with the runs selector: the re-render from the change.
  let before = await metrics();
  v = await waitView({ ...grid(C50), action: 'grid-limit' }, 'grid (25 -> 50 runs)');
  recordMetrics(r, 'grid50_select', before, await metrics());
  parts.push(`grid50 ${ms(recordView(r, 'grid50_select', v, request(v, '/ui/api/grid/', 'limit=50')))}`);
  if (r === 1) await screenshot('grid-50');

  // (d) warm, in the loaded app: back to the list (a link's hash change)...
  before = await metrics();
  v = await waitView({ ...LIST, action: 'hash', hash: '#/' }, 'DAG list (in-app)');
  recordMetrics(r, 'list_warm', before, await metrics());
  parts.push(`list warm ${ms(recordView(r, 'list_warm', v, request(v, '/ui/api/recent_runs')))}`);

  // ... and to the grid again, which keeps the 50 runs chosen in (c).
  before = await metrics();
  v = await waitView({ ...grid(C50), action: 'hash', hash: `#/dags/${encodeURIComponent(DAG)}` }, 'grid (in-app, 50 runs)');
  recordMetrics(r, 'grid50_warm', before, await metrics());
  parts.push(`grid50 warm ${ms(recordView(r, 'grid50_warm', v, request(v, '/ui/api/grid/', 'limit=50')))}`);
  log(`round ${r}: ${parts.join(', ')}`);
}

// The data requests alone, from Node (Basic auth, no browser): the server's
// share of each view. And, in the page, JSON.parse of the grid's answer.
async function serverTimes(ids) {
  const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const q = (o) => new URLSearchParams(o).toString();
  const recent = new URLSearchParams(ids.map((d) => ['dag_id', d]));
  recent.append('limit', '5');
  const reqs = [
    ['api_dags', `/api/v1/dags?${q({ limit: LIST_ROWS, offset: 0 })}`],
    ['api_recent_runs', `/ui/api/recent_runs?${recent}`],
    ['api_grid25', `/ui/api/grid/${encodeURIComponent(DAG)}?limit=25`],
    ['api_grid50', `/ui/api/grid/${encodeURIComponent(DAG)}?limit=50`],
  ];
  for (const [name, path] of reqs) {
    for (let i = 0; i <= 10; i++) {   // the first is a warm-up
      const t = performance.now();
      const res = await fetch(BASE + path, { headers: { Authorization: auth, Accept: 'application/json' } });
      const body = await res.arrayBuffer();
      const dt = performance.now() - t;
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}: ${Buffer.from(body).toString().slice(0, 200)}`);
      if (i === 0) { record(0, `${name}_bytes`, body.byteLength); continue; }
      record(i, name, dt.toFixed(2));
    }
  }
  // In the page (logged-in session): the grid's answer for 50 runs, fetched
  // once, then parsed 10 times.
  const p = await execAsync(`const done = arguments[arguments.length - 1];
    fetch(${JSON.stringify(`/ui/api/grid/${encodeURIComponent(DAG)}?limit=50`)}, { credentials: 'same-origin', cache: 'no-store' })
      .then((r) => r.text()).then((t) => {
        const out = [];
        for (let i = 0; i < 10; i++) { const a = performance.now(); JSON.parse(t); out.push(performance.now() - a); }
        done(out);
      }, (e) => done(String(e)));`);
  if (!Array.isArray(p)) throw new Error(`in-page fetch of the grid failed: ${p}`);
  p.forEach((x, i) => record(i + 1, 'page_grid50_parse', x.toFixed(2)));
}

async function main() {
  await newSession();
  await cdp('Performance.enable', { timeDomain: 'threadTicks' });

  // Log in through the form; it redirects to /.
  log('logging in through the form');
  await navigate(`${BASE}/login`);
  const u = await find('#username');
  await wd('POST', S(`/element/${u}/value`), { text: USER });
  const pw = await find('#password');
  await wd('POST', S(`/element/${pw}/value`), { text: PASSWORD });
  await wd('POST', S(`/element/${await find('#login-submit')}/click`), {});
  const end = Date.now() + WAIT_MS;
  for (;;) {
    let who = null;
    try { who = await exec('return location.pathname === "/" && document.querySelector("#user-name") ? document.querySelector("#user-name").textContent : null'); } catch (e) { if (!transient(e)) throw e; }
    if (who === USER) break;
    if (Date.now() > end) throw new WdError(`login: not on / as ${USER} after ${WAIT_MS} ms (at ${await currentUrl()})`);
    await sleep(50);
  }
  log(`logged in as ${USER}`);
  // Warm-up, not recorded: the first page load of a fresh browser profile
  // (its caches, the first JIT of app.js) and the api server's first grid.
  await waitView({ ...LIST, allowLate: true }, 'DAG list (warm-up)');
  await load(DAG_URL);
  await waitView(grid(C25), 'grid (warm-up)');

  for (let r = 1; r <= ROUNDS; r++) await round(r);

  log('timing the data requests alone (Node fetch, 10 each) and JSON.parse in the page');
  await waitView({ ...LIST, action: 'hash', hash: '#/' }, 'DAG list (for its ids)');
  const ids = await exec(`return [...document.querySelectorAll('#dag-list tr[data-dag-id]')].map((tr) => tr.getAttribute('data-dag-id'))`);
  await serverTimes(ids.length ? ids : [DAG]);
}

let rc = 0;
try {
  await main();
} catch (e) {
  log(`error: ${e.message}`);
  rc = 1;
} finally {
  if (session) {
    try { await wd('DELETE', `/session/${session}`); } catch (e) { /* the run script kills chromedriver's group */ }
  }
}
process.exit(rc);
