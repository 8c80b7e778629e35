/*
 * The DAG page (#/dags/{id}[/...]): header (description, tags, pause,
 * trigger), details, tabs, and the sub view of the route (grid, graph,
 * code, runs, one run, one task instance) below them; the code tab; the
 * trigger dialog (static <dialog id="trigger-dialog"> in index.html).
 */
import { api, canEdit, dagPath, messages } from './api.js';
import { $, definitionList, h, preserveFocus, setText, tagName } from './dom.js';
import { enc, fmtDate, parseConf } from './format.js';
import { graphSub } from './graph.js';
import { POLL_MS, focusHeading, hrefs, loader, newCtx, poller, refreshNow } from './router.js';
import { gridSub } from './view_grid.js';
import { listState, pauseButton, scheduleText, setPauseButton, togglePause } from './view_list.js';
import { runSub, runsSub } from './view_runs.js';
import { tiSub } from './view_task.js';

const RUN_ID_RE = /^[A-Za-z0-9_.~:+-]{1,250}$/;
const TABS = [['grid', 'Grid'], ['graph', 'Graph'], ['code', 'Code'], ['runs', 'Runs']];

export function dagShell(first) {
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
    trig.addEventListener('click', () => openTrigger(dagId, trig, params));
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
  let params = {};  // the DAG's params: the trigger form's starting conf
  function apply(dag) {
    if (dag.params && typeof dag.params === 'object' && !Array.isArray(dag.params)) params = dag.params;
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

// ---- Code tab ------------------------------------------------------------------

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

// ---- Trigger dialog (static <dialog id="trigger-dialog"> in index.html) ---------

let triggerFor = null;   // {dagId, opener}
function openTrigger(dagId, opener, params) {
  const dlg = $('#trigger-dialog');
  triggerFor = { dagId, opener };
  $('#trigger-dag-id').textContent = dagId;
  $('#trigger-conf').value = params && Object.keys(params).length ? JSON.stringify(params, null, 2) : '{}';
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
export function wireTriggerDialog() {
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
