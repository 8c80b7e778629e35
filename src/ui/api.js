/*
 * The API client and what goes with it: the session (user, role, CSRF
 * token), fetch with the CSRF header on state changes, 401 to the login
 * page (remembering where the user was), RFC 7807 problems as ApiError,
 * the paths of DAGs, runs and task instances, and the messages: the error
 * bar (#error-bar) and the status line (#status).
 */
import { $, h } from './dom.js';
import { enc, queryString } from './format.js';

export const session = { user: '', role: '', csrf: '' };
export const canEdit = () => session.role === 'Admin' || session.role === 'Op';

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail || '';
  }
}

function goLogin() {
  try {
    if (location.hash.startsWith('#/') && location.hash !== '#/') sessionStorage.setItem('dwfs.next', location.hash);
  } catch (e) { /* storage may be disabled */ }
  location.assign('/login');
}

export async function problemOf(res) {
  let title = `HTTP ${res.status}`;
  let detail = res.statusText || '';
  try {
    const text = await res.text();
    try {
      const p = JSON.parse(text);
      if (p && typeof p === 'object') {
        if (p.title) title = String(p.title);
        detail = p.detail !== undefined && p.detail !== null ? String(p.detail) : '';
      }
    } catch (e) {
      if (text && text.length < 300) detail = text.trim();
    }
  } catch (e) { /* body unreadable */ }
  return new ApiError(res.status, title, detail);
}

/**
 * fetch with the session cookie; POST/PATCH/DELETE carry the CSRF token
 * and a JSON body. 401 goes to the login page. raw: return the Response.
 */
export async function request(method, path, opts) {
  const o = opts || {};
  const url = o.query ? `${path}?${queryString(o.query)}` : path;
  const headers = Object.assign({ Accept: 'application/json' }, o.headers);
  const init = { method, credentials: 'same-origin', headers, signal: o.signal, cache: 'no-store' };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['X-CSRF-Token'] = session.csrf;
    headers['Content-Type'] = 'application/json';
    if (o.body !== undefined) init.body = JSON.stringify(o.body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'Network error', 'the server did not answer');
  }
  if (res.status === 401) {
    goLogin();
    const e = new ApiError(401, 'Unauthorized');
    e.silent = true;
    throw e;
  }
  if (o.raw) return res;
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return null;
  const ct = res.headers.get('Content-Type') || '';
  return ct.includes('json') ? res.json() : res.text();
}
export const api = {
  get: (p, o) => request('GET', p, o),
  post: (p, body, o) => request('POST', p, Object.assign({}, o, { body })),
  patch: (p, body, o) => request('PATCH', p, Object.assign({}, o, { body })),
};
export const dagPath = (d) => `/api/v1/dags/${enc(d)}`;
export const runPath = (d, r) => `${dagPath(d)}/dagRuns/${enc(r)}`;
export const tiPath = (d, r, t) => `${runPath(d, r)}/taskInstances/${enc(t)}`;

// Error bar (#error-bar, aria-live) and status line (#status).
export const messages = {
  dismissed: null,    // a poll error the user dismissed: not shown again until polls recover
  statusTimer: 0,
  error(msg, fromPoll) {
    const bar = $('#error-bar');
    if (!bar || (fromPoll && msg === this.dismissed)) return;
    const cur = $('#error-text', bar);
    bar.setAttribute('data-source', fromPoll ? 'poll' : 'action');
    if (cur && cur.textContent === msg) return;
    bar.replaceChildren(
      h('span', { class: 'error-icon', 'aria-hidden': 'true' }, '⚠'),
      h('span', { id: 'error-text' }, msg),
      h('button', { type: 'button', id: 'error-dismiss', class: 'icon-button', 'aria-label': 'Dismiss error', title: 'Dismiss' }, '✕'));
  },
  dismiss() {
    const bar = $('#error-bar');
    const cur = $('#error-text', bar);
    if (cur && bar.getAttribute('data-source') === 'poll') this.dismissed = cur.textContent;
    bar.replaceChildren();
  },
  pollOk() {
    this.dismissed = null;
    const bar = $('#error-bar');
    if (bar && bar.getAttribute('data-source') === 'poll' && bar.firstChild) bar.replaceChildren();
  },
  status(msg) {
    const el = $('#status');
    if (!el) return;
    el.textContent = msg;
    clearTimeout(this.statusTimer);
    this.statusTimer = setTimeout(() => { el.textContent = ''; }, 6000);
  },
};
export function report(e, fromPoll) {
  if (!e || e.name === 'AbortError' || e.silent) return;
  messages.error(e.message || String(e), !!fromPoll);
}
