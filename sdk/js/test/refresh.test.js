// Token refresh against the real fieldsync binary (sync.md §2): an access
// token the server itself signed, made genuinely expired with the server's
// key, so the server answers 401 token_expired and the SDK must refresh
// with its real refresh token.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, expiredToken, recorder, resignToken, startServer, syncOK, tempDir } from './helpers.js';

async function server() {
  const dataDir = tempDir('data');
  const s = await startServer({ dataDir });
  return { ...s, dataDir };
}

/**
 * GET /api/v1/me with a bearer token: the status and error code.
 * @param {string} url
 * @param {string} token
 */
async function me(url, token) {
  const resp = await fetch(`${url}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  const body = await resp.json();
  return { status: resp.status, code: body.code ?? '', body };
}

/**
 * The auth the client persisted in its storage (meta/auth).
 * @param {import('../src/storage/storage.js').Storage} storage
 * @returns {Promise<{access: string, refresh: string, user: any, gen: number}>}
 */
function storedAuth(storage) {
  return storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'auth'));
}

/**
 * A signed-in, synced inspector phone with one unsent inspection; then its
 * stored access token is replaced by the same token expired, and the phone
 * "restarts": a new client over the same storage, with fetch f.
 * @param {{url: string, dataDir: string}} srv
 * @param {typeof fetch} f
 */
async function phoneWithExpiredToken(srv, f) {
  const storage = new MemoryStorage();
  const first = await device(srv.url, { storage });
  await syncOK(first);
  const insp = uuidv7();
  await first.save('inspection', insp, { site_id: await demoSite(first), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '令牌过期后上传' });
  const before = await storedAuth(storage);
  assert.equal(before.access, first.auth.access, 'the client persists its tokens in meta/auth');
  assert.equal(before.refresh, first.auth.refresh);

  // The re-signing is right: the same claims re-signed are accepted, and
  // the expired ones are refused as expired (not as invalid).
  assert.equal((await me(srv.url, resignToken(before.access, srv.dataDir, () => {}))).status, 200);
  const expired = expiredToken(before.access, srv.dataDir);
  assert.deepEqual(await me(srv.url, expired).then((r) => [r.status, r.code]), [401, 'token_expired']);

  await storage.transaction('meta', 'readwrite', (tx) => tx.put('meta', 'auth', { ...before, access: expired }));
  const phone = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机', fetch: f });
  assert.equal(phone.signedIn, true);
  assert.equal(phone.auth.access, expired);
  assert.equal(phone.status().pendingChanges, 1);
  return { phone, storage, insp, expired, refresh: before.refresh };
}

/**
 * What a second phone of the office (inspector2, same county) pulls of an
 * inspection: the server's state.
 * @param {string} url
 * @param {string} id
 */
async function onServer(url, id) {
  const other = await device(url, { user: 'inspector2' });
  await syncOK(other);
  return other.get('inspection', id);
}

test('an expired access token: sync gets 401 token_expired, refreshes once with the real refresh token, retries and pushes', async () => {
  const srv = await server();
  const rec = recorder();
  const { phone, storage, insp, expired, refresh } = await phoneWithExpiredToken(srv, rec.fetch);
  /** @type {any[]} */
  const authEvents = [];
  phone.on('auth', (e) => authEvents.push(e));

  const r = await syncOK(phone);
  assert.equal(r.pushed, 1);
  assert.equal(phone.status().pendingChanges, 0);

  const [push401, refreshed, pushed, ...rest] = rec.log;
  assert.deepEqual([push401.path, push401.status, push401.code, push401.token], ['/api/v1/sync/push', 401, 'token_expired', expired]);
  assert.deepEqual([refreshed.path, refreshed.status], ['/api/v1/auth/refresh', 200]);
  assert.deepEqual(refreshed.body, { refresh_token: refresh }, 'refreshed with the real refresh token');
  assert.deepEqual([pushed.path, pushed.status], ['/api/v1/sync/push', 200]);
  assert.equal(pushed.body.batch_id, push401.body.batch_id, 'the retry is the same batch');
  assert.equal(rec.count('/api/v1/auth/refresh'), 1);
  assert.ok(rest.length > 0 && rest.every((e) => e.status === 200 && e.path.startsWith('/api/v1/sync/pull')), 'then the pull');

  // The new pair is in use and persisted; the old refresh token is spent.
  const now = await storedAuth(storage);
  assert.notEqual(now.access, expired);
  assert.notEqual(now.refresh, refresh);
  assert.deepEqual([now.access, now.refresh], [phone.auth.access, phone.auth.refresh]);
  assert.ok([pushed, ...rest].every((e) => e.token === now.access), 'every later request carries the new access token');
  assert.equal((await me(srv.url, now.access)).status, 200);
  assert.equal(phone.signedIn, true);
  assert.deepEqual(authEvents, [], 'a refresh that works does not sign out');

  assert.equal((await onServer(srv.url, insp))?.fields.summary, '令牌过期后上传', 'the change reached the server');
});

test('two concurrent requests that both get token_expired make one refresh; both are retried with the new token', async () => {
  const srv = await server();
  // The refresh is held until both requests have had their 401, so the
  // second one surely arrives while the first one's refresh is running.
  let expired401 = 0;
  /** @type {() => void} */
  let bothExpired = () => {};
  const both = new Promise((resolve) => {
    bothExpired = () => resolve(undefined);
  });
  const rec = recorder({
    before: async (p) => {
      if (p === '/api/v1/auth/refresh') await both;
    },
    after: (ex) => {
      if (ex.code === 'token_expired' && ++expired401 === 2) bothExpired();
    },
  });
  const { phone, insp, expired } = await phoneWithExpiredToken(srv, rec.fetch);

  const [who, page] = await Promise.all([phone.api('GET', '/api/v1/me'), phone.api('GET', '/api/v1/sync/pull?limit=1')]);
  assert.equal(who.username, 'inspector');
  assert.ok(Array.isArray(page.changes));
  assert.equal(rec.count('/api/v1/auth/refresh'), 1, 'one refresh for both');
  assert.equal(expired401, 2);
  const fresh = phone.auth.access;
  assert.notEqual(fresh, expired);
  const retries = rec.log.filter((e) => e.path !== '/api/v1/auth/refresh' && e.token === fresh);
  assert.deepEqual(retries.map((e) => [e.path, e.status]).sort(), [
    ['/api/v1/me', 200],
    ['/api/v1/sync/pull?limit=1', 200],
  ]);

  // The session is intact (a second refresh with the spent token would
  // have ended it): sync works without another refresh.
  const r = await syncOK(phone);
  assert.equal(r.pushed, 1);
  assert.equal(rec.count('/api/v1/auth/refresh'), 1);
  assert.equal((await onServer(srv.url, insp))?.fields.summary, '令牌过期后上传');
});

test('a refresh with a spent refresh token ends the session: signed out, token_invalid, the outbox kept', async () => {
  const srv = await server();
  const rec = recorder();
  const { phone, storage, insp, refresh } = await phoneWithExpiredToken(srv, rec.fetch);
  /** @type {any[]} */
  const authEvents = [];
  phone.on('auth', (e) => authEvents.push(e));

  // A copy of the refresh token is used elsewhere first: the phone's is spent.
  const stolen = await fetch(`${srv.url}/api/v1/auth/refresh`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: refresh }),
  });
  assert.equal(stolen.status, 200);
  const thief = await stolen.json();

  const r = await phone.sync();
  assert.equal(r.ok, false);
  assert.equal(r.error?.code, 'token_invalid');
  assert.equal(r.pushed, 0);
  assert.deepEqual(
    rec.log.map((e) => [e.path, e.status, e.code]),
    [
      ['/api/v1/sync/push', 401, 'token_expired'],
      ['/api/v1/auth/refresh', 401, 'token_invalid'],
    ],
    'one refresh, then nothing more (no retry with the spent token, no pull)',
  );
  assert.deepEqual(rec.log[1].body, { refresh_token: refresh });

  assert.equal(phone.signedIn, false);
  assert.deepEqual(authEvents, [{ signedIn: false }]);
  const stored = await storedAuth(storage);
  assert.deepEqual([stored.access, stored.refresh], ['', ''], 'the dead tokens are gone from storage');
  assert.equal(stored.user?.username, 'inspector', 'the user is remembered for signing in again');
  assert.equal(phone.status().lastSync?.error?.code, 'token_invalid');

  // The server ended the whole session: the copy's new tokens died too.
  assert.deepEqual(await me(srv.url, thief.access_token).then((x) => [x.status, x.code]), [401, 'token_invalid']);

  // Nothing local was lost; a later sync says signed_out without a request.
  assert.equal(phone.status().pendingChanges, 1);
  assert.ok((await phone.get('inspection', insp))?.pending.includes('summary'), 'the edit is still marked unsent');
  assert.deepEqual(await phone.rejected(), []);
  const n = rec.log.length;
  assert.equal((await phone.sync()).error?.code, 'signed_out');
  assert.equal(rec.log.length, n);

  // Work goes on while signed out (API.md: only sync needs the session).
  const later = uuidv7();
  await phone.save('inspection', later, { site_id: await demoSite(phone), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '会话结束后继续填写' });
  assert.equal(phone.status().pendingRecords, 2);

  // Signing in again (same user, same device) sends the kept changes.
  await phone.signIn('inspector', 'inspector123');
  assert.deepEqual(authEvents, [{ signedIn: false }, { signedIn: true }]);
  const again = await syncOK(phone);
  assert.equal(again.pushed, 2);
  assert.equal(phone.status().pendingChanges, 0);
  assert.equal((await onServer(srv.url, insp))?.fields.summary, '令牌过期后上传');
  assert.equal((await onServer(srv.url, later))?.fields.summary, '会话结束后继续填写');
});

/**
 * Web Locks as a browser gives them (navigator.locks.request: one holder
 * of a name at a time, in order), for Node, which lacks them.
 */
function installWebLocks() {
  if (/** @type {any} */ (globalThis).navigator?.locks) return;
  /** @type {Map<string, Promise<unknown>>} */
  const tails = new Map();
  const locks = {
    /** @param {string} name @param {() => Promise<unknown>} fn */
    request(name, fn) {
      const run = (tails.get(name) ?? Promise.resolve()).then(() => fn());
      tails.set(name, run.catch(() => {}));
      return run;
    },
  };
  Object.defineProperty(globalThis, 'navigator', { value: { ...(/** @type {any} */ (globalThis).navigator ?? {}), locks }, configurable: true });
}

test('two tabs on one storage whose access token expired refresh once between them: neither is signed out', async () => {
  installWebLocks();
  const srv = await server();
  const rec = recorder();
  const { phone: tab1, storage, insp, refresh } = await phoneWithExpiredToken(srv, rec.fetch);
  /** @type {any} */ (storage).name = 'fieldsync-inspector'; // as an IndexedDB database, shared by the tabs
  const tab2 = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机', fetch: rec.fetch });
  /** @type {any[]} */
  const signedOut = [];
  for (const tab of [tab1, tab2]) tab.on('auth', (e) => signedOut.push(e));

  const [r1, r2] = await Promise.all([tab1.sync(), tab2.sync()]);
  assert.ok(r1.ok && r2.ok, `both tabs sync: ${r1.error?.code} ${r2.error?.code}`);
  assert.equal(rec.count('/api/v1/auth/refresh'), 1, 'one refresh between the tabs');
  assert.deepEqual(rec.log.filter((e) => e.path === '/api/v1/auth/refresh').map((e) => e.body.refresh_token), [refresh]);
  assert.deepEqual(signedOut, [], 'no tab is signed out');
  assert.ok(tab1.signedIn && tab2.signedIn);
  assert.equal(tab1.auth.refresh, tab2.auth.refresh, 'both use the new pair');
  assert.equal((await me(srv.url, tab2.auth.access)).status, 200, 'the new pair works (the session was not ended as a reuse)');
  assert.equal((await onServer(srv.url, insp))?.fields.summary, '令牌过期后上传', 'the change reached the server once');
});

test('two clients of one process on one storage, without Web Locks, refresh once between them', async () => {
  const srv = await server();
  const rec = recorder();
  const { phone: a, storage, insp } = await phoneWithExpiredToken(srv, rec.fetch);
  assert.equal(/** @type {any} */ (storage).name, undefined, 'no name: Web Locks cannot serve this storage');
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机', fetch: rec.fetch });
  const [r1, r2] = await Promise.all([a.sync(), b.sync()]);
  assert.ok(r1.ok && r2.ok, `both sync: ${r1.error?.code} ${r2.error?.code}`);
  assert.equal(rec.count('/api/v1/auth/refresh'), 1, 'one refresh between them');
  assert.ok(a.signedIn && b.signedIn);
  assert.equal((await me(srv.url, b.auth.access)).status, 200);
  assert.equal((await onServer(srv.url, insp))?.fields.summary, '令牌过期后上传');
});

test('a refresh that never left the phone (connection refused) keeps the session; the next sync refreshes', async () => {
  const srv = await server();
  let refused = 0;
  /** @type {typeof fetch} */
  const f = (input, init) => {
    if (String(input).endsWith('/api/v1/auth/refresh') && refused === 0) {
      refused++;
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      return Promise.reject(new TypeError('fetch failed', { cause }));
    }
    return fetch(input, init);
  };
  const { phone, insp } = await phoneWithExpiredToken(srv, f);
  const first = await phone.sync();
  assert.equal(first.error?.code, 'network', `${first.error?.code}`);
  assert.equal(refused, 1);
  assert.equal(phone.signedIn, true, 'still signed in: nothing was spent');
  const second = await phone.sync();
  assert.ok(second.ok, `${second.error?.code} ${second.error?.message}`);
  assert.equal((await onServer(srv.url, insp))?.fields.summary, '令牌过期后上传');
});
