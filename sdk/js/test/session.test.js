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
  await signedOutElsewhere(srv.url, a);
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

test('a tab whose session had ended takes the session another tab signed in with: at its next sync, or when asked', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  await signedOutElsewhere(srv.url, a);
  // Both tabs find the session ended.
  assert.equal((await a.sync()).error?.code, 'token_invalid');
  assert.equal((await b.sync()).error?.code, 'token_invalid');
  assert.equal(b.signedIn, false);
  assert.equal(await b.resumeSession(), false, 'nothing to take yet');
  assert.equal((await b.sync()).error?.code, 'signed_out');

  await a.signIn('inspector', 'inspector123');
  /** @type {boolean[]} */
  const told = [];
  b.on('auth', (e) => told.push(e.signedIn));
  assert.equal(await b.resumeSession(), true);
  assert.equal(b.signedIn, true);
  assert.deepEqual(told, [true]);
  await b.save('inspection', uuidv7(), { site_id: await demoSite(b), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const r = await b.sync();
  assert.equal(r.error, null, `b's sync: ${r.error?.code}`);
  assert.equal(r.pushed, 1);

  // Ended again; a signs in again; b's sync alone takes the session.
  await signedOutElsewhere(srv.url, a);
  assert.equal((await a.sync()).error?.code, 'token_invalid');
  assert.equal((await b.sync()).error?.code, 'token_invalid');
  assert.equal(b.signedIn, false);
  await a.signIn('inspector', 'inspector123');
  assert.equal((await b.sync()).error, null);
  assert.equal(b.signedIn, true);
});

test('a tab whose session ended does not take another user\'s session from the storage', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  await signedOutElsewhere(srv.url, a);
  assert.equal((await a.sync()).error?.code, 'token_invalid');
  assert.equal((await b.sync()).error?.code, 'token_invalid');
  // Another user signs in on tab a: a new device id, the storage reset.
  await a.signIn('inspector2', 'inspector123', { force: true });
  assert.notEqual(a.deviceId, b.deviceId);
  // The storage is the other user's now: b neither takes its session nor
  // reads or writes it, and says why.
  await assert.rejects(b.resumeSession(), { code: 'storage_changed' });
  assert.equal(b.signedIn, false);
  assert.equal((await b.sync()).error?.code, 'storage_changed');
  await assert.rejects(b.save('inspection', uuidv7(), { summary: 'x' }), { code: 'storage_changed' });
  await assert.rejects(b.list('inspection'), { code: 'storage_changed' });
});

/**
 * Ends c's session on the server, as a sign-out of its device from
 * elsewhere does.
 * @param {string} url
 * @param {FieldsyncClient} c
 */
async function signedOutElsewhere(url, c) {
  const out = await fetch(`${url}/api/v1/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${c.auth.access}` } });
  assert.equal(out.status, 204);
}
