// client.now() follows the server's clock as its answers tell it (the
// Date header): a phone slow by years, one fast before its first push,
// and one whose clock was fixed after a correction. Against the real
// fieldsync binary (FIELDSYNC_BIN).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Clock, HLC, MemoryStorage, uuidv7 } from '../src/index.js';
import { CALIBRATE_TOLERANCE } from '../src/hlc.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

const HOUR = 3600_000;

/** @param {number} t @param {string} what */
function nearNow(t, what) {
  assert.ok(Math.abs(t - Date.now()) < 2 * CALIBRATE_TOLERANCE, `${what}: ${new Date(t).toISOString()} is the server's time (${new Date().toISOString()})`);
}

test("a phone's wrong clock is corrected from the server's answers, both ways, and followed when it is fixed", async () => {
  const srv = await startServer({ dataDir: tempDir('clock') });
  for (const skew of [-3 * 365 * 24 * HOUR, -HOUR, HOUR, 4 * 60_000]) {
    let off = skew;
    const storage = new MemoryStorage();
    const c = await device(srv.url, { storage, now: () => Date.now() + off });
    // The sign-in's answer alone corrects it, before any push — and the
    // HLC its records are stamped with (a fast clock's would otherwise
    // stay ahead, its edits winning over later ones made elsewhere).
    nearNow(c.now(), `signed in with a clock ${skew / HOUR} h off`);
    nearNow(c.clock.now().wall, `the first HLC stamped after signing in with a clock ${skew / HOUR} h off`);
    await syncOK(c);
    const insp = uuidv7();
    await c.save('inspection', insp, { site_id: await demoSite(c), template_id: 'coal_yard', template_version: 1, status: 'draft', started_at: new Date(c.now()).toISOString() });
    const r = await syncOK(c);
    assert.equal(r.pushed, 1);
    const stored = await c.get('inspection', insp);
    nearNow(Date.parse(stored?.fields.started_at), 'the time written into the record');
    nearNow(c.status().lastSync?.at ?? 0, 'the last sync\'s time (the app shows 上次同步 by it)');
    // A refused change is dated by the same clock (SDK probe: by the
    // device's own, two days off the sync's).
    await c.save('inspection', insp, { status: 'verified' });
    const refused = await c.sync();
    assert.deepEqual(refused.rejected.map((x) => x.code), ['invalid_value']);
    nearNow((await c.rejected())[0].at, 'the refusal\'s time');
    await c.dismissRejected();

    // The phone's clock is fixed (automatic time): the next answer drops the correction.
    off = 0;
    await syncOK(c);
    assert.equal(c.clock.offset, 0, 'no correction once the device clock is right');
    nearNow(c.now(), 'after the fix');
  }
});

test('calibrate keeps the offset within the tolerance and follows it beyond', () => {
  const c = new Clock('0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57', { now: () => 1_000_000 });
  assert.equal(c.calibrate(1_000_000 + CALIBRATE_TOLERANCE, 1_000_000), false, 'a device clock within the tolerance is left alone');
  assert.equal(c.offset, 0);
  assert.equal(c.calibrate(1_000_000 + 60_000, 1_000_000), true);
  assert.equal(c.offset, 60_000);
  assert.equal(c.calibrate(1_000_000 + 62_000, 1_000_000), false, 'jitter within the tolerance keeps the offset');
  assert.equal(c.offset, 60_000);
  assert.equal(c.calibrate(1_000_000 + 1_000, 1_000_000), true, 'the device clock fixed: no offset');
  assert.equal(c.offset, 0);
  assert.equal(c.calibrate(NaN, 1_000_000), false);
});

test('only a quick API answer calibrates the clock: not a photo (a cache may keep it for a year), not a slow round trip', async () => {
  const { requestBytes, requestJSON } = await import('../src/http.js');
  let device = Date.UTC(2026, 11, 3, 8, 0, 0);
  const old = new Date(device - 3600_000).toUTCString(); // an hour before: as a cached answer would carry
  /** @type {number[][]} */
  const calls = [];
  let delay = 0;
  /** @type {import('../src/http.js').Transport} */
  const t = {
    baseURL: 'http://fieldsync.invalid',
    fetch: async (input) => {
      device += delay; // the time the answer takes
      const json = String(input).includes('/api/v1/me');
      return new Response(json ? '{}' : new Uint8Array([0xff, 0xd8]), { status: 200, headers: { Date: old, 'Content-Type': json ? 'application/json' : 'image/jpeg' } });
    },
    observe: () => {},
    now: () => device,
    calibrate: (serverMs, deviceMs) => calls.push([serverMs, deviceMs]),
  };
  await requestBytes(t, '/api/v1/photos/x/thumbnail');
  assert.deepEqual(calls, [], "a photo's answer does not calibrate");
  delay = 4001;
  await requestJSON(t, 'GET', '/api/v1/me');
  assert.deepEqual(calls, [], 'an answer that took over 4 s does not');
  delay = 300;
  const sent = device;
  await requestJSON(t, 'GET', '/api/v1/me');
  assert.deepEqual(calls, [[Date.parse(old) + 500, sent + 150]], 'a quick one does, at the middle of its round trip');
});

test("correct() takes the server's time from the last answer's Date when its HLC runs ahead of it, and from the HLC otherwise", () => {
  const node = '0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57';
  let t = 1_000_000_000;
  const ahead = new HLC(t + 20 * HOUR, 3, '~server');
  // An answer's Date says the server's time is the device's: its HLC,
  // 20 h ahead (a server whose host clock was set back), is not the time.
  const c = new Clock(node, { now: () => t });
  c.calibrate(t, t);
  c.correct(ahead);
  assert.equal(c.offset, 0, 'the physical clock follows the Date, not the HLC');
  assert.ok(HLC.compare(c.now(), ahead) > 0, 'stamps still follow the observed HLC');
  // Within the Date's precision the HLC is the time, to the millisecond.
  const near = new Clock(node, { now: () => t });
  near.calibrate(t + 60_000, t);
  near.correct(new HLC(t + 61_500, 0, '~server'));
  assert.equal(near.offset, 61_500);
  // No answer dated, or one more than a minute old: the HLC's time.
  const none = new Clock(node, { now: () => t });
  none.correct(ahead);
  assert.equal(none.offset, 20 * HOUR);
  const old = new Clock(node, { now: () => t });
  old.calibrate(t, t);
  t += 61_000;
  old.correct(ahead);
  assert.equal(old.offset, ahead.wall - t);
});

test("a device clock set right offline drops the correction at once; time passing, asleep or not, keeps it; a clock set back keeps the corrected time going", () => {
  const node = '0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57';
  const YEAR = 365 * 24 * HOUR;
  const real = 1_800_000_000_000;
  let skew = -YEAR, t = real, m = 0; // the device's error, real time, the monotonic clock
  const c = new Clock(node, { now: () => t + skew, mono: () => m });
  c.calibrate(real + 500, real - YEAR + 500); // an answer: the phone is a year slow
  assert.equal(c.offset, YEAR);
  assert.equal(c.physical(), real);
  // An hour passes (the monotonic clock with it); then the phone sleeps an
  // hour (its monotonic clock stopped): the correction stays.
  t += HOUR; m += HOUR;
  assert.equal(c.physical(), real + HOUR);
  t += HOUR;
  assert.equal(c.physical(), real + 2 * HOUR);
  assert.equal(c.offset, YEAR);
  // Network time sets the phone's clock right, with no data to reach the
  // server: the correction goes, and records are dated right.
  skew = 0;
  assert.equal(c.physical(), real + 2 * HOUR);
  assert.equal(c.offset, 0);
  // A phone a year fast, set right: its clock jumps back.
  const f = new Clock(node, { now: () => t + skew, mono: () => m });
  skew = YEAR;
  f.calibrate(t + 500, t + YEAR + 500);
  assert.equal(f.offset, -YEAR);
  f.physical();
  skew = 0;
  assert.equal(f.physical(), t);
  assert.equal(f.offset, 0);
  // A clock set an hour back by hand: the corrected time goes on.
  const b = new Clock(node, { now: () => t + skew, mono: () => m });
  assert.equal(b.physical(), t);
  skew = -HOUR;
  assert.equal(b.physical(), t);
  assert.equal(b.offset, HOUR);
  // A clock set a year ahead offline (no offset: it was right), then set
  // right again: the corrected time is the device's again, not a year on.
  const w = new Clock(node, { now: () => t + skew, mono: () => m });
  skew = 0;
  assert.equal(w.physical(), t);
  skew = YEAR;
  assert.equal(w.physical(), t + YEAR, 'a jump forward is left alone (the phone may have slept)');
  skew = 0;
  assert.equal(w.physical(), t);
  assert.equal(w.offset, 0);
  // An offset learnt after the jump (an answer came first) is not
  // corrected twice.
  const a = new Clock(node, { now: () => t + skew, mono: () => m });
  skew = YEAR;
  a.calibrate(t + 500, t + YEAR + 500);
  a.physical();
  skew = 0;
  a.calibrate(t + 500, t + 500);
  assert.equal(a.physical(), t);
  assert.equal(a.offset, 0);
});

test('a slow clock set right by hand, not to the second, drops the correction: offline work is dated right (SDK probe)', () => {
  const node = '0195f4b2-8c1e-7d3a-9b10-6f2c1d0e4a57';
  const DAY = 24 * HOUR;
  const real = 1_800_000_000_000;
  for (const [name, setTo] of /** @type {Array<[string, number]>} */ ([['30 s behind', -30_000], ['5 min behind', -5 * 60_000], ['an hour ahead (a wrong time zone)', HOUR], ['to the second', 0]])) {
    let skew = -2 * DAY, t = real, m = 0;
    const c = new Clock(node, { now: () => t + skew, mono: () => m });
    c.calibrate(real + 500, real - 2 * DAY + 500); // an answer: the phone is two days slow
    assert.equal(c.physical(), real, name);
    t += 60_000; m += 60_000;
    skew = setTo; // set right by hand, offline
    assert.equal(c.physical(), real + 60_000, `${name}: the corrected time goes on`);
    t += 60_000; m += 60_000;
    assert.equal(c.physical(), real + 120_000, name);
    // A phone asleep an hour keeps what it learnt.
    t += HOUR;
    assert.equal(c.physical(), real + 120_000 + HOUR, `${name}: asleep`);
  }
  // Asleep a day with a two-day correction: still asleep, the correction stays.
  let skew = -2 * DAY, t = real, m = 0;
  const c = new Clock(node, { now: () => t + skew, mono: () => m });
  c.calibrate(real + 500, real - 2 * DAY + 500);
  c.physical();
  t += DAY;
  assert.equal(c.physical(), real + DAY);
  assert.equal(c.offset, 2 * DAY);
  // Closed, and set right 30 s behind meanwhile: the correction goes
  // (within the tolerance of the server's next answer).
  const r = new Clock(node, { now: () => t + skew, offset: 2 * DAY });
  const storedAt = t + skew;
  t += 10 * 60_000;
  skew = -30_000;
  r.reopened(storedAt);
  assert.equal(r.offset, 0);
});
