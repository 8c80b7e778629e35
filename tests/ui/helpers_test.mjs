// The web UI's pure helpers (src/ui/*.js, ES modules) under Node: graph
// layering and barycenter ordering, the Gantt model, state glyphs, dates
// and durations, paging, query strings, content ranges, the trigger conf,
// routes and hrefs; and checks on the UI files as a whole (every module is
// embedded, none parses HTML from data).
//
//   node tests/ui/helpers_test.mjs        (CTest: UiHelpersJs)
//
// Prints each test's result; exits non-zero when one fails. No packages:
// node:test and node:assert only. src/ui/package.json ({"type": "module"})
// makes Node load the .js files as modules; it is not embedded.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import test from 'node:test';

import {
  fmtDate, fmtDuration, fmtShortDate, own, pageText, parseConf, parseContentRange, queryString,
  spanSeconds, stateGlyph, stateKey, stateLabel,
} from '../../src/ui/format.js';
import { graphLayout, layerTasks } from '../../src/ui/graph.js';
import { hrefs, parseRoute } from '../../src/ui/router.js';
import { ganttModel } from '../../src/ui/view_runs.js';

const UI_DIR = new URL('../../src/ui/', import.meta.url);
const CMAKE = new URL('../../CMakeLists.txt', import.meta.url);

test('diamond layering', () => {
  const tasks = [
    { task_id: 'a', upstream_task_ids: [] },
    { task_id: 'b', upstream_task_ids: ['a'] },
    { task_id: 'c', upstream_task_ids: ['a'] },
    { task_id: 'd', upstream_task_ids: ['b', 'c'] },
  ];
  const L = layerTasks(tasks);
  assert.deepStrictEqual(L.layers.map((l) => l.slice().sort()), [['a'], ['b', 'c'], ['d']]);
  assert.strictEqual(L.layerOf.get('d'), 2);
  assert.strictEqual(L.edges.length, 4);
  assert.strictEqual(L.crossings, 0);
  const G = graphLayout(tasks);
  const by = Object.fromEntries(G.nodes.map((x) => [x.id, x]));
  assert(by.a.x < by.b.x && by.b.x === by.c.x && by.c.x < by.d.x, 'left to right');
  assert(by.b.y !== by.c.y);
  assert.strictEqual(G.edges.length, 4);
  for (const e of G.edges) assert.match(e.d, /^M[\d.]+ [\d.]+ C/);
});

test('longest path wins over a shortcut edge', () => {
  // a->b->c and a->c: c must be on layer 2
  const L = layerTasks([{ task_id: 'c', upstream_task_ids: ['a', 'b'] }, { task_id: 'b', upstream_task_ids: ['a'] }, { task_id: 'a' }]);
  assert.strictEqual(L.layerOf.get('a'), 0);
  assert.strictEqual(L.layerOf.get('b'), 1);
  assert.strictEqual(L.layerOf.get('c'), 2);
});

test('200-task chain', () => {
  const tasks = Array.from({ length: 200 }, (_, i) => ({ task_id: `t${i}`, upstream_task_ids: i ? [`t${i - 1}`] : [] }));
  const t0 = Date.now();
  const G = graphLayout(tasks);
  const ms = Date.now() - t0;
  assert.strictEqual(G.layers.length, 200);
  G.layers.forEach((l, i) => assert.deepStrictEqual(l, [`t${i}`]));
  assert.strictEqual(G.edges.length, 199);
  assert(G.width > 200 * 90 && G.height < 100, `${G.width}x${G.height}`);
  assert(ms < 200, `layout took ${ms} ms`);
  // shuffled input order gives the same layering
  const shuffled = tasks.slice().reverse();
  const L = layerTasks(shuffled);
  for (let i = 0; i < 200; i++) assert.strictEqual(L.layerOf.get(`t${i}`), i);
});

test('200 tasks wide fan and random DAG are fast', (t) => {
  const fan = [{ task_id: 'root' }].concat(
    Array.from({ length: 198 }, (_, i) => ({ task_id: `m${i}`, upstream_task_ids: ['root'] })),
    [{ task_id: 'end', upstream_task_ids: Array.from({ length: 198 }, (_, i) => `m${i}`) }]);
  const G = graphLayout(fan);
  assert.strictEqual(G.layers.length, 3);
  assert.strictEqual(G.layers[1].length, 198);
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const tasks = [];
  for (let i = 0; i < 200; i++) {
    const ups = [];
    for (let j = Math.max(0, i - 30); j < i; j++) if (rnd() < 0.06) ups.push(`r${j}`);
    tasks.push({ task_id: `r${i}`, upstream_task_ids: ups });
  }
  const t0 = Date.now();
  const L = layerTasks(tasks);
  const ms = Date.now() - t0;
  for (const [a, b] of L.edges) assert(L.layerOf.get(a) < L.layerOf.get(b), `${a}->${b}`);
  assert(ms < 500, `layering took ${ms} ms`);
  t.diagnostic(`random DAG: ${L.layers.length} layers, ${L.edges.length} edges, ${L.crossings} adjacent crossings, ${ms} ms`);
});

test('barycenter removes avoidable crossings', () => {
  // layer0: a, b ; layer1: x (from b), y (from a) listed so input order crosses
  const tasks = [{ task_id: 'a' }, { task_id: 'b' }, { task_id: 'x', upstream_task_ids: ['b'] }, { task_id: 'y', upstream_task_ids: ['a'] }];
  const L = layerTasks(tasks);
  assert.strictEqual(L.crossings, 0);
  const pos = (id) => L.layers[L.layerOf.get(id)].indexOf(id);
  assert((pos('a') < pos('b')) === (pos('y') < pos('x')));
});

test('cycles, unknown and self upstreams do not hang', () => {
  const L = layerTasks([{ task_id: 'a', upstream_task_ids: ['b', 'zz', 'a'] }, { task_id: 'b', upstream_task_ids: ['a'] }, { task_id: 'c' }]);
  assert.strictEqual(L.layers.flat().length, 3);
  assert.strictEqual(layerTasks([]).layers.length, 0);
  const G = graphLayout([]);
  assert(G.width > 0 && G.height > 0);
});

test('glyphs and state labels', () => {
  assert.strictEqual(stateGlyph('success'), '✓');
  assert.strictEqual(stateGlyph('failed'), '✗');
  assert.strictEqual(stateGlyph('running'), '▶');
  assert.strictEqual(stateGlyph('queued'), '◷');
  assert.strictEqual(stateGlyph('up_for_retry'), '↻');
  assert.strictEqual(stateGlyph('upstream_failed'), '⚠');
  assert.strictEqual(stateGlyph('skipped'), '⤼');
  assert.strictEqual(stateGlyph(null), '');
  assert.strictEqual(stateKey(null), 'none');
  assert.strictEqual(stateKey('none'), 'none');
  assert.strictEqual(stateKey('__proto__'), 'unknown');
  assert.strictEqual(stateKey('<script>'), 'unknown');
  assert.strictEqual(stateLabel('up_for_retry'), 'up for retry');
  assert.strictEqual(stateLabel(null), 'no status');
});

test('gantt scaling', () => {
  const tis = [
    { task_id: 'a', state: 'success', start_date: '2026-01-01T00:00:00+00:00', end_date: '2026-01-01T00:00:10+00:00', duration: 10 },
    { task_id: 'b', state: 'success', start_date: '2026-01-01T00:00:10+00:00', end_date: '2026-01-01T00:00:40+00:00', duration: 30 },
    { task_id: 'c', state: null, start_date: null, end_date: null },
  ];
  const m = ganttModel(tis, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:40+00:00', Date.parse('2026-01-02T00:00:00Z'));
  assert.strictEqual(m.rows[0].left, 0);
  assert.strictEqual(m.rows[0].width, 25);
  assert.strictEqual(m.rows[1].left, 25);
  assert.strictEqual(m.rows[1].width, 75);
  assert.strictEqual(m.rows[2].started, false);
  assert.strictEqual(m.rows[1].duration, 30);
  // running: bar to now, run without end
  const now = Date.parse('2026-01-01T00:01:00Z');
  const r = ganttModel([{ task_id: 'x', state: 'running', start_date: '2026-01-01T00:00:30Z', end_date: null }], '2026-01-01T00:00:00Z', null, now);
  assert.strictEqual(r.rows[0].left, 50);
  assert.strictEqual(r.rows[0].width, 50);
  assert.strictEqual(r.rows[0].duration, 30);
  // zero-length and no TI at all
  const z = ganttModel([{ task_id: 'q', state: 'success', start_date: '2026-01-01T00:00:00Z', end_date: '2026-01-01T00:00:00Z' }], null, null, now);
  assert(z.rows[0].width > 0 && z.rows[0].left + z.rows[0].width <= 100);
  assert.strictEqual(ganttModel([], null, null, now).start, null);
});

test('formatting, paging, ranges, conf', () => {
  assert.strictEqual(fmtDate('2026-01-02T03:04:05+00:00'), '2026-01-02 03:04:05');
  assert.strictEqual(fmtDate('2026-01-02T03:04:05+02:00'), '2026-01-02 01:04:05');
  assert.strictEqual(fmtDate(null), '—');
  assert.strictEqual(fmtShortDate('2026-11-02T03:04:05Z'), '11-02 03:04');
  assert.strictEqual(fmtDuration(3.21), '3.2s');
  assert.strictEqual(fmtDuration(75), '1m 15s');
  assert.strictEqual(fmtDuration(3725), '1h 02m');
  assert.strictEqual(fmtDuration(null), '—');
  assert.strictEqual(spanSeconds('2026-01-01T00:00:00Z', '2026-01-01T00:00:30Z', 0), 30);
  assert.strictEqual(spanSeconds('2026-01-01T00:00:00Z', null, Date.parse('2026-01-01T00:01:00Z')), 60);
  assert.strictEqual(spanSeconds(null, null, 0), null);
  assert.strictEqual(pageText(0, 25, 1000), '1-25 of 1000');
  assert.strictEqual(pageText(975, 25, 1000), '976-1000 of 1000');
  assert.strictEqual(pageText(0, 0, 0), '0 of 0');
  assert.deepStrictEqual(parseContentRange('bytes 10-19/100'), { start: 10, end: 19, size: 100 });
  assert.strictEqual(parseContentRange('bytes */100'), null);
  assert.strictEqual(queryString({ dag_id: ['a b', '<x>&'], limit: 5, q: '', z: undefined }), 'dag_id=a+b&dag_id=%3Cx%3E%26&limit=5');
  assert.deepStrictEqual(parseConf('{"a": 1}'), { conf: { a: 1 } });
  assert.deepStrictEqual(parseConf('  '), { conf: {} });
  assert(parseConf('[1]').error);
  assert(parseConf('null').error);
  assert(parseConf('"s"').error);
  assert(parseConf('{').error);
});

test('routes and hrefs round-trip odd ids', () => {
  const odd = 'a/b?c#d%e <script>"\'';
  const run = 'manual__2026-01-01T00:00:00+00:00';
  assert.deepStrictEqual(parseRoute(''), { name: 'dags' });
  assert.deepStrictEqual(parseRoute('#/'), { name: 'dags' });
  assert.strictEqual(parseRoute('#main'), null);
  assert.deepStrictEqual(parseRoute(hrefs.dag(odd)), { name: 'dag', dagId: odd, tab: 'grid' });
  assert.deepStrictEqual(parseRoute(hrefs.dag(odd, 'graph')), { name: 'dag', dagId: odd, tab: 'graph' });
  assert.deepStrictEqual(parseRoute(hrefs.run(odd, run)), { name: 'dag', dagId: odd, tab: 'run', runId: run });
  assert.deepStrictEqual(parseRoute(hrefs.ti(odd, run, odd)), { name: 'dag', dagId: odd, tab: 'ti', runId: run, taskId: odd });
  assert.strictEqual(parseRoute('#/dags/%E0%A4%A').name, 'notfound');
  assert.strictEqual(parseRoute('#/nope').name, 'notfound');
  assert.strictEqual(parseRoute('#/dags/x/runs/r/tasks').name, 'notfound');
  assert(!hrefs.ti(odd, run, odd).slice(1).includes('#'));
});

test('own() ignores prototype keys', () => {
  const o = JSON.parse('{"__proto__": [1], "a": 2}');
  assert.deepStrictEqual(own(o, '__proto__'), [1]);
  assert.strictEqual(own({}, '__proto__'), undefined);
  assert.strictEqual(own({}, 'constructor'), undefined);
  assert.strictEqual(own(null, 'a'), undefined);
});

// ---- The UI files as a whole ------------------------------------------------

const uiScripts = () => readdirSync(UI_DIR).filter((f) => f.endsWith('.js')).sort();

test('every module is embedded, and every import names an embedded module', () => {
  const m = /set\(DWFS_UI_ASSETS([^)]*)\)/.exec(readFileSync(CMAKE, 'utf8'));
  assert(m, 'set(DWFS_UI_ASSETS ...) in CMakeLists.txt');
  const listed = m[1].trim().split(/\s+/);
  for (const f of uiScripts()) assert(listed.includes(f), `src/ui/${f} is missing from DWFS_UI_ASSETS`);
  for (const f of listed) assert(readdirSync(UI_DIR).includes(f), `DWFS_UI_ASSETS lists ${f}, which src/ui lacks`);
  for (const f of uiScripts()) {
    for (const [, spec] of readFileSync(new URL(f, UI_DIR), 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm)) {
      assert.match(spec, /^\.\/[\w-]+\.js$/, `${f} imports ${spec}: only ./<file>.js of src/ui is served`);
      assert(listed.includes(spec.slice(2)), `${f} imports ${spec}, which is not embedded`);
    }
  }
  for (const page of ['index.html', 'login.html']) {
    assert.match(readFileSync(new URL(page, UI_DIR), 'utf8'), /<script type="module" src="\/ui\/main\.js"><\/script>/, page);
  }
});

test('no HTML parsing or eval in the UI', () => {
  const files = readdirSync(UI_DIR).filter((f) => /\.(js|html)$/.test(f));
  for (const f of files) {
    const text = readFileSync(new URL(f, UI_DIR), 'utf8');
    const bad = /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new Function\s*\(/.exec(text);
    assert.strictEqual(bad, null, `${f}: ${bad && bad[0]}`);
  }
});

test('the entry links, and is the only module that needs a document at import', async () => {
  // Linking fails (SyntaxError) on an import of a name a module does not
  // export; main.js then runs and stops at its first use of document.
  await assert.rejects(import('../../src/ui/main.js'), (e) => e instanceof ReferenceError && /document/.test(e.message));
  for (const f of uiScripts().filter((x) => x !== 'main.js')) await import(new URL(f, UI_DIR).href);
});
