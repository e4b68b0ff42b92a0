// What a sync's onProgress tells, against the real fieldsync binary
// (SDK probe): the last report of each phase is where it ended — every
// record pulled, every change answered, the photos actually on the
// server, short of the totals when some were not; a callback that throws
// is logged and the sync goes on; every call that shares a next sync is
// told its progress.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7 } from '../src/index.js';
import { demoSite, device, pullHolder, startServer, syncOK, tempDir, testJPEG } from './helpers.js';

/** @param {import('../src/index.js').Progress[]} events @param {string} phase */
const last = (events, phase) => events.filter((p) => p.phase === phase).at(-1);

test('the last report of a phase is where it ended: every record pulled, every change answered, only the photos sent', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url, { pageLimit: 50 });
  /** @type {import('../src/index.js').Progress[]} */
  let events = [];
  let r = await a.sync({ onProgress: (p) => events.push(p) });
  assert.equal(r.error, null);
  assert.ok(r.pulled > 100, `a first pull of several pages: ${r.pulled}`);
  assert.equal(last(events, 'pull')?.done, r.pulled, 'the last pull report counts every record pulled');
  assert.equal(events.find((p) => p.phase === 'pull')?.done, 0, 'the first before any page');

  const site = await demoSite(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft' });
  for (const summary of ['一', '二']) await a.save('inspection', insp, { summary });
  await a.takePhoto({ blob: testJPEG(), contentType: 'image/jpeg', fields: { inspection_id: insp, captured_at: new Date().toISOString() } });
  const bad = await a.takePhoto({ blob: new TextEncoder().encode('不是图片'), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  const changes = a.status().pendingChanges;
  events = [];
  r = await a.sync({ onProgress: (p) => events.push(p) });
  assert.equal(r.error?.code, 'bad_image');
  const push = events.filter((p) => p.phase === 'push');
  assert.deepEqual([push[0].done, push[0].total], [0, changes], 'told before the first batch');
  assert.deepEqual([push.at(-1)?.done, push.at(-1)?.total], [changes, changes], 'and when every change is answered');
  const up = last(events, 'upload');
  const good = testJPEG().length;
  assert.deepEqual([up?.done, up?.total], [1, 2], 'the refused photo is not counted as sent');
  assert.equal(up?.bytesDone, good, 'nor its bytes');
  assert.equal(up?.bytesTotal, good + 12);
  assert.equal((await a.uploads()).find((j) => j.photoId === bad.id)?.state, 'failed');
});

test('an onProgress that throws is logged and the sync goes on; every call sharing the next sync is told its progress', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const { rec, hold } = pullHolder();
  const a = await device(srv.url, { fetch: rec.fetch });
  /** @type {string[]} */
  const logged = [];
  const error = console.error;
  console.error = (...args) => logged.push(args.map(String).join(' '));
  try {
    await a.save('inspection', uuidv7(), { site_id: await (async () => (await syncOK(a), demoSite(a)))(), template_id: 'coal_yard', template_version: 1, status: 'draft' });
    const r = await a.sync({ onProgress: () => { throw new Error('进度条已关闭'); } });
    assert.equal(r.error, null, `a throwing callback stops nothing: ${r.error?.code} ${r.error?.message}`);
    assert.equal(r.pushed, 1);
    assert.ok(logged.some((l) => l.includes('fieldsync: onProgress:') && l.includes('进度条已关闭')), `logged: ${logged}`);
  } finally {
    console.error = error;
  }

  // Two calls while a sync runs share the next: both are told.
  const { reached, release } = hold();
  const running = a.sync();
  await reached;
  const told = { first: 0, second: 0 };
  const next = a.sync({ onProgress: () => told.first++ });
  assert.equal(a.sync({ onProgress: () => told.second++ }), next);
  release();
  await running;
  assert.equal((await next).error, null);
  assert.ok(told.first > 0 && told.second > 0, `both callers told: ${JSON.stringify(told)}`);
});
