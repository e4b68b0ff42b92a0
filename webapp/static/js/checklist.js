// Checklist answers (sync.md 9.1) and completeness (9.2), as
// syncproto.ParseAnswer and syncproto.CheckCompleteness compute them, so
// that what the phone accepts at entry is what the server counts.

const typeNames = { check: '合格/不合格', number: '数值', text: '文字', choice: '选项', boolean: '是/否' };

/** range shows a number item's bounds: "0–35 t/h", "≥ 0 吨". */
// blank says whether a text shows nothing, as the server's Blank does:
// only spaces, characters that print nothing (U+200B, the Hangul fillers,
// variation selectors, U+2800) and combining marks with nothing to
// combine with. Such an answer is no answer.
export function blank(s) {
  return /^[\s\p{Cf}\p{Default_Ignorable_Code_Point}\p{Mn}\p{Me}\u0085\u2800]*$/u.test(s);
}

/** limit says a number item's limit (fails_above) for people, or ''. */
export function limit(it) {
  if (it.type !== 'number' || typeof it.fails_above !== 'number') return '';
  return `${it.fails_above}${it.unit ? ' ' + it.unit : ''}`;
}

export function range(it) {
  let s;
  const hasMin = typeof it.min === 'number', hasMax = typeof it.max === 'number';
  if (hasMin && hasMax) s = `${it.min}–${it.max}`;
  else if (hasMin) s = `≥ ${it.min}`;
  else if (hasMax) s = `≤ ${it.max}`;
  else return '';
  return it.unit ? s + ' ' + it.unit : s;
}

/** answerObject is answer a of item it as an object: a bare value (an
 *  older app's, the server's demo) as the object it stands for (sync.md
 *  §9.1: "pass" for a check item is {result: "pass"}, 128 is {value:
 *  128}); an object, or nothing, as it is. */
export function answerObject(it, a) {
  if (a == null || (typeof a === 'object' && !Array.isArray(a))) return a;
  return it.type === 'check' && typeof a === 'string' ? { result: a } : { value: a };
}

/** parseAnswer checks answer a (an object, or an old bare value) against
 *  item it; it returns {answer} or {error} (Chinese). */
export function parseAnswer(it, a) {
  const bad = (m) => ({ error: `${it.label}：${m}` });
  if (a == null) return bad('没有答案');
  a = answerObject(it, a);
  for (const k of Object.keys(a)) if (!['result', 'value', 'note'].includes(k)) return bad(`答案含未知字段 ${k}`);
  if (a.note != null && typeof a.note !== 'string') return bad('备注应为文字');
  if (a.note && [...a.note].length > 2000) return bad('备注超过 2000 个字');
  if (a.result != null && !['pass', 'fail', 'na'].includes(a.result)) return bad('结果只能是合格、不合格或不适用');
  if (it.type === 'check') {
    if (!a.result) return bad('请选择合格、不合格或不适用');
    if (a.value != null) return bad('合格/不合格项不能填数值');
    return { answer: a };
  }
  if (a.result === 'na') return a.value != null ? bad('答了不适用，不能同时填值') : { answer: a };
  if (a.result) return bad(`是${typeNames[it.type] || ''}项，只能答不适用`);
  if (a.value == null) return bad('没有填写');
  const v = a.value;
  switch (it.type) {
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad('应填数字');
      if ((typeof it.min === 'number' && v < it.min) || (typeof it.max === 'number' && v > it.max)) return bad('超出范围 ' + range(it));
      break;
    case 'text':
      if (typeof v !== 'string' || blank(v)) return bad('应填文字');
      break;
    case 'choice':
      if (!(it.options || []).some((o) => o.value === v)) return bad('应从选项中选一个');
      break;
    case 'boolean':
      if (typeof v !== 'boolean') return bad('应选是或否');
      break;
    default:
      return bad(`类型 ${it.type} 未知，请更新应用`);
  }
  return { answer: a };
}

/** failed: an answer that fails item it, as syncproto's Answer.Failed
 *  says — a check answered fail, a boolean with finding_on_fail answered
 *  false, a choice answered with an option marked fails. */
export function failed(it, a) {
  a = answerObject(it, a);
  if (!a) return false;
  if (typeof a.value === 'boolean') return !a.value && !!it.finding_on_fail;
  if (typeof a.value === 'string') return it.type === 'choice' && (it.options || []).some((o) => o.value === a.value && o.fails);
  if (typeof a.value === 'number') return it.type === 'number' && typeof it.fails_above === 'number' && a.value > it.fails_above;
  return a.result === 'fail';
}

/** findingDescription is the description of the finding a failed answer
 *  raises, as syncproto's Answer.FindingDescription spells it: the item,
 *  then 不合格 or the chosen option's label, then the note. */
export function findingDescription(it, a) {
  a = answerObject(it, a);
  const what = it.type === 'choice' && typeof a?.value === 'string' ? answerText(it, { value: a.value }) : '不合格';
  return it.label + '：' + what + (a?.note ? '。' + a.note : '');
}

/** answerText shows an answer for people. */
export function answerText(it, a) {
  a = answerObject(it, a);
  if (!a) return '未填';
  let s = { pass: '合格', fail: '不合格', na: '不适用' }[a.result] || '';
  if (typeof a.value === 'number') s = a.value + (it.unit ? ' ' + it.unit : '');
  else if (typeof a.value === 'boolean') s = a.value ? '是' : '否';
  else if (typeof a.value === 'string') s = (it.options || []).find((o) => o.value === a.value)?.label || a.value;
  return a.note ? `${s}（${a.note}）` : s;
}

/** answersOf collects an inspection record's answers by item key, in an
 *  object without a prototype: a key such as __proto__ (which no
 *  checklist has, and the server refuses) is only a key, never the
 *  object's prototype, which would hide every answer. */
export function answersOf(rec) {
  const out = Object.create(null);
  const f = rec?.fields || {};
  if (f.answers && typeof f.answers === 'object') for (const [k, v] of Object.entries(f.answers)) out[k] = v;
  for (const [k, v] of Object.entries(f)) if (k.startsWith('answers.')) out[k.slice(8)] = v;
  return out;
}

/** completeness lists what an inspection lacks, in the checklist's order:
 *  [{key, reason: answer|invalid|contradicted|photo|photo_unreadable|photo_refused|photo_upload, detail}].
 *  photos are [{item_key, uploaded, flags, refused}] — a photo taken on this phone
 *  counts as taken unless the server found it unreadable (its flags, once
 *  pulled) or refused its file (refused: it will never arrive); the server
 *  adds photo_upload until its bytes arrive. */
export function completeness(items, answers, photos) {
  const missing = [];
  const verdicts = []; // failed items that have a verdict
  for (const it of items) {
    const raw = answers[it.key];
    const answered = raw != null;
    let a = null;
    if (!answered && it.required) missing.push({ key: it.key, reason: 'answer' });
    else if (answered) {
      const p = parseAnswer(it, raw);
      if (p.error) missing.push({ key: it.key, reason: 'invalid', detail: p.error });
      else {
        a = p.answer;
        if (it.verdict && failed(it, a)) verdicts.push(it);
      }
    }
    if (!it.photo_required || a?.result === 'na' || (!answered && !it.required)) continue;
    const mine = photos.filter((p) => p.item_key === it.key);
    if (!mine.length) missing.push({ key: it.key, reason: 'photo' });
    else if (mine.every((p) => p.refused || (p.flags && typeof p.flags === 'object' && 'unreadable' in p.flags))) {
      missing.push({ key: it.key, reason: mine.some((p) => p.refused) ? 'photo_refused' : 'photo_unreadable' });
    }
  }
  if (!verdicts.length) return missing;
  // A verdict answered pass or na contradicts the failed item it judges
  // (syncproto's contradictions): listed at the verdict, in order.
  const at = (k) => items.findIndex((i) => i.key === k);
  for (const it of verdicts) {
    const v = items[at(it.verdict)];
    if (!v || answers[v.key] == null) continue;
    const p = parseAnswer(v, answers[v.key]);
    if (!p.error && !failed(v, p.answer)) missing.push({ key: v.key, reason: 'contradicted', detail: it.key });
  }
  return missing.sort((a, b) => at(a.key) - at(b.key)); // stable: an item's reasons keep their order
}

/** missingText says why an item is listed missing: the reason's words,
 *  and for a contradicted verdict the answer it contradicts. */
export function missingText(m, items, answers) {
  if (m.reason !== 'contradicted') return missingReasons[m.reason] || m.reason;
  const it = items.find((i) => i.key === m.detail);
  const a = it && answerObject(it, answers[it.key]);
  return `与“${it?.label || m.detail}：${a ? answerText(it, { result: a.result, value: a.value }) : ''}”矛盾，应判为不合格`;
}

export const missingReasons = {
  answer: '未填写', invalid: '填写有误', contradicted: '与其他项的答案矛盾', photo: '缺照片', photo_unreadable: '照片无法读取，请重拍', photo_refused: '照片被服务器拒收，请重拍', photo_upload: '照片未上传', template: '检查表未知', site_kind: '检查表不适用于该点位的类型',
};
