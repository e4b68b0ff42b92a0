/**
 * Returns a new lower-case UUIDv7.
 * @param {number} [ms] Unix milliseconds to embed (default: Date.now()).
 * @returns {string}
 */
export function uuidv7(ms?: number): string;
