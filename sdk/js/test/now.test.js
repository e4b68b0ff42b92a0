// client.now(): the time apps stamp into records (sync.md §7) — the
// device's clock until the server corrects it, then the server's, also
// after the storage is opened again. (integration.test.js corrects a
// phone an hour fast through a real clock_skew answer.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, HLC, MemoryStorage, SERVER_NODE } from '../src/index.js';

test('now() is the device clock until a clock_skew correction, then the server clock, kept across a reopen', async () => {
  const storage = new MemoryStorage();
  let phone = Date.UTC(2025, 0, 15, 2, 0, 0); // the phone's clock: an hour fast
  const server = phone - 3600_000;
  const opts = { baseURL: 'http://127.0.0.1:9', storage, deviceName: '测试手机', now: () => phone };
  const c = await FieldsyncClient.open(opts);
  assert.equal(c.now(), phone, 'uncorrected: the device clock');

  // What a push answered clock_skew does (sync.md §7): the offset to the
  // server's clock, persisted with the clock.
  c.clock.correct(new HLC(server, 0, SERVER_NODE));
  await c.saveClock();
  assert.equal(c.now(), server, 'corrected: the server clock');
  phone += 90_000;
  assert.equal(c.now(), server + 90_000, 'and it runs on with the device clock');

  const again = await FieldsyncClient.open(opts);
  assert.equal(again.now(), server + 90_000, 'the correction survives a restart');
  assert.equal(typeof again.now(), 'number');
});

// A correction kept from an earlier run is for a clock that may have been
// set right while the app was closed (the SDK probe): kept, a phone whose
// slow clock was set right dated its work two days ahead, and the server
// refused the inspection's start; one whose fast clock was set right
// dated it two days behind, unnoticed.
/** @type {{name: string, wrong: number, after: 'set right' | 'left' | 'set past', want: 'device' | 'corrected' | 'closed'}[]} */
const reopenings = [
  { name: 'a slow clock set right while closed: the correction goes', wrong: -2 * 86400_000, after: 'set right', want: 'device' },
  { name: 'a fast clock set right while closed: the correction goes', wrong: 2 * 86400_000, after: 'set right', want: 'device' },
  { name: 'a slow clock left as it was: the correction stays', wrong: -2 * 86400_000, after: 'left', want: 'corrected' },
  { name: 'a fast clock left as it was: the correction stays', wrong: 2 * 86400_000, after: 'left', want: 'corrected' },
  // Not knowing how long the app was closed, the clock goes on from the
  // time it was closed at, not behind it.
  { name: 'a fast clock set back past the right time: the correction is what it went beyond', wrong: 2 * 86400_000, after: 'set past', want: 'closed' },
];
for (const { name, wrong, after, want } of reopenings) {
  test('reopened: ' + name, async () => {
    const storage = new MemoryStorage();
    const real = Date.UTC(2026, 11, 5, 2, 0, 0);
    let phone = real + wrong;
    const opts = { baseURL: 'http://127.0.0.1:9', storage, deviceName: '测试手机', now: () => phone };
    const c = await FieldsyncClient.open(opts);
    c.clock.correct(new HLC(real, 0, SERVER_NODE));
    await c.saveClock();
    assert.equal(c.now(), real, 'corrected before closing');

    const elapsed = 20 * 60_000; // closed for twenty minutes
    if (after === 'set right') phone = real + elapsed;
    else if (after === 'set past') phone = real + elapsed - 3600_000; // set an hour slow
    else phone += elapsed;
    const again = await FieldsyncClient.open(opts);
    assert.equal(again.now(), { device: phone, corrected: real + elapsed, closed: real }[want], 'the time reopened');
  });
}
