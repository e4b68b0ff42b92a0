// The server's limits on what the app's forms write (server/entity.go,
// sync.md §13): a value past them is refused by the server after the fact,
// and the whole record with it. Each field's input is made with the limit
// as its maxlength, which h() keeps as data-maxlen, not the browser's
// maxlength (it cut a paste short without a word): the forms check it
// on saving, saying so in Chinese.
// webapp's tests check these against server.Entities.

/** maxLen: the most characters of each text field, by entity. */
export const maxLen = {
  site: { name: 200, address: 500, note: 2000 },
  inspection: { summary: 4000 },
  finding: { description: 4000, rectification_note: 4000 },
  vehicle_check: { checkpoint: 200, campaign: 100, plate: 16, plate_color: 8, plate_type: 32, vin: 32, obd_codes: 500,
    remote_sensing_id: 64, note: 2000 },
  photo: { caption: 1000 },
};

/** The most characters of an answer's note (syncproto.MaxNoteLen). */
export const NOTE_MAX = 2000;

/** The most characters of a text answer. The server takes an answer of up
 *  to 64 KiB (its JSON): this many characters fit with a whole note, in
 *  any script. */
export const TEXT_ANSWER_MAX = 10000;

/** ranges: the bounds of each number field, by entity. */
export const ranges = {
  site: { radius_m: [1, 50000] },
  vehicle_check: { urea_level_pct: [0, 100], ringelmann: [0, 5], opacity: [0, 20] },
};

/** chars counts the characters of s as the server does (code points). */
export const chars = (s) => [...String(s)].length;

/** tooLong says, in Chinese, that text typed into the field named label
 *  is longer than max characters; '' when it fits. */
export function tooLong(label, text, max) {
  const n = chars(text);
  return n > max ? `“${label}”最多 ${max} 个字，现在有 ${n} 个字，请删减后再保存。` : '';
}

/** outOfRange says, in Chinese, that the number typed into the field
 *  named label (the input el) is not a number or not within [min, max];
 *  '' when it is fine or empty. */
export function outOfRange(label, el, min, max) {
  if (el.validity?.badInput) return `“${label}”应填数字。`;
  const v = el.value.trim();
  if (v === '') return '';
  const n = Number(v);
  return Number.isFinite(n) && n >= min && n <= max ? '' : `“${label}”应在 ${min} 到 ${max} 之间。`;
}
