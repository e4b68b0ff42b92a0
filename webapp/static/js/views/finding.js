// A finding (整改问题): the problem as the inspection recorded it, its
// rectification and the office's verification. While its inspection is
// approved and the office has not verified it, the inspector reports the
// rectification here: 整改中 or 已整改, with a note (整改说明) and photos
// (photo records with finding_id) — the only writes the server takes on a
// finding then (sync.md section 9). A draft or returned inspection's
// findings are edited with the inspection; a submitted one's, and a
// verified finding, are read-only.
import { h, badges, segmented, pressed, toast, chinaDate, daysBetween, statusNames, severityNames, findingStatusNames, when } from '../ui.js';
import { message } from '../errors.js';
import { photoTile, nth, revokeThumbs, failedUploads, refusal } from '../photos.js';
import { draft, clearDraft, keepInput } from '../drafts.js';
import { cameraButton } from './inspection.js';
import { maxLen, tooLong } from '../limits.js';

/** sentBack says whether an office reopened finding fields f with a
 *  comment and it waits for the rectification again. */
export const sentBack = (f) => f.status === 'rectifying' && !!f.verify_comment;

export async function render(app, id) {
  const c = app.client;
  revokeThumbs();
  const rec = await c.get('finding', id);
  if (!rec || rec.deleted) return h('div', { class: 'card' }, h('p', {}, '本机没有这个整改问题（可能已删除）。'), h('a', { class: 'btn block', href: '#/' }, '回到首页'));
  const f = rec.fields;
  const insp = f.inspection_id ? await c.get('inspection', f.inspection_id) : null;
  const i = insp?.fields || {};
  const [site, tpl, photos, failed] = await Promise.all([
    i.site_id ? c.get('site', i.site_id) : null,
    i.template_id ? c.get('checklist_template', `${i.template_id}@${i.template_version}`) : null,
    c.list('photo', (p) => p.fields.finding_id === id || (!!f.item_key && p.fields.inspection_id === f.inspection_id && p.fields.item_key === f.item_key && !p.fields.finding_id)),
    failedUploads(c)]);
  const item = Array.isArray(tpl?.fields.items) ? tpl.fields.items.find((it) => it.key === f.item_key) : null;
  // A photo naming the finding is the rectification's when taken here
  // (it has no checklist item) or after the visit's day; one of the
  // visit's checklist item taken that day — the demo's and sync.md's name
  // the finding too — shows the problem, and is no evidence that it was
  // put right (field-app probe: it let 已整改 be reported with none).
  const visitDay = i.started_at ? chinaDate(Date.parse(i.started_at)) : '';
  const isFix = (p) => p.fields.finding_id === id && !(p.fields.item_key && visitDay &&
    (!p.fields.captured_at || chinaDate(Date.parse(p.fields.captured_at)) <= visitDay));
  const problemPhotos = photos.filter((p) => !isFix(p));
  const fixPhotos = photos.filter(isFix)
    .sort((a, b) => String(a.fields.captured_at || '').localeCompare(String(b.fields.captured_at || '')));
  const status = f.status || 'open';
  const inspStatus = i.status || '';
  const verified = status === 'verified';
  const editable = inspStatus === 'approved' && !verified;
  // A photo whose file the server refused says so (to be taken again).
  // Locked: the inspection's own photos once it is submitted, the
  // rectification's once verified (no camera there).
  // Named with the finding's item (or its description), as a checklist
  // item's photos are: 问题照片 alone said nothing of which problem (a11y).
  const about = item?.label || f.description || '';
  const tile = (p, i, all) => photoTile(c, p, refusal(p, failed), isFix(p) ? !editable : ['submitted', 'approved'].includes(inspStatus),
    nth((isFix(p) ? '整改照片' : '问题照片') + (about ? `（${about}）` : ''), i, all));
  const key = 'finding/' + id;
  if (!editable) clearDraft(key);

  const today = chinaDate();
  const late = f.deadline && (status === 'open' || status === 'rectifying') ? daysBetween(f.deadline, today) : 0;
  const back = sentBack(f);
  const err = h('p', { class: 'err', id: 'finding-error', role: 'alert' });

  // The office's comment: prominent while the finding waits to be put
  // right again; afterwards, what the last rectification answered.
  const verifyComment = f.verify_comment ? h('div', { class: back ? 'comment' : 'notice small', id: 'verify-comment', dataset: { sentBack: back ? '1' : '' } },
    h('b', {}, back ? '督查意见（退回重新整改）：' : '督查意见：'), f.verify_comment,
    f.verified_at ? h('div', { class: 'small mute' }, when(f.verified_at)) : null) : null;

  let state;
  if (verified) {
    state = h('p', { class: 'ok', id: 'finding-locked' }, '已核实：督查室已确认整改到位，本问题已结案，不能再修改。', f.verified_at ? ' ' + when(f.verified_at) : '');
  } else if (inspStatus === 'submitted') {
    state = h('p', { class: 'notice', id: 'finding-locked' }, '所属检查已提交，待审核；审核通过后可在这里报告整改情况。');
  } else if (inspStatus === 'draft' || inspStatus === 'returned') {
    state = h('p', { class: 'notice', id: 'finding-locked' }, '所属检查尚未提交（', statusNames[inspStatus], '），问题随检查一起修改：',
      h('a', { href: '#/inspection/' + f.inspection_id }, '打开检查'), '。');
  } else if (!insp) {
    state = h('p', { class: 'notice', id: 'finding-locked' }, '本机没有所属的检查记录，请联网同步后再打开。');
  } else if (status === 'rectified') {
    state = h('p', { class: 'notice', id: 'finding-waiting' }, '已报告整改，等待督查室核实。如需补充，可修改后重新保存。');
  }

  return h('div', { id: 'finding', dataset: { id, status, inspection: inspStatus } },
    // 整改问题 in the title too: the inspection's page had the same (a11y probe).
    h('h1', {}, site ? [h('span', { class: 'sr-only' }, '整改问题：'), site.fields.name] : '整改问题'),
    h('section', { class: 'card' },
      h('p', { id: 'finding-status-line' }, badges(h('span', { class: 'badge fs-' + status, id: 'finding-status' }, status === 'rectified' ? '已整改（待核实）' : findingStatusNames[status] || status),
        back ? h('span', { class: 'badge returned' }, '督查退回') : null,
        rec.pending.length ? h('span', { class: 'badge pending', id: 'finding-unsent' }, '有修改待上传') : null)),
      item ? h('p', { class: 'mute small' }, '检查项：', item.label) : null,
      h('p', { class: 'desc', id: 'finding-desc' }, f.description || '（无描述）'),
      h('p', { class: 'small' },
        late > 0 ? [h('span', { class: 'badge overdue' }, `逾期 ${late} 天`), ' '] : f.deadline && late === 0 && status !== 'rectified' && !verified ? [h('span', { class: 'badge' }, '今天到期'), ' '] : null,
        '期限 ', f.deadline || '无', ' · ', severityNames[f.severity] || '未定级'),
      insp ? h('p', { class: 'mute small' }, h('a', { href: '#/inspection/' + f.inspection_id }, tpl?.fields.title || '检查记录'),
        ' · ', statusNames[inspStatus] || inspStatus, i.started_at ? ' · ' + when(i.started_at) : '') : null,
      verifyComment, state),
    problemPhotos.length ? h('section', { class: 'card', id: 'problem-photos' }, h('h2', {}, '问题照片'),
      h('div', { class: 'photos' }, problemPhotos.map(tile))) : null,
    editable ? rectifyForm(app, rec, fixPhotos, err, tile) : h('section', { class: 'card', id: 'rectification' }, h('h2', {}, '整改情况'),
      h('p', { id: 'rectification-note' }, f.rectification_note || h('span', { class: 'mute' }, '（未填写整改说明）')),
      fixPhotos.length ? h('div', { class: 'photos', id: 'fix-photos' }, fixPhotos.map(tile)) : h('p', { class: 'mute small' }, '没有整改照片。')),
    err);
}

// rectifyForm: the rectification's status, note and photos. The status
// and the note wait in the form's draft until 保存 (a sync draws the page
// again); a photo is kept at once, as an item's photo is.
function rectifyForm(app, rec, fixPhotos, err, tile) {
  const c = app.client;
  const id = rec.id;
  const f = rec.fields;
  const key = 'finding/' + id;
  const d = draft(key);
  const chosen = () => (d.status !== undefined ? d.status : f.status === 'rectifying' || f.status === 'rectified' ? f.status : '');
  const seg = segmented('整改状态', { dataset: { field: 'status' } });
  for (const [v, label] of [['rectifying', '整改中'], ['rectified', '已整改']]) {
    seg.append(h('button', { type: 'button', class: chosen() === v ? 'on' : '', 'aria-pressed': String(chosen() === v), dataset: { value: v }, onclick: (e) => {
      d.status = v;
      for (const b of seg.children) pressed(b, b === e.currentTarget);
      err.textContent = '';
    } }, label));
  }
  const note = h('textarea', { name: 'rectification_note', id: 'rect-note', rows: 3, maxlength: maxLen.finding.rectification_note, placeholder: '整改了什么、怎么整改的，如：已对东侧料堆全部苫盖防尘网' });
  note.value = f.rectification_note || '';
  const photoErr = h('p', { class: 'err' });
  // The count follows the photos shown: one taken while the note has the
  // focus is shown in place (the page is not drawn again then), and the
  // label said 整改照片（0） beside it.
  const fixLabel = h('label', { class: 'field', id: 'fix-photos-label' });
  const fixBox = h('div', { class: 'photos', id: 'fix-photos' }, fixPhotos.map(tile),
    cameraButton(c, app, { finding_id: id }, photoErr, undefined, '整改照片'));
  const countFix = () => { fixLabel.textContent = `整改照片（${fixBox.querySelectorAll('.thumb:not(.saving)').length}）`; };
  countFix();
  new MutationObserver(countFix).observe(fixBox, { childList: true });
  const saveBtn = h('button', { type: 'submit', class: 'primary block', id: 'save-rectification', disabled: !!d.saving }, '保存整改情况');
  const form = h('form', { class: 'card', id: 'rectify-form' },
    h('h2', {}, '报告整改'),
    h('label', { class: 'field' }, '整改状态'), seg,
    h('label', { class: 'field', for: 'rect-note' }, '整改说明'), note,
    fixLabel, fixBox,
    photoErr,
    h('p', { class: 'mute small' }, '标记“已整改”需填写整改说明或拍摄整改照片；保存后同步上传，由督查室核实。'),
    saveBtn);
  keepInput(form, d);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (d.saving) return;
    err.textContent = '';
    const st = chosen();
    const text = note.value.trim();
    if (!st) { err.textContent = '请选择整改状态：整改中 或 已整改。'; return; }
    const long = tooLong('整改说明', text, maxLen.finding.rectification_note);
    if (long) { err.textContent = long; note.focus(); return; }
    if (st === 'rectified' && !text && !fixPhotos.length) {
      err.textContent = '标记为“已整改”前，请填写整改说明或拍摄至少一张整改照片。';
      note.focus();
      return;
    }
    const fields = {};
    if (st !== f.status) fields.status = st;
    if (text !== (f.rectification_note || '')) fields.rectification_note = text || null;
    if (!Object.keys(fields).length) {
      clearDraft(key);
      toast('没有修改', false, 'saved');
      return;
    }
    d.saving = true;
    saveBtn.disabled = true;
    try {
      await c.save('finding', id, fields);
      clearDraft(key);
      toast(st === 'rectified' ? '已报告整改，有信号时上传，等待督查室核实' : '已保存，有信号时上传', false, 'saved');
      app.render();
      app.sync(false);
    } catch (e2) {
      err.textContent = message(e2);
      toast(message(e2), true, 'error');
      d.saving = false;
      saveBtn.disabled = false;
      // The form may have been drawn again meanwhile (its button disabled).
      const shown = document.getElementById('save-rectification');
      if (shown) shown.disabled = false;
    }
  });
  return form;
}
