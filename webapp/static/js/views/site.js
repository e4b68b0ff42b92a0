// A site: where it is, the checklists that apply to its kind, its inspections.
import { uuidv7 } from '/app/sdk/fieldsync-sdk.js';
import { h, siteKinds, statusNames, when, chinaTime, chinaDate } from '../ui.js';
import { message } from '../errors.js';
import * as geo from '../geo.js';

// The inspection being started at a site, by site id: {template, iid,
// busy}. Kept outside the page, which a sync ending draws again: a tap on
// the new page's button must not start a second inspection. Its id is
// chosen once per site and checklist, so that a start tapped again after a
// save that failed writes the same inspection, not another.
const starts = new Map();

/** latestTemplates keeps the newest version of each template. */
export function latestTemplates(templates) {
  const by = new Map();
  for (const t of templates) {
    const cur = by.get(t.fields.template_id);
    if (!cur || (t.fields.version || 0) > (cur.fields.version || 0)) by.set(t.fields.template_id, t);
  }
  return [...by.values()];
}

export async function render(app, id) {
  const c = app.client;
  const s = await c.get('site', id);
  if (!s) return h('div', { class: 'card' }, h('p', {}, '本机没有这个点位的数据，请联网同步。'), h('a', { class: 'btn block', href: '#/sites' }, '返回点位列表'));
  const [templates, inspections] = await Promise.all([c.list('checklist_template'), c.list('inspection', (r) => r.fields.site_id === id)]);
  inspections.sort((a, b) => String(b.fields.started_at).localeCompare(String(a.fields.started_at)));
  // The checklists that fit the site's kind; those it was inspected with
  // come first, the latest used on top (a factory may have six: it is
  // most often visited again for what it was visited for before) — by
  // anyone's inspection but another inspector's draft, which may never
  // be sent.
  const mineOrSent = (i) => i.fields.status !== 'draft' || !c.user || !i.fields.created_by || i.fields.created_by === c.user.id || i.pending.length;
  const used = inspections.filter((i) => i.fields.started_at && mineOrSent(i)).map((i) => i.fields.template_id);
  const rank = (t) => { const k = used.indexOf(t.fields.template_id); return k < 0 ? used.length : k; };
  const fits = latestTemplates(templates).filter((t) => (t.fields.site_kinds || []).includes(s.fields.kind))
    .sort((a, b) => rank(a) - rank(b));
  // The one marked: the latest used of those offered here (a checklist
  // used here that no longer fits the site's kind is not offered).
  const lastUsed = fits.length && rank(fits[0]) < used.length ? fits[0].fields.template_id : '';
  const titles = new Map(latestTemplates(templates).map((t) => [t.fields.template_id, t.fields.title]));
  const err = h('p', { class: 'err', role: 'alert', id: 'start-error' });
  const p = geo.siteWGS84(s.fields);
  const pos = geo.latest(10 * 60e3);
  // One inspection per tap: while one is being made (and after, until the
  // inspection's page is drawn) the start buttons do nothing.
  const busy = !!starts.get(id)?.busy;
  // The inspector's own draft of a checklist started here today is offered
  // to go on with, first: tapping the checklist again made a second draft
  // of the same visit (field probe). Another may still be started.
  const today = chinaDate();
  const mine = (i) => i.fields.created_by ? i.fields.created_by === c.user?.id : i.pending.length > 0;
  const draftOf = (t) => inspections.find((i) => i.fields.status === 'draft' && i.fields.template_id === t.fields.template_id &&
    String(i.fields.started_at || '').slice(0, 10) === today && mine(i));
  const resumes = [];
  const buttons = fits.map((t) => {
    const draft = draftOf(t);
    if (draft) {
      resumes.push(h('a', { class: 'btn primary block resume', href: '#/inspection/' + draft.id, dataset: { template: t.fields.template_id } },
        `继续填写：${t.fields.title}`, h('span', { class: 'last-used' }, `（${when(draft.fields.started_at)} 开始的草稿）`)));
    }
    return h('button', { class: (draft ? '' : 'primary ') + 'block start', disabled: busy, dataset: { template: t.fields.template_id } },
      draft ? `另开一次：${t.fields.title}` : t.fields.title,
      !draft && lastUsed === t.fields.template_id ? h('span', { class: 'last-used' }, '（上次检查所用）') : null);
  });
  const start = async (t) => {
    let st = starts.get(id);
    if (st?.busy) return;
    if (!st || st.template !== t.fields.template_id) st = { template: t.fields.template_id, iid: uuidv7() };
    st.busy = true;
    starts.set(id, st);
    for (const b of buttons) b.disabled = true;
    const iid = st.iid;
    const here = geo.latest(5 * 60e3);
    const f = { site_id: id, template_id: t.fields.template_id, template_version: t.fields.version, started_at: chinaTime(), status: 'draft' };
    if (here) Object.assign(f, { lon: here.lon, lat: here.lat });
    try {
      await c.save('inspection', iid, f);
      starts.delete(id);
      app.go('#/inspection/' + iid);
    } catch (e) {
      st.busy = false;
      // On the page shown: it may have been drawn again meanwhile.
      (document.getElementById('start-error') || err).textContent = message(e);
      for (const b of [...buttons, ...document.querySelectorAll('button.start')]) b.disabled = false;
    }
  };
  buttons.forEach((b, i) => b.addEventListener('click', () => start(fits[i])));
  return h('div', {},
    h('h1', {}, s.fields.name),
    h('div', { class: 'card' },
      h('p', {}, siteKinds[s.fields.kind] || s.fields.kind, s.fields.address ? ' · ' + s.fields.address : ''),
      p && pos ? h('p', { class: 'mute' }, `距您约 ${geo.meters(geo.distance(pos.lon, pos.lat, p[0], p[1]))}`) : null,
      s.fields.note ? h('p', { class: 'mute small' }, s.fields.note) : null),
    h('div', { class: 'card' }, h('h2', {}, '开始检查'),
      fits.length ? [...resumes, ...buttons]
        : h('p', { class: 'mute' }, '没有适用于此类点位的检查表。'),
      err),
    inspections.length ? h('div', { class: 'card' }, h('h2', {}, '检查记录'), h('ul', { class: 'list' }, inspections.map((i) =>
      h('li', {}, h('a', { class: 'item', href: '#/inspection/' + i.id },
        h('span', { class: 'badge ' + i.fields.status }, statusNames[i.fields.status] || i.fields.status), ' ', when(i.fields.started_at),
        // Which checklist: a site has several (a factory six).
        h('span', { class: 'mute small' }, ' · ' + (titles.get(i.fields.template_id) || '未知检查表'))))))) : null);
}
