// A phone handed from one user to another, and what an app developer
// gets wrong easily, against the real fieldsync binary.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { FileStorage } from '../src/storage/file.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

/**
 * The answer to a request made with an access token, or with a refresh
 * token to /auth/refresh.
 * @param {string} url @param {{access?: string, refresh?: string}} t
 */
async function works(url, t) {
  if (t.access) return (await fetch(`${url}/api/v1/me`, { headers: { Authorization: `Bearer ${t.access}` } })).status;
  const r = await fetch(`${url}/api/v1/auth/refresh`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: t.refresh }) });
  return r.status;
}

/** @param {{code?: string} | unknown} e */
const code = (e) => /** @type {any} */ (e)?.code;

test('a sign-out made offline ends the session on the server at the next sign-in: the tokens it held no longer work', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  let offline = false;
  /** @type {typeof fetch} */
  const f = (input, init) => (offline ? Promise.reject(new TypeError('fetch failed')) : globalThis.fetch(input, init));
  const dir = tempDir('phone');
  const storage = await FileStorage.open(dir);
  const a = await device(srv.url, { storage, fetch: f });
  await syncOK(a);
  const old = { access: a.auth.access, refresh: a.auth.refresh };

  offline = true;
  await a.signOut({ force: true });
  assert.equal(a.signedIn, false);
  // Not ended yet: the server was not reached.
  assert.equal(await works(srv.url, { access: old.access }), 200);

  offline = false;
  await a.signIn('ningwu', 'inspector123');
  assert.equal(await works(srv.url, { access: old.access }), 401, "the previous user's access token, after the next sign-in");
  assert.equal(await works(srv.url, { refresh: old.refresh }), 401, "the previous user's refresh token");
  const owed = await storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'sessionsOwed'));
  assert.equal(owed, undefined, 'nothing owed once ended');
  await a.close();
  // Nor is anything of the previous user's left in the storage's files.
  for (const f of ['state.json', 'journal']) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    assert.ok(!text.includes(old.refresh), `${f} holds the previous refresh token`);
    assert.ok(!text.includes('140902'), `${f} holds the previous user's county data`);
  }
});

test('signed out offline, then signed in again online as the same user: the owed logout ends the old session, not the new one', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  let offline = false;
  /** @type {typeof fetch} */
  const f = (input, init) => (offline ? Promise.reject(new TypeError('fetch failed')) : globalThis.fetch(input, init));
  const a = await device(srv.url, { fetch: f });
  await syncOK(a);
  const old = { access: a.auth.access, refresh: a.auth.refresh };
  offline = true;
  await a.signOut();
  offline = false;
  await a.signIn('inspector', 'inspector123');
  // The same device signs in again: the server used to keep the device's
  // session across the sign-in, so the logout the SDK owed for the old
  // one, sent after it, ended this one too (the field app opened on
  // 登录已失效 right after signing in).
  assert.equal(await works(srv.url, { access: a.auth.access }), 200, 'the new session works');
  assert.equal(await works(srv.url, { access: old.access }), 401, "the old session's access token");
  assert.equal(await works(srv.url, { refresh: old.refresh }), 401, "the old session's refresh token");
  await syncOK(a);
});

test('a sign-out offline is ended by the next sync once online, and a forced switch ends the user signed in', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  let offline = false;
  /** @type {typeof fetch} */
  const f = (input, init) => (offline ? Promise.reject(new TypeError('fetch failed')) : globalThis.fetch(input, init));
  const a = await device(srv.url, { fetch: f });
  const first = { access: a.auth.access, refresh: a.auth.refresh };
  offline = true;
  await a.signOut(); // not forced: the user stays known, signed out
  offline = false;
  assert.equal(await works(srv.url, { access: first.access }), 200, 'not ended while offline');
  assert.equal(code((await a.sync()).error), 'signed_out');
  assert.equal(await works(srv.url, { access: first.access }), 401, 'ended by the sync once online');

  // Signed in, then another user signs in over it (force): the first
  // user's session ends with the switch.
  await a.signIn('inspector', 'inspector123');
  const second = { access: a.auth.access, refresh: a.auth.refresh };
  await a.signIn('ningwu', 'inspector123', { force: true });
  assert.equal(await works(srv.url, { access: second.access }), 401);
  assert.equal(await works(srv.url, { refresh: second.refresh }), 401);
  assert.equal(await works(srv.url, { access: a.auth.access }), 200, "the new user's session works");
});

test('a field saved as undefined is cleared on the server too, as null clears it', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  const b = await device(srv.url, { user: 'inspector2' });
  await syncOK(a);
  const id = uuidv7();
  await a.save('inspection', id, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: 'keep me' });
  await syncOK(a);
  await a.save('inspection', id, { summary: undefined });
  assert.equal((await a.get('inspection', id))?.fields.summary, null);
  await syncOK(a);
  await syncOK(b);
  assert.equal((await b.get('inspection', id))?.fields.summary ?? null, null, "another phone sees it cleared");
});

test('writes to an entity that does not exist are refused at save, and on() refuses an event that never fires', async () => {
  const a = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage(), deviceName: 't' });
  await assert.rejects(a.save('inspections', uuidv7(), { status: 'draft' }), (e) => code(e) === 'unknown_entity');
  await assert.rejects(a.remove('bogus', uuidv7()), (e) => code(e) === 'unknown_entity');
  await assert.rejects(a.save('county', uuidv7(), { name: 'x' }), (e) => code(e) === 'read_only_entity');
  await assert.rejects(a.save('inspection', uuidv7(), /** @type {any} */ (null)), (e) => code(e) === 'unencodable_value');
  assert.equal(a.status().pendingChanges, 0);
  assert.throws(() => a.on(/** @type {any} */ ('changes'), () => {}), TypeError);
  assert.throws(() => a.on('change', /** @type {any} */ ('not a function')), TypeError);
  a.on('change', () => {})();
});

test('a photo whose bytes tus cannot read fails as upload_failed at once, not as network for ever', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const photo = uuidv7();
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await a.takePhoto({ id: photo, blob: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  // What tus-js-client is handed is not bytes it can read (as a Buffer
  // polyfilled into a browser build was).
  a.photoBytes = async () => /** @type {any} */ ({ notBytes: true });
  const r = await a.sync();
  assert.equal(code(r.error), 'upload_failed', `the sync's error: ${code(r.error)} ${r.error?.message}`);
  const job = (await a.uploads()).find((j) => j.photoId === photo);
  assert.equal(job?.state, 'failed');
  assert.equal(job?.error?.code, 'upload_failed');
});
