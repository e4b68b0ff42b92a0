/**
 * The SHA-256 digest of bytes, computed in JavaScript.
 * @param {Uint8Array} bytes
 * @returns {Uint8Array} 32 bytes
 */
export function sha256(bytes: Uint8Array): Uint8Array;
