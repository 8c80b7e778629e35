/*
 * The grid tab: tasks as rows, the latest runs as columns (oldest left),
 * one button per task instance with its state's glyph. Arrow keys move a
 * roving tabindex; polls update cells in place while the shape is the
 * same, so focus, scroll and hover survive.
 */
import { api } from './api.js';
import { h, legend, runDot, setText } from './dom.js';
import { GLYPHS, enc, fmtDate, fmtShortDate, own, stateKey, stateLabel } from './format.js';
import { hrefs, loader, newCtx } from './router.js';

const GRID_LIMITS = [25, 50, 100];
const gridPrefs = { limit: 25 };   // the runs shown, kept across DAGs

export function gridSub(dagId) {
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
