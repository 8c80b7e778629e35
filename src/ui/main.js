/*
 * The entry of the web UI's pages (<script type="module" src="/ui/main.js">
 * in login.html and index.html): the login form, or the app: header, error
 * bar, trigger dialog, session, then the router with the view of each
 * route.
 */
import { api, canEdit, messages, report, session } from './api.js';
import { $, h } from './dom.js';
import { poller, startRouter } from './router.js';
import { dagShell, wireTriggerDialog } from './view_dag.js';
import { dagListView } from './view_list.js';

function notFoundView() {
  document.title = 'Not found · dwfs';
  return {
    el: h('div', { class: 'view' }, h('h1', { tabindex: '-1' }, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the DAG list'))),
    start() {},
    destroy() {},
  };
}

/** The view of a route (router.js mounts it). */
function viewFor(r) {
  return r.name === 'dags' ? dagListView() : r.name === 'dag' ? dagShell(r) : notFoundView();
}

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
  startRouter(viewFor);
}

function boot() {
  if (document.body.getAttribute('data-page') === 'login') bootLogin();
  else if ($('#view')) bootApp();
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
