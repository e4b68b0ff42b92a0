// Signing in on a storage another user had (sync.md §1), against the real
// fieldsync binary: a device id belongs to the user who first signed in
// with it, a failed sign-in changes nothing, and a username is the same
// user however the phone's keyboard spelled it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, recorder, startServer, syncOK, tempDir } from './helpers.js';

async function server() {
  const s = await startServer({ dataDir: tempDir('data') });
  return s;
}

test('after a forced sign-out another user signs in on the same storage with a new device id', async () => {
  const srv = await server();
  const storage = new MemoryStorage();
  const rec = recorder();
  const a = await device(srv.url, { storage, fetch: rec.fetch });
  await syncOK(a);
  const first = a.deviceId;
  await a.signOut({ force: true });
  assert.equal(a.user, null);

  const u = await a.signIn('inspector2', 'inspector123');
  assert.equal(u.username, 'inspector2');
  assert.notEqual(a.deviceId, first, 'the first id stays bound to inspector');
  assert.deepEqual(rec.log.filter((x) => x.path === '/api/v1/auth/login').map((x) => x.status), [200, 200], 'the new id at once, no 409');
  await syncOK(a);
  assert.ok((await a.list('site')).length > 0);

  // The id is kept with its user across a reopen: inspector comes back on
  // a new id too, and the storage holds inspector2's id no more.
  await a.signOut({ force: true });
  const again = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  await again.signIn('inspector', 'inspector123');
  assert.ok(![first, a.deviceId].includes(again.deviceId));
  await syncOK(again);
});

test('a storage that forgot its device id\'s user: the login answered 409 conflict is sent again with a new id', async () => {
  const srv = await server();
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const first = a.deviceId;
  await a.signOut({ force: true });
  // As an SDK that kept only the id left it.
  await storage.transaction('meta', 'readwrite', (tx) => tx.put('meta', 'device', { id: first }));

  await a.signIn('inspector2', 'inspector123');
  assert.equal(a.user?.username, 'inspector2');
  assert.notEqual(a.deviceId, first);
  await syncOK(a);
});

test('a failed or offline sign-in of another user leaves the signed-in user\'s data and session as they were', async () => {
  const srv = await server();
  let offline = false;
  /** @type {typeof fetch} */
  const f = (input, init) => (offline ? Promise.reject(new TypeError('fetch failed')) : globalThis.fetch(input, init));
  const a = await device(srv.url, { fetch: f });
  await syncOK(a);
  const before = { id: a.deviceId, sites: (await a.list('site')).length, templates: (await a.list('checklist_template')).length };
  assert.ok(before.sites > 0 && before.templates > 0);

  const unchanged = async () => {
    assert.equal(a.user?.username, 'inspector');
    assert.equal(a.signedIn, true);
    assert.equal(a.deviceId, before.id);
    assert.equal((await a.list('site')).length, before.sites);
    assert.equal((await a.list('checklist_template')).length, before.templates);
  };
  offline = true;
  await assert.rejects(a.signIn('inspector2', 'inspector123'), (e) => {
    const err = /** @type {any} */ (e);
    // Said as a sign-in's failure, not as data kept for a later sync.
    return err.code === 'network' && /无法登录/.test(err.message) && !/同步/.test(err.message);
  });
  await unchanged();
  offline = false;
  await assert.rejects(a.signIn('inspector2', 'wrong-password'), (e) => /** @type {any} */ (e).code === 'invalid_credentials');
  await unchanged();
  await syncOK(a); // the session still works

  // The one that succeeds resets: inspector2 sees none of inspector's work.
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await syncOK(a);
  await a.signIn('inspector2', 'inspector123');
  assert.notEqual(a.deviceId, before.id);
  assert.equal(await a.get('inspection', insp), null);
  await syncOK(a);
});

test('a username in another letter case or with spaces around it is the same user: no unsent_changes, the same device', async () => {
  const srv = await server();
  const a = await device(srv.url);
  await syncOK(a);
  const id = a.deviceId;
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });

  const u = await a.signIn(' Inspector ', 'inspector123');
  assert.equal(u.username, 'inspector', "the server's spelling");
  assert.equal(a.user?.username, 'inspector');
  assert.equal(a.deviceId, id);
  assert.equal(a.status().pendingChanges, 1, 'the unsent change is kept');
  await syncOK(a);
  assert.deepEqual((await a.get('inspection', insp))?.pending, []);

  // After a sign-out that kept the data, too; and typed in full width.
  await a.signOut();
  await a.signIn('INSPECTOR', 'inspector123');
  assert.equal(a.deviceId, id);
  assert.ok(await a.get('inspection', insp));
  await a.signOut();
  await a.signIn('\u3000ｉｎｓｐｅｃｔｏｒ', 'inspector123');
  assert.equal(a.deviceId, id);
  assert.ok(await a.get('inspection', insp));
});

/**
 * Sends a wrong sign-in of username from the loopback address ip
 * (127.x.y.z: any of them reaches the server), as a guesser elsewhere.
 * @param {string} url @param {string} username @param {string} ip
 * @returns {Promise<number>} the answer's status
 */
async function guessFrom(url, username, ip) {
  const http = await import('node:http');
  const body = JSON.stringify({ username, password: 'wrong guess', device_id: uuidv7(Date.now()), device_name: 'guesser' });
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/v1/auth/login`, {
      method: 'POST', localAddress: ip, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(body);
  });
}

test('the phone an account signed in on before signs in again while guesses from elsewhere lock the account for other phones', async () => {
  const srv = await server();
  const rec = recorder();
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage, fetch: rec.fetch });
  await a.signOut({ force: true });
  for (let i = 0; i < 25; i++) {
    const st = await guessFrom(srv.url, 'inspector', `127.0.6.${i + 10}`);
    assert.ok(st === 401 || st === 429, `guess ${i + 1}: ${st}`);
  }
  const stranger = await FieldsyncClient.open({ baseURL: srv.url, storage: new MemoryStorage(), deviceName: '新手机' });
  await assert.rejects(stranger.signIn('inspector', 'inspector123'), (/** @type {any} */ err) => err.code === 'too_many_attempts',
    'a phone never signed in on is held back by the guesses');
  // Reopened, as after the app was closed: the token is in its storage.
  const again = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机', fetch: rec.fetch });
  const u = await again.signIn('Inspector', 'inspector123');
  assert.equal(u.username, 'inspector');
  const logins = rec.log.filter((x) => x.path === '/api/v1/auth/login');
  assert.equal(logins[0].body.known_client, undefined, 'the first sign-in has none to send');
  assert.equal(typeof logins.at(-1)?.body.known_client, 'string', 'the next one sends what the first was given');
});

test('a sign-in that fails on the network says which way: not the server answering, no answer in time, no connection (SDK probe)', async () => {
  /** @param {typeof fetch} f @param {number} [requestTimeout] */
  const open = (f, requestTimeout) => FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage(), deviceName: '测试手机', fetch: f, requestTimeout, sleep: async () => {} });
  /** @param {FieldsyncClient} c @param {RegExp} says */
  const fails = (c, says) => assert.rejects(c.signIn('inspector', 'inspector123'), (/** @type {any} */ e) => {
    assert.equal(e.code, 'network');
    assert.match(e.message, says);
    return true;
  });
  // A hotel's Wi-Fi answers with its own page.
  await fails(await open(async () => new Response('<html>请先登录 Wi-Fi</html>', { status: 200, headers: { 'Content-Type': 'text/html' } })), /不是服务器发来的.*无法登录/);
  // A server that never answers.
  await fails(await open((_u, init) => new Promise((_r, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))), 200), /没有及时回应，无法登录/);
  // No connection at all.
  await fails(await open(async () => { throw new TypeError('fetch failed'); }), /连不上服务器，无法登录/);
});
