/*
 * The DAG list (#/): search, All/Active/Paused, tag filters, paging, one row
 * per DAG (tags, schedule, pause toggle, last and next run, recent runs as
 * dots) and the import errors banner. The filter state and the DAG-level
 * controls (schedule text, pause toggle) are shared with the DAG page.
 */
import { api, canEdit, dagPath, messages, report } from './api.js';
import { h, makePager, preserveFocus, runDot, setAttr, setText, stateBadge, tagName } from './dom.js';
import { PAGE_SIZE, fmtDate, own, stateLabel } from './format.js';
import { POLL_MS, hrefs, loader, newCtx, poller } from './router.js';

export const listState = { q: '', tags: [], paused: null, offset: 0 };

export function dagListView() {
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

export function scheduleText(dag) {
  const si = dag.schedule_interval;
  if (si && typeof si === 'object' && si.value !== undefined && si.value !== null) return String(si.value);
  if (typeof si === 'string' && si) return si;
  return 'None';
}

export function pauseButton(paused, props) {
  const b = h('button', Object.assign({ type: 'button', class: 'pause-toggle' }, props));
  setPauseButton(b, paused);
  if (!canEdit()) b.disabled = true;
  return b;
}
export function setPauseButton(b, paused) {
  setAttr(b, 'aria-pressed', String(!!paused));
  setText(b, paused ? 'Paused' : 'Active');
  setAttr(b, 'title', canEdit() ? (paused ? 'Paused: click to unpause' : 'Active: click to pause') : (paused ? 'Paused' : 'Active'));
}
/** PATCH is_paused, optimistic; then refresh whichever view asked. */
export async function togglePause(dagId, button, after) {
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
