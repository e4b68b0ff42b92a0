/**
 * hiddenChar returns, as `U+XXXX`, the first character of s that the
 * server refuses in text; '' when there is none.
 * @param {string} s
 * @returns {string}
 */
export function hiddenChar(s: string): string;
/**
 * isFreeText reports whether the server takes s as the text of a note, a
 * description or another free-text field (mobile-api-docs/sync.md §13).
 * @param {string} s
 */
export function isFreeText(s: string): boolean;
/**
 * cleanText returns s without the characters the server refuses in text:
 * what an app does to text typed or
 * pasted into a form before saving it. Line breaks and tabs are kept.
 * @param {string} s
 * @returns {string}
 */
export function cleanText(s: string): string;
/**
 * hiddenIn returns the first character the server refuses in any string
 * inside v (an answer's note, a list's item), as hiddenChar does; ''
 * when there is none. Keys count too.
 * @param {unknown} v
 * @returns {string}
 */
export function hiddenIn(v: unknown): string;
/**
 * isOneLine reports whether the server takes s as text on one line (a
 * name, a plate, a checkpoint, a number): no line break, tab or other
 * control character, no invisible format character and no noncharacter.
 * @param {string} s
 */
export function isOneLine(s: string): boolean;
/**
 * cleanLine returns s without the characters isOneLine refuses: what an
 * app does to a one-line field typed or pasted into.
 * @param {string} s
 * @returns {string}
 */
export function cleanLine(s: string): string;
