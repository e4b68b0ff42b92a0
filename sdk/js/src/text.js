// The server's rule for text a phone writes (syncproto.FreeText): line
// breaks and tabs, but no other control character (C0, DEL, C1), no
// direction override or isolate (U+202A–202E, U+2066–2069) and no
// noncharacter (U+FDD0–FDEF, and U+xFFFE/U+xFFFF of every plane). A value
// breaking it — often pasted from a chat or a web page, where these
// characters are invisible — is refused by the server, and its whole
// record with it; save() refuses it first.

/**
 * hidden returns whether the code point c is one the server refuses in
 * text.
 * @param {number} c
 */
function hidden(c) {
  if (c === 0x09 || c === 0x0a || c === 0x0d) return false;
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || noncharacter(c);
}

/**
 * noncharacter returns whether the code point c is one of Unicode's
 * noncharacters: U+FDD0–FDEF and the last two of every plane.
 * @param {number} c
 */
function noncharacter(c) {
  return (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) === 0xfffe;
}

/**
 * hiddenChar returns, as `U+XXXX`, the first character of s that the
 * server refuses in text; '' when there is none.
 * @param {string} s
 * @returns {string}
 */
export function hiddenChar(s) {
  for (const ch of s) {
    const c = /** @type {number} */ (ch.codePointAt(0));
    if (hidden(c)) return 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
  }
  return '';
}

/**
 * isFreeText reports whether the server takes s as the text of a note, a
 * description or another free-text field (mobile-api-docs/sync.md §13).
 * @param {string} s
 */
export function isFreeText(s) {
  return hiddenChar(s) === '';
}

/**
 * cleanText returns s without the characters the server refuses in text:
 * what an app does to text typed or
 * pasted into a form before saving it. Line breaks and tabs are kept.
 * @param {string} s
 * @returns {string}
 */
export function cleanText(s) {
  if (isFreeText(s)) return s;
  let out = '';
  for (const ch of s) {
    const c = /** @type {number} */ (ch.codePointAt(0));
    if (!hidden(c)) out += ch;
  }
  return out;
}

/**
 * hiddenIn returns the first character the server refuses in any string
 * inside v (an answer's note, a list's item), as hiddenChar does; ''
 * when there is none. Keys count too.
 * @param {unknown} v
 * @returns {string}
 */
export function hiddenIn(v) {
  if (typeof v === 'string') return hiddenChar(v);
  if (v === null || typeof v !== 'object') return '';
  for (const [k, x] of Object.entries(v)) {
    const c = hiddenChar(k) || hiddenIn(x);
    if (c) return c;
  }
  return '';
}

const FORMAT = /^\p{Cf}$/u;

/**
 * lineHidden returns whether the code point of ch is one the server
 * refuses in text on one line (syncproto.NoControls): a control character
 * (the tab and line breaks too), a line or paragraph separator, a format
 * character (zero-width spaces and joiners, direction marks and
 * overrides, the byte-order mark, the soft hyphen), or a noncharacter.
 * @param {string} ch one code point
 */
function lineHidden(ch) {
  const c = /** @type {number} */ (ch.codePointAt(0));
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || FORMAT.test(ch) || noncharacter(c);
}

/**
 * isOneLine reports whether the server takes s as text on one line (a
 * name, a plate, a checkpoint, a number): no line break, tab or other
 * control character, no invisible format character and no noncharacter.
 * @param {string} s
 */
export function isOneLine(s) {
  for (const ch of s) if (lineHidden(ch)) return false;
  return true;
}

/**
 * cleanLine returns s without the characters isOneLine refuses: what an
 * app does to a one-line field typed or pasted into.
 * @param {string} s
 * @returns {string}
 */
export function cleanLine(s) {
  if (isOneLine(s)) return s;
  let out = '';
  for (const ch of s) if (!lineHidden(ch)) out += ch;
  return out;
}
