// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids
// made on one phone sort by creation time (sync.md §1).

/**
 * Returns a new lower-case UUIDv7.
 * @param {number} [ms] Unix milliseconds to embed (default: Date.now()).
 * @returns {string}
 */
export function uuidv7(ms = Date.now()) {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  let t = Math.floor(ms);
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
