// Sites (点位) of the user's counties: search by name, filter by kind,
// sorted by distance from the current position; add a site found in the
// field.
import { uuidv7 } from '/app/sdk/fieldsync-sdk.js';
import { h, toast, label, siteKinds, store } from '../ui.js';
import { message } from '../errors.js';
import * as geo from '../geo.js';
import { draft, clearDraft, keepDrafts, keepInput } from '../drafts.js';
import { maxLen, tooLong } from '../limits.js';

const FILTER_KEY = 'fieldsync.sites.filter';

/** countyCodes returns the codes of the user's counties. */
export function countyCodes(client) {
  return (client.user?.counties || []).map((c) => (typeof c === 'string' ? c : c.code)).filter(Boolean);
}

export async function render(app) {
  const c = app.client;
  const [sites, counties] = await Promise.all([c.list('site'), c.list('county')]);
  const countyName = Object.fromEntries(counties.map((r) => [r.fields.code || r.id, r.fields.name]));
  const mine = countyCodes(c);
  const saved = JSON.parse(store.get(FILTER_KEY) || '{}');
  const q = h('input', { type: 'search', id: 'site-search', placeholder: '按名称搜索', 'aria-label': '按名称搜索点位', value: saved.q || '', enterkeyhint: 'search' });
  const kind = h('select', { id: 'site-kind', 'aria-label': '按类型筛选点位' }, h('option', { value: '' }, '全部类型'),
    Object.entries(siteKinds).map(([k, v]) => h('option', { value: k, selected: saved.kind === k }, v)));
  const list = h('ul', { class: 'list', id: 'site-list' });
  const where = h('p', { class: 'mute small', id: 'site-where' });
  // How many a search finds, read out as it changes (a11y probe).
  const found = h('p', { class: 'sr-only', role: 'status', id: 'site-count' });
  const live = sites.filter((s) => s.fields.active !== false && (!mine.length || mine.includes(s.fields.county)));

  const draw = () => {
    store.set(FILTER_KEY, JSON.stringify({ q: q.value, kind: kind.value }));
    const pos = geo.latest(10 * 60e3);
    const words = q.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const rows = live.filter((s) => (!kind.value || s.fields.kind === kind.value) &&
      words.every((w) => (s.fields.name + ' ' + (s.fields.address || '')).toLowerCase().includes(w)))
      .map((s) => {
        const p = geo.siteWGS84(s.fields);
        return { s, d: pos && p ? geo.distance(pos.lon, pos.lat, p[0], p[1]) : null };
      });
    rows.sort((a, b) => (a.d ?? Infinity) - (b.d ?? Infinity) || a.s.fields.name.localeCompare(b.s.fields.name, 'zh-CN'));
    where.textContent = pos ? `按与当前位置的距离排序（定位精度约 ${Math.round(pos.accuracy)} 米）`
      : geo.available ? '正在定位…（允许浏览器使用位置后按距离排序）' : '此浏览器不能定位，按名称排序';
    list.replaceChildren(...rows.slice(0, 200).map(({ s, d }) => h('li', {}, h('a', { class: 'item', href: '#/site/' + s.id, dataset: { id: s.id } },
      h('div', { class: 'name' }, s.fields.name, s.pending.length ? h('span', { class: 'badge pending' }, ' 待上传') : null),
      h('div', { class: 'mute small' }, siteKinds[s.fields.kind] || s.fields.kind, ' · ', countyName[s.fields.county] || s.fields.county,
        d != null ? ' · ' + geo.meters(d) : '', s.fields.address ? ' · ' + s.fields.address : '')))));
    if (!rows.length) list.replaceChildren(h('li', { class: 'item mute' }, live.length ? '没有符合条件的点位。' : '还没有点位数据：请联网同步一次。'));
    const count = rows.length ? `找到 ${rows.length} 个点位` : live.length ? '没有符合条件的点位' : '还没有点位数据';
    if (found.textContent !== count) found.textContent = count;
  };
  q.addEventListener('input', draw);
  kind.addEventListener('change', draw);
  const off = geo.onPosition(() => { if (document.body.contains(list)) draw(); else off(); });
  draw();
  return h('div', {},
    h('h1', {}, '点位'),
    h('div', { class: 'card' }, q, h('div', { class: 'gap' }), kind, where, found),
    h('div', { class: 'card' }, list),
    h('a', { class: 'btn block', href: '#/sites/new', id: 'add-site' }, '＋ 新增点位'));
}

/** addView: a new site found in the field, at the current position. */
export const addView = {
  async render(app) {
    const c = app.client;
    const counties = await c.list('county');
    const mine = countyCodes(c);
    const err = h('p', { class: 'err', role: 'alert' });
    const lim = maxLen.site;
    const name = h('input', { type: 'text', name: 'name', maxlength: lim.name, required: true });
    const kind = h('select', { name: 'kind' }, Object.entries(siteKinds).map(([k, v]) => h('option', { value: k }, v)));
    const county = h('select', { name: 'county' }, mine.map((code) =>
      h('option', { value: code }, counties.find((r) => (r.fields.code || r.id) === code)?.fields.name || code)));
    const address = h('input', { type: 'text', name: 'address', maxlength: lim.address });
    const posText = h('p', { class: 'mute', id: 'site-pos' }, '正在定位…');
    let pos = geo.latest(60e3);
    const showPos = () => {
      posText.textContent = pos ? `位置：经度 ${pos.lon.toFixed(6)}，纬度 ${pos.lat.toFixed(6)}（WGS-84，精度约 ${Math.round(pos.accuracy)} 米）`
        : '未能定位：请在系统设置中允许浏览器使用位置信息，然后点“重新定位”。也可以不带位置保存，以后再补。';
    };
    if (pos) showPos(); else geo.fix().then((p) => { pos = p; showPos(); });
    // What is typed is kept in the draft: a sync ending draws the page again.
    const d = draft('site-new');
    // Drawn again while the site is being saved: still saving.
    const save = h('button', { type: 'submit', class: 'primary block', id: 'save-site', disabled: !!d.saving }, d.saving ? '正在保存…' : '保存点位');
    // novalidate: the form's own checks say what is wrong, in Chinese.
    const form = h('form', { class: 'card', id: 'site-form', novalidate: true },
      label('名称 *', name), name,
      label('类型', kind), kind,
      mine.length > 1 ? [label('所属区县', county), county] : null,
      label('地址', address), address,
      posText,
      h('button', { type: 'button', class: 'block', onclick: async () => { posText.textContent = '正在定位…'; pos = await geo.fix(); showPos(); } }, '重新定位'),
      err, save,
      h('a', { class: 'btn block', href: '#/sites', id: 'cancel-site', onclick: () => clearDraft('site-new') }, '取消'));
    keepInput(form, d);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      // One site per tap, until its page is drawn. The flag is the draft's,
      // so that a form drawn again during the save does not save it twice.
      if (d.saving) return;
      if (!name.value.trim()) { err.textContent = '请填写点位名称。'; return; }
      const long = tooLong('名称', name.value.trim(), lim.name) || tooLong('地址', address.value.trim(), lim.address);
      if (long) { err.textContent = long; return; }
      if (!mine.length) { err.textContent = '不知道您负责的区县，请联网同步后再试。'; return; }
      // The site's id is the draft's, chosen once: a second submit of the
      // same form (a save that failed after writing, the page reloaded
      // mid-save) writes the same site again, never a second one.
      const id = d.id || (d.id = uuidv7());
      const f = { county: county.value || mine[0], kind: kind.value, name: name.value.trim(), active: true, radius_m: 200 };
      if (address.value.trim()) f.address = address.value.trim();
      if (pos) Object.assign(f, { lon: round(pos.lon), lat: round(pos.lat), crs: 'wgs84' });
      d.saving = true;
      keepDrafts();
      save.disabled = true;
      save.textContent = '正在保存…';
      try {
        await c.save('site', id, f);
        clearDraft('site-new');
        toast('点位已保存', false, 'saved');
        app.go('#/site/' + id);
      } catch (e2) {
        d.saving = false;
        // On the form shown: it may have been drawn again meanwhile.
        const shown = document.getElementById('site-form') || form;
        shown.querySelector('.err').textContent = message(e2);
        const b = shown.querySelector('#save-site');
        b.disabled = false;
        b.textContent = '保存点位';
      }
    });
    return h('div', {}, h('h1', {}, '新增点位'), form);
  },
};

function round(x) { return Math.round(x * 1e7) / 1e7; }
