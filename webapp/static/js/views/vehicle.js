// Roadside check (路检): a fast form for a checkpoint crew, one vehicle
// after another; the checkpoint and the campaign are remembered between
// vehicles. Codes and labels come from syncproto/vocab.go (vocab.js, made
// by the server).
import { uuidv7 } from '/app/sdk/fieldsync-sdk.js';
import { h, segmented, pressed, toast, label, markField, selectorOf, chinaTime, chinaDate, store, when } from '../ui.js';
import { message } from '../errors.js';
import { emissionStages, fuels, aftertreatments, vehicleActions } from '../vocab.js';
import { captureFields, photoTile, nth, sameFile, repeatsSaid } from '../photos.js';
import { draft, clearDraft, keepDrafts, keepInput, keepShot, keptShots, dropShot } from '../drafts.js';
import { countyCodes } from './sites.js';
import { maxLen, ranges, tooLong, outOfRange } from '../limits.js';
import * as geo from '../geo.js';

const KEEP = 'fieldsync.vehicle'; // {checkpoint, campaign, county}: the next vehicle's

/** forgetCheckpoint drops the checkpoint remembered for the next vehicle
 *  (at sign-out: the next user of the phone works elsewhere). */
export function forgetCheckpoint() {
  store.del(KEEP);
}
// The plate's province (省份简称), all 31 of the mainland: 晋 first (the
// trucks on Xinzhou's roads are mostly Shanxi's), then its neighbours and
// the provinces the coal and freight routes through it come from, then the
// rest in the order of the administrative division codes (GB/T 2260).
const provinces = ['晋', '冀', '蒙', '陕', '豫', '京', '津', '鲁', '宁', '甘',
  '辽', '吉', '黑', '沪', '苏', '浙', '皖', '闽', '赣', '鄂', '湘', '粤', '桂', '琼', '渝', '川', '贵', '云', '藏', '青', '新'];
// plate_color is free text (≤ 8 characters); the demo and the console use these terms.
const plateColors = [['黄', '黄牌'], ['蓝', '蓝牌'], ['绿', '绿牌'], ['黄绿', '黄绿牌']];

// The fields the form shows that a correction may empty (then cleared on
// the check).
const editable = ['campaign', 'plate_color', 'emission_stage', 'fuel', 'aftertreatment', 'action', 'obd_mil', 'obd_codes', 'urea_level_pct', 'note',
  'vin', 'plate_type', 'ringelmann', 'opacity', 'remote_sensing_id'];
// The fields of 更多检测项 (collapsed: rarely measured at a checkpoint),
// each by its input's name, which is the field's.
const moreFields = ['vin', 'plate_type', 'ringelmann', 'opacity', 'remote_sensing_id'];

/** Photos taken for the vehicle being entered (saved with it):
 *  [{file, ready, cap, failed, url, id, saved}]: each is listed the moment
 *  it is taken, and ready settles once its capture facts (cap: the
 *  position, which may take seconds to fix) are read. Each is kept on the
 *  phone too (keepShot) until the vehicle is saved or given up, and the
 *  draft lists their ids (shotIds), so that a reload finds them again
 *  (restoreShots), and says which it could not. */
let shots = [];

/** justSaved: a vehicle was just saved, and the form drawn anew for the
 *  next has had no submit yet. A double tap on 保存，下一辆 sent its
 *  second to the emptied form, which said 车牌号格式不对 in red (phone
 *  probe): that one submit of a form still untouched is not taken. */
let justSaved = false;

/** restored: the kept photos of the vehicle being entered, put back in
 *  shots once per page and user (a promise, which every draw awaits). */
let restored = null;
let restoredFor = null;

/** forgetShots drops the photos in memory (at sign-out: the next user
 *  of the phone starts with none; the kept ones go with the drafts). */
export function forgetShots() {
  for (const s of shots) if (s.url) URL.revokeObjectURL(s.url);
  shots = [];
  restored = null;
  restoredFor = null;
}

/** capture reads shot s's capture facts (s.ready), keeps them with its
 *  file, and drops a file that is no photo, saying why in errEl. */
function capture(s, d, errEl) {
  s.ready = (s.cap ? Promise.resolve() : captureFields(s.file).then((cap) => {
    s.cap = cap;
    return keepShot('vehicle', s);
  }, (e) => {
    s.failed = true;
    shots = shots.filter((o) => o !== s);
    dropShot(s.id);
    noteShots(d);
    if (errEl.isConnected) errEl.textContent = message(e);
    else { const shown = document.getElementById('vehicle-error'); if (shown) shown.textContent = message(e); }
  })).then(() => {});
}

/** noteShots writes in draft d which photos the vehicle has (a draft
 *  kept before the photos were, counts them in d.shots, read still). */
function noteShots(d) {
  d.shotIds = shots.map((s) => s.id);
  delete d.shots;
  keepDrafts();
}

/** restoreShots puts back in shots the photos the phone kept for draft d
 *  (listed in d.shotIds, in that order), and drops those of vehicles
 *  saved or given up since. */
async function restoreShots(d, errEl) {
  const ids = Array.isArray(d.shotIds) ? d.shotIds : [];
  for (const k of await keptShots('vehicle')) {
    if (!ids.includes(k.id)) { dropShot(k.id); continue; }
    if (shots.some((s) => s.id === k.id)) continue;
    const s = { id: k.id, file: k.file, cap: k.cap || undefined };
    capture(s, d, errEl);
    shots.push(s);
  }
  shots.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
}

/** unsavedVehicle says what the roadside form holds and has not saved —
 *  the vehicle's plate and how many photos — or '' when it holds nothing
 *  typed: signing out drops it (drafts.js), so the sign-out asks first
 *  (field app probe: a vehicle and its photo went without a word). */
export function unsavedVehicle() {
  const d = draft('vehicle');
  const photos = Array.isArray(d.shotIds) ? d.shotIds.length : Number(d.shots) || 0;
  const typed = ['plate', 'urea', 'obd_codes', 'note', ...moreFields].some((k) => d[k]) || Object.values(d.choices || {}).some((x) => x !== undefined);
  if (!photos && !typed) return '';
  const plate = d.plate ? ` ${d.province || '晋'}${normPlate(d.plate)}` : '';
  return `路检页上还没保存的车辆${plate}${photos ? `（含 ${photos} 张照片）` : ''}`;
}

/** normPlate writes a plate as it is stored: a Chinese keyboard's
 *  full-width letters and digits as ASCII, in capitals, without the
 *  spaces, dots and hyphens people type between its parts. */
export function normPlate(s) {
  return s.replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xFEE0))
    .replace(/[\s\p{Pd}·•‧・･.。∙⋅\u0387−⁃]/gu, '').toUpperCase();
}

/** labelKey is the spelling the server stores a checkpoint in (its
 * CanonicalLabel): no spaces around it nor next to a Chinese character
 * or punctuation (WIDE_SPACE), one space for each other run inside,
 * full-width letters and digits as ASCII, letters (any alphabet) in upper
 * case, in Unicode NFC — so that the same checkpoint typed otherwise (g108,
 * Ｇ１０８, Cafe + a combining accent) is the same one. */
export function labelKey(s) {
  return s.replace(/[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xFEE0))
    .normalize('NFC').replace(/\p{Zs}+/gu, ' ').trim()
    .replace(/\p{Ll}/gu, (ch) => { const u = ch.toUpperCase(); return [...u].length === 1 ? u : ch; }).normalize('NFC')
    .replace(WIDE_SPACE, '');
}

/** checkpointKey is what tells checkpoints apart, as the statistics do
 *  (server.LabelKey): labelKey without its spaces — G108 K5 and G108K5
 *  are one checkpoint (roadside probe: the same truck saved at both was
 *  not asked about, and counted twice). */
export function checkpointKey(s) {
  return labelKey(s).replace(/ /g, '');
}

/** A space next to a Chinese character or punctuation, which is no part
 *  of a label (秦城 检查站 is 秦城检查站; server.CanonicalLabel). */
const WIDE = '\\p{Script=Han}\\u3001-\\u303F\\uFF01-\\uFF60\\uFFE0-\\uFFE6';
const WIDE_SPACE = new RegExp(`(?<=[${WIDE}]) | (?=[${WIDE}])`, 'gu');

export async function render(app) {
  const c = app.client;
  const kept = JSON.parse(store.get(KEEP) || '{}');
  const mine = countyCodes(c);
  const counties = await c.list('county');
  const today = chinaDate();
  const done = (await c.list('vehicle_check', (r) => String(r.fields.checked_at || '').startsWith(today)))
    .sort((a, b) => String(b.fields.checked_at).localeCompare(String(a.fields.checked_at)));
  const err = h('p', { class: 'err', role: 'alert', id: 'vehicle-error' });
  // The vehicle being entered, kept in its draft: the page is drawn again
  // after every sync, while the crew is still at the truck.
  const d = draft('vehicle');
  const v = d.choices || (d.choices = {}); // the choices made
  if (restoredFor !== app.clientUser || !restored) {
    restoredFor = app.clientUser;
    restored = restoreShots(d, err);
  }
  await restored;
  // A check saved earlier being corrected (a plate mistyped, the action
  // changed at the truck): its id, time and position stay; d.edit holds
  // the fields it had, so that a value emptied is cleared on it.
  const edit = d.edit || null;
  // The photos the check being corrected has: shown with those taken
  // now, which are added to them (roadside probe: the form showed none,
  // and a crew took them again).
  const saved = edit ? (await c.list('photo', (p) => p.fields.vehicle_check_id === d.id && !p.deleted))
    .sort((a, b) => String(a.fields.captured_at || '').localeCompare(String(b.fields.captured_at || ''))) : [];
  const seg = (title, name, choices) => {
    const box = segmented(title, { dataset: { field: name } });
    for (const ch of choices) {
      box.append(h('button', { type: 'button', class: v[name] === ch.code ? 'on' : '', 'aria-pressed': String(v[name] === ch.code), dataset: { value: ch.code }, onclick: (e) => {
        v[name] = v[name] === ch.code ? undefined : ch.code;
        for (const b of box.children) pressed(b, b === e.currentTarget && v[name] !== undefined);
      } }, ch.label));
    }
    return box;
  };
  const lim = maxLen.vehicle_check;
  // The checkpoints the user's counties registered, offered as the crew
  // types: a name typed otherwise counts apart in the statistics, and one
  // of another site (a construction site) counts as a checkpoint.
  const posts = (await c.list('site', (r) => r.fields.kind === 'checkpoint' && r.fields.active !== false && mine.includes(r.fields.county)))
    .map((r) => r.fields.name).filter(Boolean).sort();
  const checkpoint = h('input', { type: 'text', name: 'checkpoint', 'aria-required': 'true', maxlength: lim.checkpoint, value: kept.checkpoint || '', placeholder: '如 忻州北收费站',
    list: 'checkpoint-sites', autocomplete: 'off' });
  const postList = h('datalist', { id: 'checkpoint-sites' }, [...new Set(posts)].map((n) => h('option', { value: n })));
  const campaign = h('input', { type: 'text', name: 'campaign', maxlength: lim.campaign, value: kept.campaign || '', placeholder: '专项行动名称（可选）' });
  // Each truck's province starts at 晋: an out-of-province truck is the
  // exception, and one kept from the truck before (冀) made the next
  // truck's plate, typed as its letters, 冀 too.
  const province = h('select', { name: 'province', 'aria-label': '车牌省份简称' }, provinces.map((p) => h('option', { value: p, selected: p === '晋' }, p)));
  // No tight maxlength: it would cut what is typed before the spaces in
  // it are dropped (“h 5 1 2 3 4” lost its last digit).
  const plate = h('input', { type: 'text', name: 'plate', 'aria-required': 'true', maxlength: 20, autocapitalize: 'characters', autocomplete: 'off', placeholder: 'H12345' });
  const tidyPlate = () => {
    let n = normPlate(plate.value);
    // Typed with its province (晋H30272): the province goes to its box.
    const typed = provinces.find((x) => n.startsWith(x));
    if (typed) {
      if (province.value !== typed) {
        province.value = typed;
        // Said as a choice would be, so that the draft keeps it: set
        // quietly, a form drawn again put 晋 back, and 冀A66666 was saved
        // as 晋A66666 (field app probe).
        province.dispatchEvent(new Event('change', { bubbles: true }));
      }
      n = n.slice(typed.length);
    }
    if (n === plate.value) return;
    const at = normPlate(plate.value.slice(0, plate.selectionStart ?? plate.value.length)).length;
    plate.value = n;
    plate.setSelectionRange?.(at, at);
  };
  // Not while a keyboard composes a word: changing the text under it
  // breaks the composition.
  plate.addEventListener('input', (e) => { if (!e.isComposing) tidyPlate(); });
  plate.addEventListener('compositionend', tidyPlate);
  const county = h('select', { name: 'county' }, mine.map((code) => h('option', { value: code, selected: kept.county === code },
    counties.find((r) => (r.fields.code || r.id) === code)?.fields.name || code)));
  const [ureaMin, ureaMax] = ranges.vehicle_check.urea_level_pct;
  const urea = h('input', { type: 'number', name: 'urea', inputmode: 'decimal', min: ureaMin, max: ureaMax, step: 'any', placeholder: `${ureaMin}–${ureaMax}` });
  const obdCodes = h('input', { type: 'text', name: 'obd_codes', maxlength: lim.obd_codes, placeholder: '故障码（可选）', 'aria-label': 'OBD 故障码' });
  const note = h('textarea', { name: 'note', rows: 2, maxlength: lim.note, placeholder: '备注（可选）' });
  // 更多检测项: the fields a crew records only now and then (the VIN off
  // the frame, a smoke test, a remote-sensing hit to follow up), folded
  // away so that the everyday form stays short on a phone.
  // Their inputs are not named fields of the form (keepInput keeps
  // those): each keeps its value in the draft itself, under its field's
  // name (as correct() puts it there), and is read by its data-more.
  const moreInput = (key, attrs) => h('input', { id: 'vehicle-' + key.replace(/_/g, '-'), dataset: { more: key }, ...attrs });
  // The VIN is stored in a plate's spelling (sync.md: vin); no tight
  // maxlength, for the same reason as the plate's.
  const vin = moreInput('vin', { type: 'text', maxlength: 30, autocapitalize: 'characters', autocomplete: 'off', spellcheck: 'false', placeholder: '17 位，如 LFV2A21K5A4123456' });
  const tidyVin = () => {
    const n = normPlate(vin.value);
    if (n === vin.value) return;
    const at = normPlate(vin.value.slice(0, vin.selectionStart ?? vin.value.length)).length;
    vin.value = n;
    vin.setSelectionRange?.(at, at);
  };
  vin.addEventListener('input', (e) => { if (!e.isComposing) tidyVin(); });
  vin.addEventListener('compositionend', tidyVin);
  const plateType = moreInput('plate_type', { type: 'text', maxlength: lim.plate_type, placeholder: '如 大型汽车、挂车（可选）' });
  const [ringMin, ringMax] = ranges.vehicle_check.ringelmann;
  const ringelmann = moreInput('ringelmann', { type: 'number', inputmode: 'decimal', min: ringMin, max: ringMax, step: 'any', placeholder: `${ringMin}–${ringMax}` });
  const [opacityMin, opacityMax] = ranges.vehicle_check.opacity;
  const opacity = moreInput('opacity', { type: 'number', inputmode: 'decimal', min: opacityMin, max: opacityMax, step: 'any', placeholder: `${opacityMin}–${opacityMax}` });
  const remoteSensing = moreInput('remote_sensing_id', { type: 'text', maxlength: lim.remote_sensing_id, autocomplete: 'off', placeholder: '遥感监测系统的记录编号（可选）' });
  const moreEls = [vin, plateType, ringelmann, opacity, remoteSensing];
  for (const el of moreEls) {
    const k = el.dataset.more;
    if (Object.prototype.hasOwnProperty.call(d, k)) el.value = d[k];
    // After the VIN's tidying (its listeners come first).
    const keep = () => { d[k] = el.value; keepDrafts(); };
    for (const ev of ['input', 'change', 'compositionend']) el.addEventListener(ev, keep);
  }
  /** number lays out a number input with its unit beside it and its range
   *  under it (the hint is its description too). */
  const number = (el, unit, hint) => {
    const id = el.id + '-hint';
    el.setAttribute('aria-describedby', id);
    return [h('div', { class: 'row' }, el, h('span', { class: 'fit unit' }, unit)), h('p', { class: 'hint', id }, hint)];
  };
  const moreCount = h('span', { class: 'mute small', id: 'vehicle-more-count' });
  const countMore = () => {
    const n = moreEls.filter((el) => el.value.trim() !== '').length;
    moreCount.textContent = n ? ` · 已填 ${n} 项` : '';
  };
  const more = h('details', { class: 'card', id: 'vehicle-more' },
    h('summary', {}, '更多检测项（可选）', moreCount),
    label('车辆识别代号（VIN）', vin), vin,
    label('号牌种类', plateType), plateType,
    label('林格曼黑度（级）', ringelmann), number(ringelmann, '级', `范围 ${ringMin}–${ringMax} 级（GB 3847-2018 限值 1 级）`),
    label('不透光烟度（光吸收系数，m⁻¹）', opacity), number(opacity, 'm⁻¹',
      `范围 ${opacityMin}–${opacityMax} m⁻¹：自由加速法的光吸收系数 k，不是百分比（GB 3847-2018 限值 1.2、0.7 m⁻¹）`),
    label('遥感检测编号', remoteSensing), remoteSensing);
  const photoBox = h('div', { class: 'photos', id: 'vehicle-photos' });
  // Photos the draft had that the page no longer holds: it was reloaded.
  const lostShots = h('p', { class: 'notice small', id: 'vehicle-photos-lost', hidden: true });
  const drawShots = () => {
    for (const s of shots) if (!s.url) s.url = URL.createObjectURL(s.file);
    photoBox.replaceChildren(...saved.map((p, i, all) => photoTile(c, p, null, false, nth('路检照片', i, all))),
      ...shots.map((s) => h('div', { class: 'thumb', dataset: { photo: 'new' } }, h('img', { src: s.url, alt: '照片' }), h('span', {}, '未保存'))), camera);
    const lost = (Array.isArray(d.shotIds) ? d.shotIds.length : d.shots || 0) - shots.length;
    lostShots.hidden = lost <= 0;
    lostShots.textContent = lost > 0 ? `页面重新打开后，之前拍的 ${lost} 张照片没有保留下来，请重新拍摄。` : '';
  };
  const cameraInput = h('input', { type: 'file', accept: 'image/*', capture: 'environment', dataset: { photoFor: 'vehicle' } });
  cameraInput.addEventListener('change', async () => {
    const picked = [...(cameraInput.files || [])];
    cameraInput.value = '';
    // The same photo picked again (from the gallery) is not a second
    // one: skipped, and said (field app probe: two photos, unsaid). By
    // the file, not its bytes: a photo is listed and kept before they
    // are read.
    const files = [];
    for (const file of picked) {
      if (![...shots.map((s) => s.file), ...files].some((f) => sameFile(f, file))) files.push(file);
    }
    if (files.length < picked.length) err.textContent = repeatsSaid(picked.length - files.length);
    if (!files.length) return;
    // Listed at once, before its position is fixed: a save tapped
    // meanwhile waits for it (it used to push it, afterwards, into the
    // list of the vehicle just saved, and the photo was lost).
    // Each with its id from the start, kept on the phone at once: the
    // page may be killed while its position is fixed.
    const taken = files.map((file) => {
      const s = { file, id: uuidv7() };
      keepShot('vehicle', s);
      capture(s, d, err);
      return s;
    });
    shots.push(...taken);
    // The photos taken now replace those a reload lost.
    noteShots(d);
    drawShots();
    await Promise.all(taken.map((s) => s.ready));
    noteShots(d);
    drawShots();
  });
  const camera = h('label', { class: 'btn camera shoot' }, h('b', { class: 'plus' }, '＋'), h('span', { class: 'small' }, '拍照'), cameraInput);
  drawShots();

  // Drawn again while the vehicle is being saved: still saving.
  const idle = edit ? '保存修改' : '保存，下一辆';
  const saveBtn = h('button', { type: 'submit', class: 'primary block', id: 'save-vehicle', disabled: !!d.saving }, d.saving ? '正在保存…' : idle);
  /** forget drops the vehicle being entered, saved or given up, and
   *  its photos (those of done; all when done is not given). A photo
   *  taken while it was being saved stays, for the next vehicle. */
  const forget = (done = shots) => {
    for (const s of done) {
      if (s.url) URL.revokeObjectURL(s.url);
      dropShot(s.id);
    }
    shots = shots.filter((s) => !done.includes(s));
    clearDraft('vehicle');
    // Those left are the next vehicle's.
    if (shots.length) noteShots(draft('vehicle'));
  };
  // The draft outlives the page, so the crew needs a way to drop a
  // vehicle they will not save.
  const clearBtn = h('button', { type: 'button', class: 'block', id: 'clear-vehicle', onclick: () => {
    const ask = d.recordSaved ? `${d.recordSaved} 的路检记录已经保存（会上传）；清空只丢弃还没保存的照片。确定清空？`
      : edit ? `放弃对 ${edit.plate} 的修改？已保存的记录不变。` : '清空本车已填写的内容和照片？';
    if (!window.confirm(ask)) return;
    forget();
    app.render();
  } }, edit ? '取消修改' : '清空本车');
  /** correct puts a saved check of today into the form, to be corrected
   *  and saved again under its own id (a vehicle being entered is given
   *  up first, after asking). */
  const correct = (r) => {
    if (d.saving) return;
    const entered = shots.length || ['plate', 'urea', 'obd_codes', 'note', ...moreFields].some((k) => d[k]) || Object.values(v).some((x) => x !== undefined);
    const ask = edit ? `放弃对 ${edit.plate} 的修改，改为修改 ${r.fields.plate} 的记录？`
      : entered ? `正在填写的内容${shots.length ? '和照片' : ''}将被清空，改为修改 ${r.fields.plate} 的记录？` : '';
    if (ask && !window.confirm(ask)) return;
    forget();
    const f = r.fields;
    const plateText = String(f.plate || '');
    const prov = provinces.find((x) => plateText.startsWith(x));
    const choice = (x) => (x == null ? undefined : String(x));
    Object.assign(draft('vehicle'), {
      id: r.id, edit: { plate: plateText, fields: { ...f } },
      checkpoint: f.checkpoint || '', campaign: f.campaign || '', county: f.county || '',
      province: prov || '晋', plate: prov ? plateText.slice(prov.length) : plateText,
      urea: f.urea_level_pct == null ? '' : String(f.urea_level_pct), obd_codes: f.obd_codes || '', note: f.note || '',
      vin: f.vin || '', plate_type: f.plate_type || '', remote_sensing_id: f.remote_sensing_id || '',
      ringelmann: f.ringelmann == null ? '' : String(f.ringelmann), opacity: f.opacity == null ? '' : String(f.opacity),
      choices: { plate_color: choice(f.plate_color), emission_stage: choice(f.emission_stage), fuel: choice(f.fuel),
        aftertreatment: choice(f.aftertreatment), action: choice(f.action), obd_mil: f.obd_mil === true ? 'on' : f.obd_mil === false ? 'off' : undefined },
    });
    keepDrafts();
    app.render();
    window.scrollTo(0, 0);
  };
  // A check's county is its own for good (the server refuses a change).
  if (edit) county.disabled = true;
  // novalidate: the form's own checks say what is wrong, in Chinese (the
  // browser's bubble is in the phone's language, and says it its way).
  const form = h('form', { id: 'vehicle-form', class: edit ? 'editing' : '', novalidate: true },
    edit ? h('p', { class: 'notice', id: 'vehicle-editing' }, `正在修改 ${edit.plate}（${when(edit.fields.checked_at)} 检查）的记录，保存后替换原记录。`) : null,
    h('div', { class: 'card' },
      label('检查点 *', checkpoint), checkpoint, postList,
      label('专项行动', campaign), campaign,
      mine.length > 1 || edit ? [label('区县', county), county] : null),
    h('div', { class: 'card' },
      label('车牌号 *', plate), h('div', { class: 'plate' }, province, plate),
      h('label', { class: 'field' }, '车牌颜色'), seg('车牌颜色', 'plate_color', plateColors.map(([code, label]) => ({ code, label }))),
      h('label', { class: 'field' }, '排放阶段'), seg('排放阶段', 'emission_stage', emissionStages),
      h('label', { class: 'field' }, '燃料'), seg('燃料', 'fuel', fuels),
      h('label', { class: 'field' }, 'OBD 故障灯'), seg('OBD 故障灯', 'obd_mil', [{ code: 'on', label: '亮' }, { code: 'off', label: '不亮' }]), obdCodes,
      h('label', { class: 'field' }, '后处理装置（三元催化 / SCR / DPF）'), seg('后处理装置（三元催化 / SCR / DPF）', 'aftertreatment', aftertreatments),
      label('尿素液位（%）', urea), urea,
      h('label', { class: 'field' }, '处理措施'), seg('处理措施', 'action', vehicleActions),
      label('备注', note), note,
      h('label', { class: 'field' }, '照片'),
      saved.length ? h('p', { class: 'hint', id: 'vehicle-saved-photos' }, `这条记录已有 ${saved.length} 张照片；新拍的照片会添加进去，不替换已有的。`) : null,
      lostShots, photoBox),
    more,
    err, saveBtn, clearBtn);
  keepInput(form, d);
  /** sayFail says msg under the field el it is about, marked wrong (a11y
   *  probe), a field of 更多检测项 folded away shown first. */
  const sayFail = (msg, el) => {
    err.textContent = msg;
    markField(el, err, true);
    const fold = el.closest('details');
    if (fold) fold.open = true;
    (el.closest('.plate') || el).after(err);
  };
  form.addEventListener('input', (e) => {
    const at = d.fail?.sel ? form.querySelector(d.fail.sel) : null;
    if (!at || (e.target !== at && !(e.target instanceof Node && at.closest('.plate')?.contains(e.target)))) return;
    delete d.fail;
    keepDrafts();
    err.textContent = '';
    markField(at, err, false);
  });
  // Open as it was left (kept in the draft: the page is drawn again after
  // every sync), or, the first time, when it holds a value (a check being
  // corrected, a draft put back).
  countMore();
  more.open = d.more ?? moreCount.textContent !== '';
  more.addEventListener('toggle', () => { d.more = more.open; keepDrafts(); });
  more.addEventListener('input', countMore);
  // A refusal stays across the page's draws (a sync every minute) until
  // its field changes or the form is saved again: it went while the wrong
  // value stayed, and the field stayed marked once corrected
  // (verification probe). After the fold is opened as it was left: a
  // refused field in it opens it again.
  const failed = d.fail?.sel ? form.querySelector(d.fail.sel) : null;
  if (failed instanceof HTMLElement && !d.saving) sayFail(d.fail.msg, failed);
  /** lock holds the form while its vehicle is being saved: what would be
   *  typed meanwhile went into the draft the save then dropped (the next
   *  plate lost without a word). The camera stays: a photo taken meanwhile
   *  is kept for the next vehicle. */
  const lock = (on) => {
    for (const el of form.elements) if (el.type !== 'file') el.disabled = on;
  };
  if (d.saving) lock(true); // drawn again during the save

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // One vehicle per tap. The flag is the draft's, so that a form drawn
    // again during the save (a sync ending) does not save it twice; a saved
    // vehicle's draft is dropped, and the next one starts with a new one.
    if (d.saving) return;
    const untouched = !plate.value.trim() && !shots.length;
    if (justSaved && untouched && !edit) {
      justSaved = false;
      return; // the second of a double tap (justSaved)
    }
    justSaved = false;
    err.textContent = '';
    delete d.fail;
    for (const f of form.querySelectorAll('[aria-invalid]')) markField(f, err, false);
    saveBtn.before(err); // where a message of no one field is read
    /** fail says msg under the field el it is about (sayFail), kept for
     *  the next draws, and takes the focus there: said by the save
     *  button, 1,400 px below the plate the focus went to, it was off the
     *  screen (field app probe). */
    const fail = (msg, el) => {
      d.fail = { msg, sel: selectorOf(form, el) };
      keepDrafts();
      sayFail(msg, el);
      el.focus();
    };
    tidyPlate();
    const plateText = normPlate(plate.value);
    if (!checkpoint.value.trim()) { fail('请填写检查点名称。', checkpoint); return; }
    // Nothing typed is not a plate in the wrong form (phone probe).
    if (!plateText) { fail('请填写车牌号。', plate); return; }
    // After the province: a letter and 5 characters; 6 on a new-energy
    // plate (D or F, a letter or digit and 4 digits; or 5 digits and D or
    // F); or 4 and the character a trailer's (挂), a driving school's
    // (学) or a police plate (警) ends with. As the server (GA 36).
    if (!/^[A-Z](?:[A-Z0-9]{5}|[DF][A-Z0-9][0-9]{4}|[0-9]{5}[DF]|[A-Z0-9]{4}[挂学警领试超港澳使])$/.test(plateText)) {
      fail('车牌号格式不对：省份简称后应是 6 位字母或数字（新能源车 7 位：字母后是 D 或 F、一位字母或数字、4 位数字，或 5 位数字加 D 或 F；挂车、教练车是 5 位加“挂”“学”），如 H12345、HD12345、H12345D、H1234挂。', plate);
      return;
    }
    // Chinese plates never use the letters I and O (they would read as 1 and 0).
    if (/[IO]/.test(plateText)) { fail(`车牌号里不会有字母 O 或 I：“${plateText}”中的 O、I 是否为数字 0 或 1？请核对后重新输入。`, plate); return; }
    if (!mine.length) { err.textContent = '不知道您负责的区县，请联网同步后再试。'; return; }
    // A VIN, when given, as the server takes it (GB 16735).
    const vinText = normPlate(vin.value);
    if (vinText && !/^[A-HJ-NPR-Z0-9]{17}$/.test(vinText)) {
      fail(`车辆识别代号应为 17 位英文字母和数字，不含 I、O、Q（现为 ${[...vinText].length} 位：“${vinText}”）。请核对车辆铭牌或行驶证后重新输入。`, vin);
      return;
    }
    // What the server would refuse, and the whole check with it.
    for (const [el, msg] of [[checkpoint, tooLong('检查点', checkpoint.value.trim(), lim.checkpoint)],
      [campaign, tooLong('专项行动', campaign.value.trim(), lim.campaign) ||
        // The statistics' name for the checks outside any action: the
        // server refuses it as an action's (its checks would share that row).
        (campaign.value.replace(/\s/g, '') === '未列入专项行动' ? '专项行动名称不能是“未列入专项行动”：不属于专项行动时请留空。' : '')],
      [obdCodes, tooLong('OBD 故障码', obdCodes.value.trim(), lim.obd_codes)],
      [urea, outOfRange('尿素液位', urea, ureaMin, ureaMax)],
      [note, tooLong('备注', note.value.trim(), lim.note)],
      [vin, tooLong('车辆识别代号（VIN）', normPlate(vin.value), lim.vin)],
      [plateType, tooLong('号牌种类', plateType.value.trim(), lim.plate_type)],
      [ringelmann, outOfRange('林格曼黑度', ringelmann, ringMin, ringMax)],
      [opacity, outOfRange('不透光烟度', opacity, opacityMin, opacityMax)],
      [remoteSensing, tooLong('遥感检测编号', remoteSensing.value.trim(), lim.remote_sensing_id)]]) {
      if (msg) {
        fail(msg, el);
        return;
      }
    }
    const u = urea.value.trim();
    // The vehicle check's id is the draft's, chosen once, and each photo's
    // its own: a second submit of the same vehicle (a save that failed half
    // way, the page reloaded mid-save) writes the same records again, and
    // never a second vehicle check. checked_at is by the corrected clock.
    // The same vehicle saved at this checkpoint today already (a crew of
    // two, a truck entered again): counted twice for good, as no one can
    // delete a check; asked first.
    const place = labelKey(checkpoint.value);
    const again = !edit && !d.id && done.find((r) => !r.fields.voided_at && r.fields.plate === province.value + plateText && checkpointKey(r.fields.checkpoint || '') === checkpointKey(place));
    if (again && !window.confirm(`${again.fields.plate} 今天已在${again.fields.checkpoint}检查过（${when(again.fields.checked_at)}），每保存一次都会计为一辆车。确定再记一次？`)) return;
    const id = d.id || (d.id = uuidv7());
    const f = { county: county.value || mine[0], checkpoint: place, plate: province.value + plateText, checked_at: chinaTime() };
    if (campaign.value.trim()) f.campaign = campaign.value.trim();
    for (const k of ['plate_color', 'emission_stage', 'fuel', 'aftertreatment', 'action']) if (v[k]) f[k] = v[k];
    if (v.obd_mil) f.obd_mil = v.obd_mil === 'on';
    if (obdCodes.value.trim()) f.obd_codes = obdCodes.value.trim();
    if (u !== '') f.urea_level_pct = Number(u);
    if (note.value.trim()) f.note = note.value.trim();
    // 更多检测项: each only when given.
    if (normPlate(vin.value)) f.vin = normPlate(vin.value);
    if (plateType.value.trim()) f.plate_type = plateType.value.trim();
    if (ringelmann.value.trim() !== '') f.ringelmann = Number(ringelmann.value.trim());
    if (opacity.value.trim() !== '') f.opacity = Number(opacity.value.trim());
    if (remoteSensing.value.trim()) f.remote_sensing_id = remoteSensing.value.trim();
    if (edit) {
      // The check keeps its county, time and position; what the form
      // shows emptied is cleared (the fields it does not show are left).
      delete f.county;
      delete f.checked_at;
      for (const k of editable) if (!(k in f) && edit.fields[k] != null) f[k] = null;
    } else {
      const pos = geo.latest(5 * 60e3);
      if (pos) Object.assign(f, { lon: pos.lon, lat: pos.lat });
    }
    d.saving = true;
    keepDrafts();
    lock(true);
    saveBtn.textContent = '正在保存…';
    // The photos taken so far, once each has its capture facts.
    const taken = shots.slice();
    if (taken.some((s) => !s.cap && !s.failed)) saveBtn.textContent = '正在处理照片…';
    await Promise.all(taken.map((s) => s.ready));
    saveBtn.textContent = '正在保存…';
    try {
      // The vehicle check first, then its photos: a photo's record must
      // reach the server after the record it belongs to.
      await c.save('vehicle_check', id, f);
      // Saved (and sent at the next sync) whatever becomes of its photos.
      d.recordSaved = f.plate;
      for (const s of taken) {
        if (s.saved || s.failed) continue;
        if (!s.id) s.id = uuidv7();
        await c.takePhoto({ id: s.id, blob: s.file, contentType: s.cap.contentType, fields: { vehicle_check_id: id, ...s.cap.fields, content_type: s.cap.contentType }, camera: !!s.cap.camera });
        s.saved = true;
      }
      forget(taken);
      if (!edit) store.set(KEEP, JSON.stringify({ checkpoint: f.checkpoint, campaign: campaign.value.trim(), county: f.county }));
      toast(edit ? `已修改 ${f.plate}` : `已保存 ${f.plate}`, false, 'saved');
      justSaved = !edit;
      // Saved with the keyboard's Enter (前往), the plate field still has
      // the focus: left, so that the form is drawn anew for the next
      // vehicle (a field with the focus holds the page as it is).
      if (document.activeElement && form.contains(document.activeElement)) document.activeElement.blur();
      app.render();
      app.sync(false);
    } catch (e2) {
      d.saving = false;
      keepDrafts();
      // On the form shown: it may have been drawn again meanwhile.
      const shown = document.getElementById('vehicle-form') || form;
      for (const el of shown.elements) el.disabled = false;
      const unsaved = taken.filter((s) => !s.saved && !s.failed).length;
      // The record saved and a photo not (a full phone): said, so that the
      // crew does not take the check for unsaved; saving again stores the
      // rest under the same ids.
      shown.querySelector('#vehicle-error').textContent = d.recordSaved && unsaved
        ? `${d.recordSaved} 的路检记录已保存，但还有 ${unsaved} 张照片没能保存：${message(e2)} 照片仍在下方，处理后可再点“${idle}”补存（不会重复保存记录）。`
        : message(e2);
      const b = shown.querySelector('#save-vehicle');
      b.textContent = idle;
    }
  });

  return h('div', {},
    h('h1', {}, '路检'),
    form,
    h('section', { class: 'card', id: 'vehicle-today' }, h('h2', {}, todayCount(done, c.user?.id)),
      h('ul', { class: 'list' }, done.slice(0, 50).map((r) => h('li', { class: 'item' + (d.id === r.id && edit ? ' editing' : ''), dataset: { id: r.id } },
        // Only the inspector who made a check corrects it: another's is
        // evidence of their stop, and the office sees who wrote what.
        // A check an office voided (a truck saved twice) counts no more
        // and takes no change.
        r.fields.voided_at
          ? h('span', { class: 'edit mute small', dataset: { voided: r.id } }, '已作废')
          : !r.fields.created_by || r.fields.created_by === c.user?.id
          ? h('button', { type: 'button', class: 'edit', dataset: { edit: r.id }, disabled: d.id === r.id && !!edit, onclick: () => correct(r),
            // Said with its truck: ten buttons all named 修改 told a
            // screen reader's user nothing (roadside probe).
            'aria-label': '修改 ' + (r.fields.plate || '') }, '修改')
          : h('span', { class: 'edit mute small', dataset: { others: r.id } }, '他人记录'),
        h('span', { class: 'name' }, r.fields.plate), ' ',
        r.pending.length ? h('span', { class: 'badge pending' }, '待上传') : h('span', { class: 'badge approved' }, '已上传'),
        r.fields.voided_at ? h('div', { class: 'mute small voided' }, '督查已作废，不计入统计：', r.fields.void_reason || '') : null,
        h('div', { class: 'mute small' }, when(r.fields.checked_at), ' · ', r.fields.checkpoint,
          r.fields.aftertreatment ? ' · 后处理' + (aftertreatments.find((x) => x.code === r.fields.aftertreatment)?.label || '') : '',
          r.fields.action ? ' · ' + (vehicleActions.find((x) => x.code === r.fields.action)?.label || '') : ''))))));
}

/** todayCount says how many vehicles the inspector checked today, not
 *  voided: their own, and apart the colleagues' the phone pulled (they
 *  were counted as the inspector's own; roadside probe). */
function todayCount(done, me) {
  const live = done.filter((r) => !r.fields.voided_at);
  const mine = live.filter((r) => !r.fields.created_by || r.fields.created_by === me).length;
  return `今天已检 ${mine} 辆` + (live.length > mine ? `（同事另检 ${live.length - mine} 辆）` : '');
}
