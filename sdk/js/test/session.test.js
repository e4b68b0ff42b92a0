// Sessions the server ends, with two clients on one storage (two tabs of
// the app), against the real fieldsync binary.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

test('a tab still holding the ended session\'s tokens takes the pair another tab signed in with, instead of wiping it', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  assert.equal(b.signedIn, true);

  // The device is signed out from elsewhere; tab a finds out and signs in again.
  const out = await fetch(`${srv.url}/api/v1/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${a.auth.access}` } });
  assert.equal(out.status, 204);
  assert.equal((await a.sync()).error?.code, 'token_invalid');
  assert.equal(a.signedIn, false);
  await a.signIn('inspector', 'inspector123');
  const fresh = a.auth.refresh;

  // Tab b, with the old pair in memory, syncs: refused as ended, it finds
  // a's pair in the storage, and goes on with it.
  await b.save('inspection', uuidv7(), { site_id: await demoSite(b), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const r = await b.sync();
  assert.equal(r.error, null, `b's sync: ${r.error?.code}`);
  assert.equal(r.pushed, 1);
  assert.equal(b.signedIn, true);
  const stored = await storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'auth'));
  assert.equal(stored?.refresh, fresh, 'the pair a signed in with is still stored');
  assert.equal((await a.sync()).error, null, 'and a still syncs with it');
});
