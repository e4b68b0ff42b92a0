// The JavaScript SHA-256 (for pages without Web Crypto) against Node's.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sha256Hex } from '../src/index.js';

test('the SHA-256 fallback matches Web Crypto at every length around the block and padding edges, and on a 3 MB photo', async () => {
  const lengths = [...Array(200).keys(), 1000, 4095, 4096, 65537, 3 * 1024 * 1024 + 7];
  for (const n of lengths) {
    const bytes = new Uint8Array(randomBytes(n));
    const want = createHash('sha256').update(bytes).digest('hex');
    assert.equal(await sha256Hex(bytes, { webCrypto: false }), want, `length ${n}, fallback`);
    assert.equal(await sha256Hex(bytes), want, `length ${n}, Web Crypto`);
  }
  // A view into a larger buffer hashes only its own bytes.
  const big = new Uint8Array(randomBytes(300));
  const view = big.subarray(17, 217);
  assert.equal(await sha256Hex(view, { webCrypto: false }), createHash('sha256').update(view).digest('hex'));
});
