// An inspection: the checklist of its template, item by item — every item
// type, notes, photos per item — what is still missing, submit; returned
// inspections show the office's comment and can be corrected and
// submitted again; submitted and approved ones are read-only.
import { uuidv7 } from '/app/sdk/fieldsync-sdk.js';
import { h, badges, segmented, pressed, toast, tieError, chinaTime, chinaDate, now, label as labelFor, store, statusNames, severityNames, findingStatusNames, flagTitles, when } from '../ui.js';
import { message, photoRefusedMessage } from '../errors.js';
import { parseAnswer, answerObject, answersOf, completeness, failed, findingDescription, range, limit, answerText, missingText } from '../checklist.js';
import { takePhoto, photoTile, nth, revokeThumbs, failedUploads, refusal, withoutRepeats, NO_POSITION } from '../photos.js';
import { draft, keepDrafts, clearDraft } from '../drafts.js';
import * as geo from '../geo.js';
import { maxLen, NOTE_MAX, TEXT_ANSWER_MAX, tooLong, chars } from '../limits.js';

// Answers refused by the item's rules as typed (a number out of range),
// by inspection id and item key: the field keeps them, with the error,
// when the page is drawn again (a sync's redraw wiped both).
const refusedInput = new Map();

// The last photo refused for an item (a file that is no image, storage
// full), by inspection id and item key: said under the item until a photo
// is taken for it, across the redraw that follows.
const photoErrors = new Map();

// Why 提交检查 was refused, by inspection id: shown on the page until the
// next save, across the draws that follow the tap (the save of a value
// typed just before it draws the page again).
const submitErrors = new Map();

// Notes typed on an item not answered yet, by inspection and item key.
// Not saved as an answer — one without a result is invalid, and would hold
// back the submission — but on the phone, so that a reload keeps them,
// until the item is answered and the note is saved with the answer.
const NOTES = 'fieldsync.pending-notes';
const pendingNotes = {
  all() { try { return JSON.parse(store.get(NOTES) || '{}'); } catch { return {}; } },
  get(k) { return pendingNotes.all()[k] || ''; },
  set(k, v) {
    const m = pendingNotes.all();
    if (v) m[k] = v; else delete m[k];
    store.set(NOTES, JSON.stringify(m));
  },
};

/** answersSaved resolves once every answer being saved whose key (an
 *  inspection id, "/", an item key) starts with prefix is saved, with
 *  what follows from it (its finding): what a submit waits for. */
export function answersSaved(prefix = '') {
  return Promise.all([...answering].filter(([k]) => k.startsWith(prefix)).map(([, p]) => p));
}

/** forgetNotes drops the notes of unanswered items (on signing out). */
export function forgetNotes() {
  store.del(NOTES);
}

// Each item's answers' saves, in order, by inspection and item key. Kept
// outside the page, which a sync ending draws again: a tap on the new
// page waits for the saves of the old one, so that two taps never open two
// findings for one item.
const answering = new Map();

/** tapped: the choice last tapped on each item (by the key answering
 *  uses), until its save ends — shown pressed at once, and by every draw
 *  meanwhile. A tap showed only once saved and the page drawn (up to a
 *  second), and a draw of the save before showed the answer the
 *  inspector was moving away from (phone probe: 合格 → 不合格 → 合格). */
const tapped = new Map();

/** showsOn says whether item it's button for value v shows pressed: the
 *  tap being saved (tapped, by k), if any, or else answer a. One rule for
 *  the tap, the draw and the save's end. */
const showsOn = (k, it, a, v) => (tapped.has(k) ? tapped.get(k).value === v : isOn(it, a, v));

/** pressSeg presses item it's buttons on the page as showsOn says. */
function pressSeg(k, it, a) {
  for (const b of document.querySelectorAll(`#item-${CSS.escape(it.key)} .seg button[data-value]`)) {
    if (b instanceof HTMLElement) pressed(b, showsOn(k, it, a, b.dataset.value || ''));
  }
}

/** noteOf is answer a's note. */
const noteOf = (a) => (a && typeof a === 'object' ? a.note : undefined) || '';

/** isOn says whether the button for value v (its data-value) shows answer a
 *  of item it. */
function isOn(it, a, v) {
  if (!a || typeof a !== 'object') return false;
  return it.type === 'check' || v === 'na' ? a.result === v : a.result !== 'na' && a.value != null && String(a.value) === v;
}

export async function render(app, id) {
  const c = app.client;
  revokeThumbs();
  const insp = await c.get('inspection', id);
  if (!insp || insp.deleted) return h('div', { class: 'card' }, h('p', {}, '本机没有这条检查记录。'), h('a', { class: 'btn block', href: '#/' }, '回到首页'));
  const f = insp.fields;
  const [site, tpl, photos, findings, superseded, reviews, failedJobs] = await Promise.all([
    c.get('site', f.site_id), c.get('checklist_template', `${f.template_id}@${f.template_version}`),
    c.list('photo', (r) => r.fields.inspection_id === id), c.list('finding', (r) => r.fields.inspection_id === id && !r.deleted),
    c.superseded(), c.list('review', (r) => r.fields.inspection_id === id), failedUploads(c)]);
  if (!tpl) return h('div', { class: 'card' }, h('p', { class: 'err' }, `本机没有检查表 ${f.template_id}（第 ${f.template_version} 版），请联网同步后再打开。`));
  const items = tpl.fields.items || [];
  const answers = answersOf(insp);
  const status = f.status || 'draft';
  const locked = status === 'submitted' || status === 'approved';
  // An open finding follows its answer (findingFor) in a write after the
  // answer's: a page killed between the two left the finding without the
  // note for good. Each draw puts it right.
  if (!locked) {
    for (const fd of findings) {
      const it = items.find((x) => x.key === fd.fields.item_key);
      const answer = it && answers[it.key];
      if (!it?.finding_on_fail || fd.fields.status !== 'open' || !failed(it, answer)) continue;
      const desc = findingDescription(it, answer);
      if (fd.fields.description !== desc) {
        await c.save('finding', fd.id, { description: desc });
        fd.fields.description = desc;
      }
    }
  }
  // Photos whose file the server refused: never sent, to be taken again.
  const refusedOf = new Map(photos.map((p) => [p.id, refusal(p, failedJobs)]).filter(([, r]) => r));
  const missing = completeness(items, answers, photos.map((p) => ({ ...p.fields, refused: refusedOf.has(p.id) })));
  const serverMissing = Array.isArray(f.missing_items) ? f.missing_items : [];
  const lost = superseded.filter((s) => s.entity === 'inspection' && s.id === id);
  const err = h('p', { class: 'err', id: 'insp-error', role: 'alert' }, submitErrors.get(id) || '');

  /** lockedElsewhere says whether stored, the inspection as the storage
   *  now holds it, was submitted since this page was drawn (another window
   *  of the app: split screen, two tabs) — locked until the office
   *  returns it, so nothing is saved (the server would refuse it, leaving
   *  the inspector refusals to read) — and if so says it and draws the
   *  page again as it now is. */
  const lockedElsewhere = (stored) => {
    const st = stored?.fields.status;
    if (locked || (st !== 'submitted' && st !== 'approved')) return false;
    const m = '这次检查已提交（在本应用的另一个窗口），不能再修改。';
    err.textContent = m;
    toast(m, true, 'error');
    app.refresh();
    return true;
  };

  const save = async (fields) => {
    try {
      await c.save('inspection', id, fields);
      submitErrors.delete(id);
      return true;
    } catch (e) {
      err.textContent = message(e);
      toast(message(e), true, 'error');
      return false;
    }
  };

  /** setAnswer saves the answer make(current) makes from the item's
   *  stored answer — an answer, null to clear it, undefined to save
   *  nothing — and opens or drops the item's finding. */
  const setAnswer = (it, make, errEl) => {
    // One item's answers are saved one after the other, each made from the
    // answer saved before it, not from the page, which may be older: a note
    // typed right after a tap on 合格 is saved with 合格, a second tap on
    // 不合格 finds the finding the first opened, and keystrokes typed during
    // a save are saved after it, not dropped.
    const k = id + '/' + it.key;
    const next = (answering.get(k) ?? Promise.resolve()).then(() => saveAnswer(it, make, errEl));
    const done = next.catch(() => {});
    answering.set(k, done);
    done.then(() => { if (answering.get(k) === done) answering.delete(k); });
    return next;
  };
  const saveAnswer = async (it, make, errEl) => {
    const k = id + '/' + it.key;
    let cur;
    try {
      const stored = await c.get('inspection', id); // read anyway: no wait added
      if (lockedElsewhere(stored)) return;
      cur = answersOf(stored)[it.key];
    } catch (e) {
      err.textContent = message(e);
      return;
    }
    const answer = make(cur);
    if (answer === undefined) return;
    if (answer) {
      const p = parseAnswer(it, answer);
      if (p.error) {
        errEl.textContent = p.error;
        refusedInput.set(k, { answer, error: p.error }); // shown again by the next draw
        // The page was drawn again while the answer waited for the one
        // before it: this item's message is on the new page.
        if (!errEl.isConnected) app.refresh();
        return;
      }
    }
    // A valid answer takes the place of a refused one at once: its
    // message goes (the page may not be drawn again now: the inspector
    // may be in a field), and a draw while it is being saved shows
    // neither the refused value nor the message.
    if (refusedInput.has(k) && errEl.textContent === refusedInput.get(k).error) errEl.textContent = '';
    refusedInput.delete(k);
    if (!(await save({ ['answers.' + it.key]: answer }))) return;
    // A new answer has taken the waiting note; a cleared answer's note
    // waits for the next answer.
    if (answer) pendingNotes.set(k, '');
    else if (noteOf(cur)) pendingNotes.set(k, noteOf(cur));
    if (it.finding_on_fail) await findingFor(c, insp, it, answer);
    // Not drawn again while the inspector types (in this item's note, say):
    // the draw would take the field from under their fingers. The item's
    // buttons show the answer now, the rest when they leave the field.
    if (!app.refresh()) {
      // (A later tap, still being saved, shows its own: tapped.)
      pressSeg(k, it, answer);
    }
  };
  /** withNote adds to a new answer the note of the one it replaces, or the
   *  note typed before the item was answered. */
  const withNote = (it, ans, cur) => {
    const note = noteOf(cur) || pendingNotes.get(id + '/' + it.key);
    if (note) ans.note = note;
    return ans;
  };

  const itemCard = (it) => {
    // Shown as the object it stands for, also when stored as a bare value.
    const a = answerObject(it, answers[it.key]);
    const parsed = a != null ? parseAnswer(it, a) : null;
    // Said as it appears (a value out of range, a photo not saved).
    const errEl = h('p', { class: 'err', role: 'alert' }, parsed?.error || photoErrors.get(id + '/' + it.key) || '');
    const miss = missing.filter((m) => m.key === it.key);
    const lostHere = lost.filter((s) => s.field === 'answers.' + it.key);
    const itemPhotos = photos.filter((p) => p.fields.item_key === it.key);
    const finding = findings.find((x) => x.fields.item_key === it.key);
    const k = id + '/' + it.key;
    const choose = (value) => {
      if (locked) return;
      const tap = { value: String(value) };
      tapped.set(k, tap);
      pressSeg(k, it, a);
      const saving = setAnswer(it, (cur) => withNote(it, value === 'na' || it.type === 'check' ? { result: value } : { value }, cur), errEl);
      saving.finally(() => { if (tapped.get(k) === tap) tapped.delete(k); });
    };
    const seg = (opts) => segmented(it.label, {}, opts.map(([v, label, cls]) => {
      const on = showsOn(k, it, a, String(v));
      return h('button', { type: 'button', class: (on ? 'on ' : '') + (cls || ''), 'aria-pressed': String(on), disabled: locked, dataset: { value: String(v) }, onclick: () => choose(v) }, label);
    }));
    let input;
    /** The field a value is typed in (number, text), which errEl is about. */
    let field = null;
    switch (it.type) {
      case 'check':
        input = seg([['pass', '合格'], ['fail', '不合格', 'fail'], ['na', '不适用', 'na']]);
        break;
      case 'boolean':
        input = seg([[true, '是'], [false, '否', it.finding_on_fail ? 'fail' : ''], ['na', '不适用', 'na']]);
        break;
      case 'choice':
        input = seg([...(it.options || []).map((o) => [o.value, o.label, o.fails ? 'fail' : '']), ['na', '不适用', 'na']]);
        break;
      case 'number': {
        const num = h('input', { type: 'number', inputmode: 'decimal', step: 'any', disabled: locked, dataset: { input: it.key }, 'aria-label': it.label + (it.unit ? `（${it.unit}）` : ''),
          value: a && typeof a.value === 'number' ? String(a.value) : '', placeholder: range(it) });
        // A value refused here (out of range) stays in the field with its
        // error across the page's redraws, until it is corrected.
        const refused = refusedInput.get(id + '/' + it.key);
        if (refused && !locked) {
          num.value = String(refused.answer.value ?? '');
          errEl.textContent = refused.error;
        }
        // The error goes as soon as what is typed is a value in range: it
        // stayed while the inspector corrected it, until the field was
        // left (phone probe). The value is saved when it is left.
        num.addEventListener('input', () => {
          const v = num.value.trim();
          if (errEl.textContent && v !== '' && Number.isFinite(Number(v)) && !parseAnswer(it, { value: Number(v) }).error) errEl.textContent = '';
        });
        num.addEventListener('change', () => {
          const v = num.value.trim();
          if (v === '') { setAnswer(it, () => null, errEl); return; }
          const n = Number(v);
          if (!Number.isFinite(n)) { errEl.textContent = `${it.label}：请填数字`; return; }
          setAnswer(it, (cur) => withNote(it, { value: n }, cur), errEl);
        });
        field = num;
        input = [h('div', { class: 'row' }, num, h('span', { class: 'fit unit' }, it.unit || '')),
          seg([['na', '不适用', 'na']])];
        break;
      }
      default: { // text
        const txt = h('textarea', { disabled: locked, dataset: { input: it.key }, rows: 2, maxlength: TEXT_ANSWER_MAX, 'aria-label': it.label }, '');
        field = txt;
        txt.value = a && typeof a.value === 'string' ? a.value : '';
        txt.addEventListener('change', () => {
          const v = txt.value.trim();
          const long = tooLong(it.label, v, TEXT_ANSWER_MAX);
          if (long) { errEl.textContent = long; return; }
          setAnswer(it, (cur) => (v ? withNote(it, { value: v }, cur) : null), errEl);
        });
        input = [txt, seg([['na', '不适用', 'na']])];
      }
    }
    // maxlength: the server's limits (an answer's note 2000 characters,
    // the summary 4000), so that nothing typed is refused after the fact.
    const note = h('textarea', { rows: 1, maxlength: NOTE_MAX, placeholder: '备注（可选）', disabled: locked, dataset: { note: it.key }, 'aria-label': it.label + '：备注' });
    // A note typed on an item not answered yet waits on the phone for the
    // answer (it is saved with it), and says so; a locked inspection
    // shows only what was saved.
    const waiting = !locked && a == null ? pendingNotes.get(id + '/' + it.key) : '';
    note.value = noteOf(a) || waiting;
    const noteWaits = h('p', { class: 'small warn', hidden: !waiting, dataset: { noteWaits: it.key } }, '备注在作答后才会保存（可选“不适用”）');
    note.addEventListener('change', () => {
      const v = note.value.trim();
      // Longer than the server takes (pasted past maxlength): kept in the
      // field, and said, not saved.
      const long = tooLong('备注', v, NOTE_MAX);
      noteErr.textContent = long || '';
      if (long) return;
      setAnswer(it, (cur) => {
        if (cur == null) {
          pendingNotes.set(id + '/' + it.key, v);
          noteWaits.hidden = !v;
          return undefined;
        }
        // An answer of an older app, a bare value, as parseAnswer reads it.
        const next = { ...answerObject(it, cur) };
        if (v) next.note = v; else delete next.note;
        return next;
      }, errEl);
    });
    // The note's own error, tied to it alone: the item's, tied to both,
    // marked the note invalid for a value out of range (a11y verification).
    const noteErr = tieError(h('p', { class: 'err', role: 'alert', dataset: { noteErr: it.key } }), note);
    tieError(errEl, field);
    return h('section', { class: 'card itemcard' + (miss.length ? ' missing' : '') + (lostHere.length ? ' superseded' : ''), id: 'item-' + it.key, dataset: { item: it.key } },
      h('h2', { class: 'q' }, it.label, it.required ? [h('span', { class: 'req', title: '必填', 'aria-hidden': 'true' }, '*'), h('span', { class: 'sr-only' }, '（必填）')] : null,
        it.photo_required ? h('span', { class: 'badge photo-req' }, '需拍照') : null),
      it.hint ? h('p', { class: 'hint' }, it.hint) : null,
      it.type === 'number' && range(it) ? h('p', { class: 'hint' }, '范围 ' + range(it)) : null,
      limit(it) ? h('p', { class: 'hint' }, `限值 ${limit(it)}，超过即不合格`) : null,
      input, note, noteWaits, errEl, noteErr,
      limit(it) && failed(it, a) ? h('p', { class: 'small warn', dataset: { overLimit: it.key } }, `超过限值 ${limit(it)}，不合格`) : null,
      finding ? h('p', { class: 'notice small', dataset: { findingFor: it.key } }, `已生成整改问题：${severityNames[finding.fields.severity] || ''}，期限 ${finding.fields.deadline || '无'}，${findingStatusNames[finding.fields.status] || ''}`) : null,
      lostHere.map((s) => h('p', { class: 'notice small superseded-note' }, `您填的“${answerText(it, s.value)}”已被更晚的修改（其他手机或督查室）覆盖，现为“${answerText(it, a)}”。`)),
      miss.length ? h('p', { class: 'small warn' }, miss.map((m) => missingText(m, items, answers)).join('、')) : null,
      // Said until another photo of the item is taken.
      itemPhotos.filter((p) => refusedOf.has(p.id)).map((p) => itemPhotos.every((x) => refusedOf.has(x.id))
        ? h('p', { class: 'err', dataset: { refusedPhoto: p.id } }, photoRefusedMessage(refusedOf.get(p.id), locked))
        : h('p', { class: 'mute small', dataset: { refusedPhoto: p.id } }, '有一张照片被服务器拒收，已重拍。')),
      h('div', { class: 'photos' }, itemPhotos.map((p, i, all) => photoTile(c, p, refusedOf.get(p.id), locked, nth(it.label, i, all))),
        !locked ? cameraButton(c, app, { inspection_id: id, item_key: it.key }, errEl, undefined, it.label) : null));
  };

  const missingKeys = [...new Set(missing.map((m) => m.key))];
  const label = (k) => items.find((i) => i.key === k)?.label || k;
  let submitting = false;
  const submit = async () => {
    if (submitting) return;
    submitting = true;
    err.textContent = '';
    // An answer typed just before the tap is saved as its field is left,
    // which the tap does: those saves end first, and what is checked is
    // the inspection as stored now, not as the page was drawn.
    await answersSaved(id + '/');
    const [cur, curPhotos, curFailed] = await Promise.all([c.get('inspection', id), c.list('photo', (r) => r.fields.inspection_id === id), failedUploads(c)]);
    const curAnswers = answersOf(cur);
    const lacks = completeness(items, curAnswers, curPhotos.map((p) => ({ ...p.fields, refused: !!refusal(p, curFailed) })));
    const still = [...new Set(lacks.map((m) => m.key))];
    // A verdict that contradicts another answer says which.
    const why = (k) => lacks.filter((m) => m.key === k && m.reason === 'contradicted').map((m) => '（' + missingText(m, items, curAnswers) + '）').join('');
    // Said on the page shown now and on those drawn after it (the save
    // just awaited draws the page again).
    const refuse = (msg, key) => {
      submitting = false;
      submitErrors.set(id, msg);
      (document.getElementById('insp-error') || err).textContent = msg;
      // The message is read out (role=alert); the keyboard goes to the
      // item to finish, not left on 提交检查 (the a11y probe).
      toItem(key, lacks);
    };
    if (still.length) {
      refuse(`还有 ${still.length} 项没有完成，不能提交：` + still.map((k) => label(k) + why(k)).join('、') + '。草稿已保存，可以稍后再补。', still[0]);
      return;
    }
    // A note is saved with its item's answer: one written on an item left
    // unanswered would never reach the office.
    const noted = items.filter((it) => curAnswers[it.key] == null && pendingNotes.get(id + '/' + it.key)).map((it) => it.key);
    if (noted.length) {
      refuse('以下检查项写了备注但没有作答，备注要在作答后才会保存：' + noted.map(label).join('、') + '。请选择结果（可选“不适用”），或删去备注，再提交。', noted[0]);
      return;
    }
    // A text longer than the server takes was not saved (its field says
    // so): the inspection is not submitted without it.
    const long = [...document.querySelectorAll('#inspection textarea[data-maxlen]')].find((el) => chars(el.value.trim()) > Number(el.dataset.maxlen));
    if (long) {
      const key = long.closest('[data-item]')?.dataset.item;
      refuse('有内容超过长度限制，没有保存：' + (key ? label(key) : '检查小结') + '。请删减后再提交。', key);
      if (!key) long.scrollIntoView({ block: 'center' });
      return;
    }
    // Asked once, with what is sent: a submitted inspection is the
    // office's until it is returned, and one tap is easily made by mistake.
    const found = (await c.list('finding', (r) => r.fields.inspection_id === id)).length;
    const again = status === 'returned';
    if (!window.confirm(`${again ? '重新提交' : '提交'}这次检查？${found ? `共发现问题 ${found} 个。` : '未发现问题。'}提交后不能再修改，督查室退回后才可修改。`)) {
      submitting = false;
      return;
    }
    // A resubmission keeps the visit's end: the visit is started_at to
    // finished_at (the console's 检查时间, its photos' outside_visit), not
    // to the correction days later.
    const ok = await save({ status: 'submitted', finished_at: (again && cur?.fields.finished_at) || chinaTime() });
    submitting = ok; // done: the page is drawn again, locked
    if (ok) {
      toast(again ? '已重新提交，有信号时上传' : '已提交，有信号时上传', false, 'saved');
      app.render();
      app.sync(false);
    }
  };
  const summary = h('textarea', { rows: 3, id: 'summary', maxlength: maxLen.inspection.summary, disabled: locked, placeholder: '检查小结（可选）' });
  summary.value = f.summary || '';
  const summaryErr = h('p', { class: 'err', id: 'summary-error' });
  summary.addEventListener('change', () => {
    summaryErr.textContent = tooLong('检查小结', summary.value.trim(), maxLen.inspection.summary);
    if (!summaryErr.textContent) save({ summary: summary.value.trim() });
  });
  // A draft never submitted may be given up (a visit started twice, at
  // the wrong site, with the wrong checklist): it and its findings are
  // deleted, here and, once synced, on the server. Not one with photos:
  // they are evidence, which a phone never deletes (DESIGN).
  const discard = async () => {
    err.textContent = '';
    const taken = (await c.list('photo', (p) => p.fields.inspection_id === id)).length;
    if (taken) {
      err.textContent = `这次检查已拍了 ${taken} 张照片，照片是执法证据，不能删除，所以不能放弃。可以把检查填完提交，或在小结里说明情况。`;
      return;
    }
    const answered = Object.keys(answersOf(await c.get('inspection', id))).length;
    if (!window.confirm(`放弃这次检查？${answered ? `已填写的 ${answered} 项答案` : '这条草稿'}将从本机删除，不能恢复。`)) return;
    try {
      for (const x of await c.list('finding', (r) => r.fields.inspection_id === id)) await c.remove('finding', x.id);
      await c.remove('inspection', id);
    } catch (e) {
      err.textContent = message(e);
      return;
    }
    clearDraft('inspection:' + id);
    for (const it of items) pendingNotes.set(id + '/' + it.key, '');
    toast('已放弃这次检查', false, 'saved');
    location.hash = '#/';
    app.sync(false);
  };
  const review = reviews.sort((a, b) => String(b.fields.decided_at).localeCompare(String(a.fields.decided_at)))[0];
  const uploading = photos.filter((p) => p.fields.uploaded !== true && !refusedOf.has(p.id)).length;
  // The items whose every photo was refused: to be taken again.
  const retake = [...new Set(photos.filter((p) => refusedOf.has(p.id)).map((p) => p.fields.item_key))]
    .filter((k) => photos.every((p) => p.fields.item_key !== k || refusedOf.has(p.id)));

  const view = h('div', { id: 'inspection', dataset: { id, status } },
    h('h1', {}, site?.fields.name || '检查'),
    h('div', { class: 'card' },
      h('p', {}, tpl.fields.title),
      // finished_at stays the first submission's (the visit's end): after
      // a return, it is said as such (phone probe: 提交于 read as the
      // resubmission's time).
      h('p', { class: 'mute small', id: 'visit-times' }, '开始于 ', when(f.started_at),
        f.finished_at ? (reviews.some((r) => r.fields.decision === 'return') ? ' · 首次提交于 ' : ' · 提交于 ') + when(f.finished_at) : ''),
      h('p', { id: 'status-line' }, badges(h('span', { class: 'badge ' + status, id: 'status' }, statusNames[status] || status),
        insp.pending.length ? h('span', { class: 'badge pending', id: 'unsent' }, '有修改待上传') : null)),
      status === 'returned' ? h('div', { class: 'comment', id: 'review-comment' }, h('b', {}, '退回意见：'), f.review_comment || review?.fields.comment || '（无）',
        review?.fields.reviewer_name ? h('div', { class: 'small mute' }, review.fields.reviewer_name, ' · ', when(review.fields.decided_at)) : null) : null,
      status === 'approved' ? h('p', { class: 'ok', id: 'locked' }, '已审核通过，记录已锁定，不能再修改。', f.review_comment ? ' 意见：' + f.review_comment : '') : null,
      status === 'submitted' ? h('p', { class: 'notice', id: 'locked' }, '已提交，等待督查室审核；审核前不能修改。') : null,
      !locked ? (missing.length
        ? h('div', { class: 'notice', id: 'missing' }, `还缺 ${missingKeys.length} 项：`, missingKeys.map((k, i) => [i ? '、' : '', h('a', { href: '#/inspection/' + id, onclick: (e) => { e.preventDefault(); toItem(k, missing); } }, label(k))]))
        : h('p', { class: 'ok', id: 'missing', dataset: { complete: '1' } }, '所有必填项已完成，可以提交。')) : null,
      uploading ? h('p', { class: 'mute small', id: 'photos-waiting' }, `${uploading} 张照片待上传`) : null,
      refusedOf.size ? h('p', { class: retake.length ? 'err' : 'mute small', id: 'photos-refused' }, `${refusedOf.size} 张照片被服务器拒收，不会上传`,
        locked && retake.length ? '；检查已提交，手机上不能重拍，需要补拍时请督查室退回这次检查。'
          : retake.length ? ['，请重拍：', retake.map((k, i) => [i ? '、' : '', h('a', { href: '#/inspection/' + id, onclick: (e) => { e.preventDefault(); toItem(k, [{ key: k, reason: 'photo_refused' }]); } }, k ? label(k) : '照片')]), '。']
          : '（已重拍）。') : null,
      serverMissing.some((m) => m.reason === 'photo_upload') && !uploading && !refusedOf.size ? h('p', { class: 'mute small' }, '服务器尚未收到部分照片，同步后更新。') : null),
    lost.length ? h('p', { class: 'notice', id: 'superseded-here' }, `有 ${lost.length} 处修改被另一台手机或督查室更晚的修改覆盖（见下方蓝色标记）。`) : null,
    items.map(itemCard),
    h('section', { class: 'card' }, labelFor('检查小结', summary), summary, summaryErr),
    findings.length ? h('section', { class: 'card', id: 'insp-findings' }, h('h2', {}, `整改问题（${findings.length}）`),
      status === 'approved' && findings.some((x) => x.fields.status !== 'verified')
        ? h('p', { class: 'mute small', id: 'rectify-hint' }, '点问题报告整改情况（整改中、已整改，附整改照片）。') : null,
      h('ul', { class: 'list' }, findings.map((x) => h('li', {}, h('a', { class: 'item', href: '#/finding/' + x.id, dataset: { finding: x.id } },
        x.fields.description,
        h('div', { class: 'mute small' }, severityNames[x.fields.severity] || '', ' · 期限 ', x.fields.deadline || '无', ' · ',
          x.fields.status === 'rectified' ? '已整改（待核实）' : findingStatusNames[x.fields.status] || '',
          x.fields.status === 'rectifying' && x.fields.verify_comment ? [' ', h('span', { class: 'badge returned' }, '督查退回')] : null),
        status === 'approved' && x.fields.status !== 'verified' ? h('div', { class: 'go small' }, '报告整改 ›') : null))))) : null,
    err,
    status === 'draft' ? h('p', { class: 'discard' }, h('button', { type: 'button', class: 'danger block', id: 'discard', onclick: discard }, '放弃这次检查')) : null,
    !locked ? h('div', { class: 'sticky-actions' }, h('button', { class: 'primary block', id: 'submit', onclick: submit }, status === 'returned' ? '修改完成，重新提交' : '提交检查')) : null);
  keepTyped(view, draft('inspection:' + id), locked);
  return view;
}

/** keepTyped keeps what is typed into root's text areas and number fields
 *  (a text or number answer, a note, the summary: saved on their change
 *  event, when the field is left) in draft d, with the value it was typed over, until the record
 *  shows it saved: a reload — the phone killing the page in the
 *  background, before the save ends — loses none of it. A draw finding
 *  the field still at that value puts the text back and saves it; one
 *  finding any other value (saved, or written since by another phone)
 *  drops it. On a locked inspection it is dropped. */
function keepTyped(root, d, locked) {
  for (const el of root.querySelectorAll('textarea, input[type=number]')) {
    const k = el.id || (el.dataset.input ? 'input:' + el.dataset.input : el.dataset.note ? 'note:' + el.dataset.note : '');
    if (!k) continue;
    const kept = d[k];
    if (kept && typeof kept === 'object') {
      if (locked || el.value !== kept.base || kept.typed === kept.base) {
        delete d[k];
        keepDrafts();
      } else {
        el.value = kept.typed;
        el.dispatchEvent(new Event('change'));
      }
    }
    const base = kept && typeof kept === 'object' && d[k] ? kept.base : el.value;
    el.addEventListener('input', () => {
      if (el.value === base) delete d[k]; else d[k] = { typed: el.value, base };
      keepDrafts();
    });
  }
}

/** toItem brings checklist item key's card to the middle of the screen
 *  and the keyboard to its first control (a link to an item that only
 *  scrolled left the focus behind: the next Tab went back up, a11y
 *  probe) — to its camera when what it lacks (missing: completeness's
 *  list) is only a photo, not to 合格 — or to the card itself when it
 *  has none enabled. */
function toItem(key, missing = []) {
  const card = document.getElementById('item-' + key);
  if (!card) return;
  card.scrollIntoView({ block: 'center' });
  const lacks = missing.filter((m) => m.key === key);
  // Answered on the card as it is now (the list may be of a draw before
  // the answer was saved): then what it lacks is its photo.
  const answered = !!card.querySelector('.seg button[aria-pressed="true"]') ||
    [...card.querySelectorAll('[data-input]')].some((f) => (f instanceof HTMLInputElement || f instanceof HTMLTextAreaElement) && f.value.trim() !== '');
  const photoOnly = lacks.some((m) => m.reason.startsWith('photo')) && (answered || lacks.every((m) => m.reason.startsWith('photo')));
  let to = (photoOnly ? card.querySelector('label.camera input[type="file"]:not([disabled])') : null) ||
    card.querySelector('button:not([disabled]), input:not([disabled]), textarea:not([disabled])');
  if (!(to instanceof HTMLElement)) {
    card.tabIndex = -1;
    to = card;
  }
  to.focus({ preventScroll: true });
}

/** findingFor opens a finding when item it is failed (one per item),
 *  updates its description with the note, and drops it when the answer
 *  of a draft, or of an inspection the office returned (open to edits
 *  again, findings with it: sync.md §9), no longer fails. */
async function findingFor(c, insp, it, answer) {
  // Read now, not from the page: a tap on the page before it was drawn
  // again must find the finding the previous tap opened.
  const [existing] = await c.list('finding', (x) => x.fields.inspection_id === insp.id && x.fields.item_key === it.key);
  const desc = findingDescription(it, answer);
  if (failed(it, answer)) {
    if (existing) {
      // Followed while open: once the rectification has begun, the
      // description is what it answers (device.followFinding likewise).
      if (existing.fields.status === 'open' && existing.fields.description !== desc) await c.save('finding', existing.id, { description: desc });
      return;
    }
    const f = { inspection_id: insp.id, item_key: it.key, description: desc, severity: it.severity || 'major', status: 'open' };
    if (it.deadline_days > 0) f.deadline = chinaDate(now(), it.deadline_days);
    await c.save('finding', uuidv7(), f);
    toast(`已生成整改问题（${it.label}，${severityNames[f.severity] || ''}），期限 ${f.deadline || '无'}`, false, 'finding');
  } else if (existing && ['draft', 'returned'].includes(insp.fields.status) && existing.fields.status === 'open') {
    await c.remove('finding', existing.id);
  }
}

/** Photos chosen and being saved on this page, by cameraButton's key: a
 *  count kept in the drafts too (shots), which a page reloaded while they
 *  were saved finds higher than its own. */
const saving = new Map();

/** cameraButton: the camera (or the gallery where there is no camera)
 *  through a file input; the original file is kept byte for byte. A photo
 *  is stored once the phone's position is known (it is signed with it):
 *  the position is asked for as the camera opens, the photo shows as
 *  being saved meanwhile, and if the page is killed before it is stored
 *  (the phone ended it in the background), the item says so when it is
 *  opened again. */
export function cameraButton(c, app, fields, errEl, onTaken, what = '') {
  // Named with what it photographs: seventeen buttons read 拍照 alike (a11y probe).
  const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', 'aria-label': what ? `拍照：${what}` : '拍照',
    dataset: { photoFor: fields.item_key || (fields.finding_id ? 'finding' : 'vehicle') } });
  const key = fields.inspection_id && fields.item_key ? fields.inspection_id + '/' + fields.item_key : '';
  const shotKey = key || fields.finding_id || '';
  const shots = draft('shots');
  const lost = (shots[shotKey] || 0) - (saving.get(shotKey) || 0);
  if (shotKey && lost > 0) {
    errEl.textContent = `页面重新打开前拍的 ${lost} 张照片没有保存下来，请重新拍摄。`;
    if (key) photoErrors.set(key, errEl.textContent);
    shots[shotKey] = saving.get(shotKey) || 0;
    if (!shots[shotKey]) delete shots[shotKey];
    keepDrafts();
  }
  const count = (n) => {
    saving.set(shotKey, (saving.get(shotKey) || 0) + n);
    shots[shotKey] = (shots[shotKey] || 0) + n;
    if (!saving.get(shotKey)) saving.delete(shotKey);
    if (!shots[shotKey]) delete shots[shotKey];
    keepDrafts();
  };
  // The position, asked for now: by the time the picture is taken it is known.
  input.addEventListener('click', () => { geo.fix(8000).catch(() => {}); });
  const button = h('label', { class: 'btn camera shoot thumb-add', dataset: { shot: shotKey } }, h('b', { class: 'plus' }, '＋'), h('span', { class: 'small' }, '拍照'), input);
  // The button of this item on the page as it is now: the page may have
  // been drawn again while the photo waited for the position (another
  // item answered meanwhile), and this one is then no longer shown.
  const live = () => button.isConnected || !shotKey ? button : [...document.querySelectorAll('label.thumb-add')].find((b) => b.dataset.shot === shotKey);
  input.addEventListener('change', async () => {
    const picked = [...(input.files || [])];
    input.value = '';
    if (!picked.length) return;
    // Counted and shown at once: the page may be killed while they are read.
    if (shotKey) count(picked.length);
    const shown = picked.map(() => h('div', { class: 'thumb saving', dataset: { photo: 'saving' } }, h('span', {}, '正在定位并保存…')));
    button.before(...shown);
    // The same photo picked again for this item (from the gallery) is
    // not a second one: skipped, and said, as on the roadside form.
    const mine = (p) => ['inspection_id', 'item_key', 'finding_id'].every((k) => (p.fields[k] ?? '') === (fields[k] ?? ''));
    const had = onTaken ? [] : (await c.list('photo', mine)).map((p) => p.fields.sha256).filter(Boolean);
    const { files, said } = await withoutRepeats(picked, had);
    const sayRepeats = () => {
      if (!said) return;
      errEl.textContent = said;
      if (key) photoErrors.set(key, said);
    };
    const pending = [];
    shown.forEach((tile, i) => (files.includes(picked[i]) ? pending.push(tile) : tile.remove()));
    if (shotKey && files.length < picked.length) count(files.length - picked.length);
    if (!files.length) return sayRepeats();
    const taken = [];
    for (const [i, file] of files.entries()) {
      try {
        if (onTaken) await onTaken(file);
        else {
          const got = await takePhoto(c, file, fields);
          taken.push(got);
          if (typeof got.fields.lat !== 'number') toast(NO_POSITION, true, 'nopos');
        }
        if (key) photoErrors.delete(key);
      } catch (e) {
        errEl.textContent = message(e);
        if (key) photoErrors.set(key, message(e));
        toast(message(e), true, 'error');
      } finally {
        if (shotKey) count(-1);
        pending[i].remove();
      }
    }
    // Said once the others are saved (a save clears the item's error).
    if (!photoErrors.has(key) || photoErrors.get(key) === said) sayRepeats();
    // Not drawn again while a field has the focus (the inspector was in a
    // note): the photos are shown in place meanwhile — beside the item's
    // button as the page is now, not one a redraw took away (the field
    // probe: photos stored but not shown until the form was left).
    if (!onTaken && !app.refresh()) live()?.before(...taken.map((p) => photoTile(c, p, null, false, what)));
  });
  return button;
}

export { flagTitles };
