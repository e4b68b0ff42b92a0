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
  const opts = { storage, deviceName: '测试手机', now: () => phone };
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
