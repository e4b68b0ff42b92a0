// Small DOM helpers: no framework, no bundler.
import { siteKindChoices } from './vocab.js';

/** h('div', {class: 'x', onclick: f}, child, …) makes an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    // Through the CSSOM: the CSP (style-src 'self') blocks style attributes.
    else if (k === 'style') { if (typeof v === 'string') el.style.cssText = v; else Object.assign(el.style, v); }
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden') el[k] = v;
    // Not the browser's maxlength, which cuts a paste short without a
    // word (field app probe: the end of a 2,300-character note lost) and
    // counts a rare character as two: kept as data-maxlen, the forms
    // refuse to save past it, saying by how much (limits.js tooLong).
    else if (k === 'maxlength') el.dataset.maxlen = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** badges lays out status badges (nulls left out) one after another, with
 *  a pause a screen reader says between two: side by side they were read
 *  as one phrase (已退回，待修改有修改待上传; a11y probe). */
export function badges(...list) {
  return list.flat().filter(Boolean).flatMap((b, i) => (i ? [h('span', { class: 'sr-only sep' }, '；'), b] : [b]));
}

/** segmented is a row of buttons of which one (or none) is chosen — an
 *  item's 合格 / 不合格 / 不适用, a truck's fuel —, named title for a
 *  screen reader, which says each button pressed or not (aria-pressed),
 *  as its look (class on) shows it. */
export function segmented(title, attrs, buttons) {
  return h('div', { ...attrs, class: 'seg', role: 'group', 'aria-label': title }, buttons);
}

/** pressed marks button b of a segmented row chosen (on) or not. */
export function pressed(b, on) {
  b.classList.toggle('on', on);
  b.setAttribute('aria-pressed', String(on));
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** toast shows a short message; bad ones in red and for longer. A toast
 *  of the same kind (by default: the same message) takes the place of the
 *  one still shown: a sync, a save, a refusal is said once, not in a
 *  stack of copies. */
export function toast(msg, bad = false, kind = '') {
  const box = document.getElementById('toast');
  const k = kind || String(msg);
  const el = h('div', { class: bad ? 'bad' : '', dataset: { kind: k } }, msg);
  const old = [...box.children].find((x) => x.dataset.kind === k);
  if (old) old.replaceWith(el); else box.append(el);
  // Long enough to be read, longer the longer it is: a warning of 51
  // characters went in 2.5 s (a11y probe: a low-vision inspector reads
  // through a magnifier).
  const len = String(el.textContent || '').length;
  setTimeout(() => el.remove(), Math.min(12000, Math.max(bad ? 6000 : 2500, 1500 + 90 * len)));
}

let errSeq = 0;

/** markField ties field f to the error paragraph err (its description)
 *  and marks it invalid while on: a screen reader coming back to the
 *  field hears what is wrong with it, not only once in an alert (a11y
 *  probe). */
export function markField(f, err, on) {
  if (!(f instanceof HTMLElement)) return;
  if (!err.id) err.id = 'err-' + ++errSeq;
  const ids = (f.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  if (!ids.includes(err.id)) f.setAttribute('aria-describedby', [...ids, err.id].join(' '));
  if (on) f.setAttribute('aria-invalid', 'true');
  else f.removeAttribute('aria-invalid');
}

/** tieError marks fields (markField) invalid whenever the error paragraph
 *  err says something, and valid when it is emptied, however its text is
 *  set. */
export function tieError(err, ...fields) {
  const set = () => { for (const f of fields) markField(f, err, (err.textContent || '').trim() !== ''); };
  set();
  new MutationObserver(set).observe(err, { childList: true, characterData: true, subtree: true });
  return err;
}

/** foldUser is a username as the server matches it at sign-in (and the
 *  SDK): full-width letters as ASCII, no spaces around it, lower case. */
export function foldUser(name) {
  return String(name).replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).trim().toLowerCase();
}

/** banner shows (or with null hides) a message under the title bar. */
export function banner(content) {
  const b = document.getElementById('banner');
  b.replaceChildren();
  if (content == null) { b.hidden = true; return; }
  append(b, [content]);
  b.hidden = false;
}

let labels = 0;

/** label is a form field's visible label, tied to control (given an id if
 *  it has none), so that a screen reader names the control by it. */
export function label(text, control, attrs = {}) {
  if (!control.id) control.id = 'f-' + ++labels;
  // A required field's star is drawn, and said as （必填）: read aloud it
  // was "星号" (verification probe), as the checklist's items say it.
  const star = /\s*\*$/.exec(text);
  const body = star ? [text.slice(0, star.index), h('span', { class: 'req', 'aria-hidden': 'true' }, ' *'), h('span', { class: 'sr-only' }, '（必填）')] : text;
  return h('label', { class: 'field', for: control.id, ...attrs }, body);
}

// The clock record times are stamped with: the SDK's client.now() once a
// user is signed in (the phone's clock corrected to the server's, sync.md
// §7), else the phone's.
let clock = () => Date.now();

/** useClock sets the clock of now() (null: the phone's own). */
export function useClock(fn) {
  clock = fn || (() => Date.now());
}

/** now is the time in ms since the epoch by the server's clock, as far as
 *  the phone knows it: record times and deadlines are counted from it. */
export function now() {
  return clock();
}

const pad = (n) => String(n).padStart(2, '0');

/** chinaTime formats ms since the epoch as RFC 3339 in +08:00 (record times). */
export function chinaTime(ms = now()) {
  const d = new Date(ms + 8 * 3600e3);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+08:00`;
}

/** chinaDate is the date (YYYY-MM-DD) in China, days after ms. */
export function chinaDate(ms = now(), days = 0) {
  return chinaTime(ms + days * 86400e3).slice(0, 10);
}

/** daysBetween counts calendar days from date a to date b (YYYY-MM-DD). */
export function daysBetween(a, b) {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86400e3);
}

/** when shows a time for people: 今天 10:05, 昨天 18:30, 11月28日 09:00. */
export function when(t) {
  if (t == null) return '';
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) return String(t);
  const s = chinaTime(ms), today = chinaDate(), hm = s.slice(11, 16);
  if (s.slice(0, 10) === today) return '今天 ' + hm;
  if (s.slice(0, 10) === chinaDate(now(), -1)) return '昨天 ' + hm;
  return `${Number(s.slice(5, 7))}月${Number(s.slice(8, 10))}日 ${hm}`;
}

/** bytes shows a size: 3.2 MB, 512 KB. */
export function bytes(n) {
  if (!n) return '0 KB'; // a size, even of nothing (a bare 0 read as a count)
  if (n >= 1e6) return (n / 1e6).toFixed(1) + ' MB';
  if (n >= 1e3) return Math.round(n / 1e3) + ' KB';
  return n + ' B';
}

/** store is localStorage when the browser allows it, else memory. */
const mem = new Map();
export const store = {
  get(k) { try { return localStorage.getItem(k); } catch { return mem.has(k) ? mem.get(k) : null; } },
  set(k, v) { try { localStorage.setItem(k, v); } catch { mem.set(k, v); } },
  del(k) { try { localStorage.removeItem(k); } catch { mem.delete(k); } },
};

// siteKinds maps each site kind to its label (syncproto.SiteKinds).
export const siteKinds = Object.fromEntries(siteKindChoices.map((c) => [c.code, c.label]));

export const statusNames = { draft: '草稿', submitted: '已提交，待审核', returned: '已退回，待修改', approved: '已审核通过' };

export const flagTitles = {
  no_gps: '无 GPS 位置', far_from_site: '远离点位', time_mismatch: '拍摄时间存疑', position_mismatch: '照片位置与定位不符', mock_location: '疑似虚拟定位',
  edited: '经过编辑软件处理', duplicate: '与其他记录重复', duplicate_item: '同一照片用于多个检查项',
  near_duplicate: '与其他点位照片近似', unreadable: '无法读取',
  signature_invalid: '拍摄签名无效', refused: '文件被服务器拒收',
};

/** flagTitle names evidence flag k of a photo, with what the server
 *  said of it (detail): a photo without EXIF GPS placed by the phone's own
 *  position is not "without a position" to the inspector who took it. */
export function flagTitle(k, detail) {
  if (k === 'no_gps' && detail && detail.invalid_gps === true) return detail.device_location === true ? '照片 GPS 坐标无效（已用手机定位）' : '照片 GPS 坐标无效';
  if (k === 'no_gps' && detail && detail.device_location === true) return '照片无 GPS（已用手机定位）';
  return flagTitles[k] || k;
}

// captureTitles name the server's check of a photo's capture signature
// (the photo's capture.status, signed-captures.md).
export const captureTitles = {
  signed: '应用内拍摄，签名有效', not_in_app: '非应用内拍摄（相册选取或其他设备）', invalid: '签名无效：照片或拍摄信息与签名不符',
  revoked_key: '签名无效：签名设备已停用', unknown_key: '签名无法验证：签名密钥未登记',
};

export const severityNames = { minor: '一般', major: '较重', critical: '严重' };
export const findingStatusNames = { open: '待整改', rectifying: '整改中', rectified: '已整改', verified: '已核实' };

/** The control that had the focus when it was drawn again disabled (立即
 *  同步 while its sync runs): focused again once drawn enabled, unless
 *  the user went elsewhere meanwhile (resumeFocus). */
let pendingFocus = '';

/** focusOf is a selector of the control focused in root that finds the
 *  same control in root drawn again (its id, or its tag, name and data
 *  attributes), or null when none in root has the focus: a keyboard or
 *  screen reader user whose answer was saved was thrown to the top of
 *  the page by the page drawn again (a11y probe). */
export function focusOf(root) {
  const a = document.activeElement;
  return a instanceof HTMLElement ? selectorOf(root, a) : null;
}

/** selectorOf is a selector of element a in root that finds the same
 *  element in root drawn again: its id, or its tag, name and data
 *  attributes within its nearest ancestor that has an id (an item's card:
 *  a 合格 is one of every item's, and the first item's was taken for the
 *  one pressed, verification probe), or null. */
export function selectorOf(root, a) {
  if (!(a instanceof HTMLElement) || a === root || !root.contains(a)) return null;
  // Not an id label() made (f-N): the next draw numbers its fields anew.
  if (a.id && !/^f-\d+$/.test(a.id)) return '#' + CSS.escape(a.id);
  let sel = a.tagName.toLowerCase();
  for (const name of a.getAttributeNames()) {
    if (name.startsWith('data-') || name === 'name') sel += `[${name}="${CSS.escape(a.getAttribute(name) || '')}"]`;
  }
  if (sel === a.tagName.toLowerCase()) return null;
  const within = a.parentElement?.closest('[id]');
  return within && within !== root && root.contains(within) ? `#${CSS.escape(within.id)} ${sel}` : sel;
}

/** refocus focuses the control sel (focusOf) in root drawn again, or,
 *  disabled there, once it is drawn enabled (resumeFocus); it says
 *  whether root has it. */
export function refocus(root, sel) {
  const again = root.querySelector(sel);
  if (!(again instanceof HTMLElement)) return false;
  if (again.hasAttribute('disabled')) pendingFocus = sel;
  else again.focus({ preventScroll: true });
  return true;
}

/** resumeFocus gives the focus back to the control refocus found
 *  disabled, now in root and enabled, if the focus has not gone
 *  elsewhere since. */
export function resumeFocus(root) {
  if (!pendingFocus) return;
  const a = document.activeElement;
  if (a && a !== document.body) {
    if (!root.contains(a) || !a.matches(pendingFocus)) pendingFocus = '';
    return;
  }
  const again = root.querySelector(pendingFocus);
  if (again instanceof HTMLElement && !again.hasAttribute('disabled')) {
    again.focus({ preventScroll: true });
    pendingFocus = '';
  }
}
