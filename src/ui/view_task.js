/*
 * The task instance page: details, tries, rendered template, XCom, the log
 * of the selected try (followed live through HTTP ranges), and clear and
 * mark success/failed for those who may edit.
 */
import { api, canEdit, dagPath, messages, problemOf, report, request, tiPath } from './api.js';
import { definitionList, h, preserveFocus, setStateBadge, setText, stateBadge } from './dom.js';
import {
  GLYPHS, LIVE_STATES, enc, fmtDate, fmtDuration, parseContentRange, spanSeconds, stateKey, stateLabel,
} from './format.js';
import { hrefs, loader, newCtx } from './router.js';

const LOG_TAIL_BYTES = 1024 * 1024;   // first log fetch: at most the last MiB
const TI_POLL_MS = 2000;              // task instance page: live log tail

export function tiSub(dagId, runId, taskId) {
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
