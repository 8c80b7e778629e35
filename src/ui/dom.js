/*
 * DOM helpers and small widgets: element builders (h for HTML, s for SVG),
 * text and attribute setters that touch the DOM only on change, focus kept
 * across rebuilds, state badges, dots and legend, the pager, definition
 * lists.
 *
 * Security rules kept everywhere: data reaches the DOM only through
 * textContent, text nodes and setAttribute with fixed attribute names;
 * hrefs are built from encodeURIComponent'd segments; no HTML parsing of
 * data, no inline styles in markup (element.style from JS only), no eval.
 * Nothing here touches the DOM at import time (node tests import it).
 */
import { GLYPHS, LEGEND_STATES, PAGE_SIZE, pageText, stateKey, stateLabel } from './format.js';

export const $ = (sel, root) => (root || document).querySelector(sel);
const SVGNS = 'http://www.w3.org/2000/svg';

function appendKids(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) appendKids(el, k);
    else if (k instanceof Node) el.append(k);
    else el.append(document.createTextNode(String(k)));
  }
}
function setProps(el, props) {
  if (!props) return;
  for (const [k, v] of Object.entries(props)) {     // keys are always literals in this file
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}
/** createElement with attributes (fixed names) and text/node children. */
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  setProps(el, props);
  appendKids(el, kids);
  return el;
}
export function s(tag, props, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  setProps(el, props);
  appendKids(el, kids);
  return el;
}
/** Sets textContent only when it changes (keeps selections and avoids work). */
export function setText(el, text) {
  const t = String(text);
  if (el.textContent !== t) el.textContent = t;
}
export function setAttr(el, name, value) {
  const v = String(value);
  if (el.getAttribute(name) !== v) el.setAttribute(name, v);
}

/**
 * Runs fn (which rebuilds part of container) and gives focus back to the
 * element carrying the same data-fkey, if the focused one was replaced.
 */
export function preserveFocus(container, fn) {
  const a = document.activeElement;
  const key = a && a !== document.body && container.contains(a) ? a.getAttribute('data-fkey') : null;
  fn();
  if (key === null || document.contains(a)) return;
  for (const el of container.querySelectorAll('[data-fkey]')) {
    if (el.getAttribute('data-fkey') === key) { el.focus({ preventScroll: true }); break; }
  }
}

export function stateBadge(state, props) {
  const el = h('span', Object.assign({ class: 'state-badge' }, props));
  setStateBadge(el, state);
  return el;
}
export function setStateBadge(el, state) {
  const k = stateKey(state);
  const label = stateLabel(state);
  if (el.getAttribute('data-state') === k && el.getAttribute('data-label') === label) return;
  el.setAttribute('data-state', k);
  el.setAttribute('data-label', label);
  el.replaceChildren(h('span', { class: 'glyph', 'aria-hidden': 'true' }, GLYPHS[k]), h('span', { class: 'state-text' }, label));
}
export function runDot(state) {
  const k = stateKey(state);
  return h('span', { class: 'run-dot', 'data-state': k, 'aria-hidden': 'true' }, GLYPHS[k]);
}
export function legend(id) {
  return h('ul', { class: 'legend', id, 'aria-label': 'State legend' },
    LEGEND_STATES.map((st) => h('li', {}, stateBadge(st === 'none' ? null : st))));
}
export const tagName = (t) => String(t && typeof t === 'object' ? t.name : t);

/** Pager with #page-prev / #page-info / #page-next; only one is ever on screen. */
export function makePager(onPage) {
  const prev = h('button', { type: 'button', id: 'page-prev', class: 'button', 'aria-disabled': 'true' }, '‹ Previous');
  const next = h('button', { type: 'button', id: 'page-next', class: 'button', 'aria-disabled': 'true' }, 'Next ›');
  const info = h('span', { id: 'page-info', class: 'page-info' }, '');
  let st = { offset: 0, count: 0, total: 0 };
  prev.addEventListener('click', () => { if (st.offset > 0) onPage(Math.max(0, st.offset - PAGE_SIZE)); });
  next.addEventListener('click', () => { if (st.offset + st.count < st.total) onPage(st.offset + PAGE_SIZE); });
  return {
    el: h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, info, next),
    update(offset, count, total) {
      st = { offset, count, total };
      setText(info, pageText(offset, count, total));
      // aria-disabled (not disabled) so a focused button keeps focus on the last page
      setAttr(prev, 'aria-disabled', String(offset <= 0));
      setAttr(next, 'aria-disabled', String(offset + count >= total));
    },
  };
}

export function definitionList(id, pairs) {
  const dl = h('dl', { class: 'meta', id });
  for (const [label, value] of pairs) dl.append(h('div', { class: 'meta-item' }, h('dt', {}, label), h('dd', {}, value)));
  return dl;
}
