/*
 * Pure text helpers of the web UI (no DOM, so node tests import them):
 * task and run states (key, glyph, label), dates and durations in UTC,
 * paging text, query strings, HTTP content ranges, the trigger dialog's
 * conf, own-property lookup and URL segment encoding.
 */

/** One glyph per state, so colour is never the only cue. */
export const GLYPHS = Object.freeze({
  success: '✓', failed: '✗', running: '▶', queued: '◷', scheduled: '◷',
  up_for_retry: '↻', upstream_failed: '⚠', skipped: '⤼', removed: '⊘',
  none: '', unknown: '?',
});
export const LEGEND_STATES = ['success', 'failed', 'running', 'queued', 'scheduled',
  'up_for_retry', 'upstream_failed', 'skipped', 'removed', 'none'];
export const LIVE_STATES = new Set(['running', 'queued']);
/** Rows per page of the DAG list and the runs tab. */
export const PAGE_SIZE = 25;

const hasOwn = (o, k) => o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k);
/** obj[key] only for own properties (ids like "__proto__" stay harmless). */
export const own = (o, k) => (hasOwn(o, k) ? o[k] : undefined);

/** A state name safe for data-state: a known state, "none" or "unknown". */
export function stateKey(s) {
  if (s === null || s === undefined || s === '' || s === 'none') return 'none';
  return hasOwn(GLYPHS, s) && s !== 'unknown' ? s : 'unknown';
}
export function stateGlyph(s) { return GLYPHS[stateKey(s)]; }
export function stateLabel(s) {
  return stateKey(s) === 'none' ? 'no status' : String(s).replace(/_/g, ' ');
}

function pad2(n) { return String(n).padStart(2, '0'); }
export function parseTime(v) {
  if (!v) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}
/** "2026-01-02 03:04:05" in UTC, "—" for null. */
export function fmtDate(iso) {
  const t = parseTime(iso);
  if (t === null) return iso ? String(iso) : '—';
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}
/** "01-02 03:04" in UTC (grid column heads). */
export function fmtShortDate(iso) {
  const t = parseTime(iso);
  if (t === null) return '—';
  const d = new Date(t);
  return `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || sec === '' || !Number.isFinite(Number(sec))) return '—';
  sec = Math.max(0, Number(sec));
  if (sec < 10) return `${sec.toFixed(1)}s`;
  if (sec < 60) return `${Math.round(sec)}s`;
  const s = Math.round(sec);
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), ss = s % 60;
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${pad2(m)}m`;
  return `${m}m ${pad2(ss)}s`;
}
/** Seconds from start to end (or to now while unfinished), null when not started. */
export function spanSeconds(start, end, nowMs) {
  const s = parseTime(start);
  if (s === null) return null;
  const e = parseTime(end);
  return ((e === null ? nowMs : e) - s) / 1000;
}
export function pageText(offset, count, total) {
  if (!total || !count) return `0 of ${total || 0}`;
  return `${offset + 1}-${offset + count} of ${total}`;
}
export function queryString(q) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q || {})) {
    if (Array.isArray(v)) v.forEach((x) => p.append(k, String(x)));
    else if (v !== undefined && v !== null && v !== '') p.append(k, String(v));
  }
  return p.toString();
}
/** "bytes 10-19/100" -> {start: 10, end: 19, size: 100}; size null for "*". */
export function parseContentRange(v) {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/.exec(String(v || '').trim());
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), size: m[3] === '*' ? null : Number(m[3]) };
}
/** Checks the trigger dialog's conf text: {conf} or {error}. */
export function parseConf(text) {
  const t = String(text || '').trim();
  if (!t) return { conf: {} };
  let v;
  try { v = JSON.parse(t); } catch (e) { return { error: `Conf is not valid JSON: ${e.message}` }; }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'Conf must be a JSON object, like {"key": "value"}.' };
  return { conf: v };
}

export const enc = (s) => encodeURIComponent(String(s));
