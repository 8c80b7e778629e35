/*
 * A DAG's runs: the runs tab (newest first, by state, paged) and one run's
 * page (details, conf, and a Gantt chart of its task instances). The Gantt
 * model is pure (node tests import it).
 */
import { api, dagPath, runPath } from './api.js';
import { definitionList, h, makePager, preserveFocus, setStateBadge, setText, stateBadge } from './dom.js';
import {
  GLYPHS, LIVE_STATES, PAGE_SIZE, fmtDate, fmtDuration, parseTime, spanSeconds, stateKey, stateLabel,
} from './format.js';
import { hrefs, loader, newCtx } from './router.js';

const RUN_STATES = ['queued', 'running', 'success', 'failed'];

/**
 * Gantt bars for a run: each TI from start_date to end_date (now while
 * running), scaled to the span [run start or first TI start, run end or
 * now]. left/width are percentages.
 */
export function ganttModel(tis, runStart, runEnd, nowMs) {
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

// ---- Runs tab ------------------------------------------------------------------

export function runsSub(dagId) {
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

// ---- One run: details and Gantt -----------------------------------------------

export function runSub(dagId, runId) {
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
