// One sync at a time, and none asked for is lost: a call while a sync runs
// gets the next, which starts as the running one ends. The running one
// may have pushed before the call, and a change saved just before it (a
// refused change reapplied, say) waited for the app's next sync, a
// minute later.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7 } from '../src/index.js';
import { demoSite, device, pullHolder, startServer, syncOK, tempDir } from './helpers.js';

test('a sync asked for while one runs, past its push, is another after it, which sends what was saved meanwhile', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const { rec, hold } = pullHolder();
  const phone = await device(srv.url, { fetch: rec.fetch });
  await syncOK(phone);
  const site = await demoSite(phone);

  // The next sync stops at its pull: its push is done.
  const { reached, release } = hold();
  const running = phone.sync();
  await reached;
  const pushesBefore = rec.count('/api/v1/sync/push');

  const insp = uuidv7();
  await phone.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '同步进行中保存' });
  const next = phone.sync();
  assert.notEqual(next, running, 'a call while a sync runs gets another, not the running one');
  assert.equal(phone.sync(), next, 'every call meanwhile gets that same next one');
  assert.equal(phone.status().syncing, true);

  release();
  const first = await running;
  assert.equal(first.error, null);
  assert.equal(first.pushed, 0, 'the running sync had pushed before the save');
  const second = await next;
  assert.equal(second.error, null, `the next sync: ${second.error?.code}`);
  assert.equal(second.pushed, 1, 'the next sync pushes what was saved while the first ran');
  assert.equal(rec.count('/api/v1/sync/push'), pushesBefore + 1);
  assert.equal(phone.status().pendingChanges, 0);
  assert.equal(phone.status().syncing, false);

  const other = await device(srv.url, { user: 'inspector2' });
  await syncOK(other);
  assert.equal((await other.get('inspection', insp))?.fields.summary, '同步进行中保存', 'on the server');

  // Idle again: a call starts a sync at once, and a second call during it
  // gets the next, which starts only once it ends.
  const a = phone.sync();
  const b = phone.sync();
  assert.notEqual(a, b);
  /** @type {string[]} */
  const order = [];
  await Promise.all([a.then(() => order.push('a')), b.then(() => order.push('b'))]);
  assert.deepEqual(order, ['a', 'b']);
});
