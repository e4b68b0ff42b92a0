// A server older than the compact pull form (sync.md §8.4) refuses the
// form parameter with 400 bad_request, as it refuses any parameter it does
// not know. The SDK then pulls the same page with hlcs=grouped, keeps that
// form, and the sync succeeds with every record.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { device, recorder, startServer, syncOK, tempDir } from './helpers.js';

test('a server that refuses form=compact is pulled in the grouped form', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const rec = recorder();
  /** @type {typeof fetch} */
  const older = async (input, init) => {
    if (new URL(String(input)).searchParams.has('form')) {
      return new Response(JSON.stringify({ code: 'bad_request', message: '未知的查询参数 form' }), {
        status: 400,
        headers: { 'Content-Type': 'application/json' },
      });
    }
    return rec.fetch(input, init);
  };
  const phone = await device(srv.url, { fetch: older });
  const r = await syncOK(phone);
  assert.ok(r.pulled > 100, `pulled ${r.pulled} records`);
  const pulls = rec.log.filter((e) => e.path.startsWith('/api/v1/sync/pull?'));
  assert.ok(pulls.length > 0 && pulls.every((e) => e.path.includes('hlcs=grouped') && e.status === 200), JSON.stringify(pulls.map((e) => e.path)));
  assert.ok((await phone.list('site')).length > 0, 'the sites were stored');

  // The same phone against the real server, a new one: compact pages.
  const rec2 = recorder();
  const fresh = await device(srv.url, { fetch: rec2.fetch });
  await syncOK(fresh);
  const pulls2 = rec2.log.filter((e) => e.path.startsWith('/api/v1/sync/pull?'));
  assert.ok(pulls2.length > 0 && pulls2.every((e) => e.path.includes('form=compact') && e.status === 200));
  assert.equal((await fresh.list('site')).length, (await phone.list('site')).length);
});
