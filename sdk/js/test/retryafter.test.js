// Retry-After in both of RFC 9110's forms (the SDK probe: the date form,
// which a proxy in front of the server may send, was ignored and the SDK
// waited about a second).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorFromResponse, retryAfterSeconds } from '../src/http.js';

test('Retry-After: seconds, or an HTTP date, or nothing', () => {
  /** @param {number} s */
  const inSecs = (s) => new Date(Date.now() + s * 1000).toUTCString();
  /** @type {[string | null, number | number[] | undefined][]} */
  const cases = [
    ['120', 120],
    ['0', 0],
    [inSecs(90), [89, 91]],
    [new Date(Date.now() - 60_000).toUTCString(), 0], // past: at once
    [inSecs(7 * 86400), 3600], // a week: at most an hour, the device clock may be wrong
    ['-5', undefined],
    ['0x10', undefined], // decimal digits only
    ['1e3', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ];
  for (const [header, want] of cases) {
    const got = retryAfterSeconds(header);
    if (Array.isArray(want)) assert.ok(got !== undefined && got >= want[0] && got <= want[1], `${header}: ${got}`);
    else assert.equal(got, want, String(header));
  }
  const e = errorFromResponse(503, { code: 'server_busy', message: '服务器繁忙' }, inSecs(30));
  assert.ok(e.details.retryAfter >= 29 && e.details.retryAfter <= 31, JSON.stringify(e.details));
  // With the answer's Date, from the server's clock: a phone whose own
  // clock is two days slow still waits the five seconds asked.
  const server = Date.now() + 2 * 86400_000;
  const at = (/** @type {number} */ ms) => new Date(ms).toUTCString();
  assert.equal(retryAfterSeconds(at(server + 5000), at(server)), 5);
  assert.equal(errorFromResponse(503, null, at(server + 5000), at(server)).details.retryAfter, 5);
});
