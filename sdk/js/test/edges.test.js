// Edges a mobile team meets (probe of the SDK as a third-party app
// would use it), against the real fieldsync binary.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, FieldsyncError, MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

/** @param {any} e */
const code = (e) => e?.code;

test('one change larger than any request the server takes goes to the failed list; the changes after it are sent', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const site = await demoSite(a);
  const big = uuidv7();
  await a.save('inspection', big, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await syncOK(a);
  await a.save('inspection', big, { summary: '长'.repeat(6 << 20) }); // 18 MiB of UTF-8, over the 16 MiB body limit
  const later = uuidv7();
  await a.save('inspection', later, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '之后的记录' });

  const r = await a.sync();
  assert.deepEqual(r.rejected.map((x) => [x.id, x.code]), [[big, 'body_too_large']]);
  assert.equal(a.status().pendingChanges, 0, 'nothing holds the outbox');
  const kept = (await a.rejected()).find((x) => x.id === big);
  // Named at the field to shorten, not told to send smaller batches.
  assert.equal(kept?.field, 'summary');
  assert.match(kept?.message ?? '', /summary（约 18\.0 MiB） 内容过大/);
  assert.doesNotMatch(kept?.message ?? '', /批次/);
  assert.equal(kept?.fields?.summary?.length, 6 << 20, 'the refused value is kept on the phone');
  const b = await device(srv.url);
  await syncOK(b);
  assert.equal((await b.get('inspection', later))?.fields.summary, '之后的记录');
});

test('two clients of one storage stamp their saves in order: the last save wins', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  let t = Date.now();
  const now = () => t; // the same clock for both: only the HLC's counter orders their saves
  const a = await device(srv.url, { storage, now });
  await syncOK(a);
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机', now });
  const id = uuidv7();
  await a.save('inspection', id, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: 'A1' });
  await a.save('inspection', id, { summary: 'A2' });
  await a.save('inspection', id, { summary: 'A3' });
  await b.save('inspection', id, { summary: 'B, the last' });
  t += 1;
  await syncOK(a);
  assert.equal((await a.get('inspection', id))?.fields.summary, 'B, the last');
  assert.deepEqual(await a.superseded(), []);
});

test('save refuses what JSON would change and ids the server would refuse, before anything is stored', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  const id = uuidv7();
  for (const [name, value] of /** @type {[string, any][]} */ ([
    ['Date', new Date()], ['Map', new Map([['a', 1]])], ['Set', new Set([1])], ['Uint8Array', new Uint8Array([1, 2])],
    ['RegExp', /x/], ['nested undefined', { a: undefined }], ['undefined in an array', [1, undefined]], ['nested Date', { at: new Date() }],
  ])) {
    await assert.rejects(a.save('inspection', id, { summary: value }), (e) => code(e) === 'unencodable_value', name);
  }
  for (const bad of ['检查-一号', id.toUpperCase(), '', '00000000-0000-0000-0000-000000000000', `{${id}}`]) {
    await assert.rejects(a.save('inspection', bad, { summary: 'x' }), (e) => code(e) === 'invalid_id', bad);
  }
  assert.equal(a.status().pendingChanges, 0);
  // A plain object, an array, null (clears) and a top-level undefined (clears) are fine.
  await a.save('inspection', id, { answers: { a: [1, 'b', null, { c: true }] }, summary: undefined, note: null });
  assert.equal(a.status().pendingChanges, 1);
});

test("a busy answer's Retry-After is waited at most 30 s", async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  /** @type {number[]} */
  const slept = [];
  let busy = 0;
  /** @type {typeof fetch} */
  const f = async (input, init) => {
    // A proxy in front of the server, overloaded: an hour, it says.
    if (String(input).includes('/sync/push') && busy-- > 0) {
      return new Response(JSON.stringify({ code: 'server_busy', message: '忙' }), { status: 503, headers: { 'Retry-After': '3600', 'Content-Type': 'application/json' } });
    }
    return globalThis.fetch(input, init);
  };
  const a = await device(srv.url, { fetch: f, sleep: async (ms) => { slept.push(ms); } });
  await syncOK(a);
  busy = 2;
  await a.save('inspection', uuidv7(), { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await syncOK(a);
  assert.equal(slept.length, 2);
  assert.ok(slept.every((ms) => ms >= 30e3 && ms < 31e3), `waited ${slept.join(', ')} ms`);
});

test('a save of no fields queues nothing: an existing record is answered as it is, a new one refused; takePhoto without bytes is refused', async () => {
  const srv = await startServer({ dataDir: tempDir('empty-save') });
  const a = await device(srv.url);
  await syncOK(a);
  const id = uuidv7();
  await a.save('inspection', id, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '原样' });
  await syncOK(a);
  const same = await a.save('inspection', id, {});
  assert.equal(same?.fields.summary, '原样');
  assert.equal(a.status().pendingChanges, 0, 'a form saved unchanged queues no change');
  const r = await a.sync();
  assert.deepEqual(r.rejected, [], 'nor a refusal');
  await assert.rejects(a.save('inspection', uuidv7(), {}), (/** @type {any} */ e) => code(e) === 'missing_field' && /没有任何字段/.test(e.message));
  for (const blob of [undefined, null, 'bytes', {}]) {
    await assert.rejects(a.takePhoto({ blob: /** @type {any} */ (blob), contentType: 'image/jpeg', fields: { inspection_id: id } }),
      (e) => code(e) === 'unencodable_value', `takePhoto with blob ${String(blob)}`);
  }
  assert.equal(a.status().pendingChanges, 0);
});

// A photo in a format the server does not take is refused at once (the
// SDK probe: a GIF was taken, its record rejected at sync, and its upload
// failed and held signOut until discarded).
test('takePhoto refuses a format the server does not take', async () => {
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage(), deviceName: '测试手机' });
  await assert.rejects(c.takePhoto({ blob: new Uint8Array([0x47, 0x49, 0x46]), contentType: 'image/gif', fields: {} }),
    /** @param {any} e */ (e) => e.code === 'invalid_value' && e.field === 'content_type' && /JPEG、PNG 或 HEIC/.test(e.message));
  assert.deepEqual(await c.uploads(), [], 'no upload job');
  assert.deepEqual(await c.list('photo'), [], 'no record');
});

test('reads of a name of no entity throw unknown_entity, as writes do; a misuse of the API is a TypeError, not an unclear one', async () => {
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage(), deviceName: '测试手机' });
  for (const name of ['sites', 'Inspection', '', 'toString']) {
    await assert.rejects(c.list(name), (e) => code(e) === 'unknown_entity', `list(${JSON.stringify(name)})`);
    await assert.rejects(c.get(name, uuidv7()), (e) => code(e) === 'unknown_entity', `get(${JSON.stringify(name)})`);
  }
  // Every entity the server sends can be read, the read-only ones too.
  for (const name of ['county', 'site', 'checklist_template', 'rectification_task', 'task_progress', 'review', 'inspection', 'finding', 'vehicle_check', 'photo']) {
    assert.deepEqual(await c.list(name), [], `list(${name})`);
    assert.equal(await c.get(name, 'x'), null, `get(${name})`);
  }
  await assert.rejects(c.list('site', /** @type {any} */ ('x')), (e) => e instanceof TypeError && /filter must be a function/.test(e.message));
  await assert.rejects(FieldsyncClient.open(/** @type {any} */ ({ baseURL: '' })), (e) => e instanceof TypeError && /storage/.test(e.message));
  await assert.rejects(FieldsyncClient.open(/** @type {any} */ (undefined)), (e) => e instanceof TypeError && /storage/.test(e.message));
  await assert.rejects(c.takePhoto(/** @type {any} */ (undefined)), (e) => code(e) === 'unencodable_value');
});

test('a sign-in with nothing typed is missing_field before anything else, the unsent-work check included, and sends nothing', async () => {
  let sent = 0;
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage(), deviceName: '测试手机',
    fetch: async () => { sent++; throw new TypeError('offline'); } });
  // Work of the device's last user waits: another user's sign-in would be refused unsent_changes.
  await c.storage.transaction('meta', 'readwrite', (tx) => tx.put('meta', 'device', { id: c.deviceId, username: 'inspector' }));
  await c.save('vehicle_check', uuidv7(), { plate: '晋H30272' });
  await assert.rejects(c.signIn('other', 'pw'), (e) => code(e) === 'unsent_changes', 'the check this test passes over');
  for (const [user, pw, field] of [['', 'pw', 'username'], ['   ', 'pw', 'username'], ['inspector', '', 'password'], [/** @type {any} */ (undefined), 'pw', 'username'], ['other', /** @type {any} */ (null), 'password']]) {
    await assert.rejects(c.signIn(user, pw), (e) => code(e) === 'missing_field' && /** @type {any} */ (e).field === field && /请输入用户名和密码/.test(/** @type {any} */ (e).message),
      `signIn(${JSON.stringify(user)}, ${JSON.stringify(pw)})`);
  }
  assert.equal(sent, 0, 'nothing was sent');
});

test('a GET that fails at once (a kept-alive connection the server closed) is sent once more; a push is not, the sync sends it again', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  /** @type {string[]} */
  const log = [];
  let failPull = 0, failPush = 0;
  /** @type {typeof fetch} */
  const flaky = async (input, init) => {
    const path = new URL(String(input)).pathname;
    log.push(`${init?.method ?? 'GET'} ${path}`);
    if (path === '/api/v1/sync/pull' && failPull-- > 0) throw new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } });
    if (path === '/api/v1/sync/push' && failPush-- > 0) throw new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } });
    return fetch(input, init);
  };
  const a = await device(srv.url, { fetch: flaky });
  await syncOK(a);
  const site = await demoSite(a);
  const draft = () => a.save('inspection', uuidv7(), { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await draft();
  log.length = 0;
  failPull = 1;
  await syncOK(a);
  assert.equal(log.filter((l) => l === 'GET /api/v1/sync/pull').length, 2, `the pull sent again once: ${log.join(', ')}`);
  // Twice in a row is the network's: the sync says so.
  failPull = 2;
  const r = await a.sync();
  assert.equal(r.error?.code, 'network');
  // Its details an object, as every error's (SDK probe: null here, {}
  // elsewhere, and err.details.timeout threw).
  assert.deepEqual(r.error?.details, {});
  assert.equal(new FieldsyncError('signed_out').details.timeout, undefined);
  // A push is not sent again by the request itself.
  await draft();
  log.length = 0;
  failPush = 1;
  const p = await a.sync();
  assert.equal(p.error?.code, 'network');
  assert.equal(log.filter((l) => l === 'POST /api/v1/sync/push').length, 1, log.join(', '));
  assert.equal(a.status().pendingChanges, 1, 'it waits for the next sync');
  await syncOK(a);
  assert.equal(a.status().pendingChanges, 0);
});

test('the browser build refuses to open in Node, where its photo uploads could never run, instead of failing at the first photo', async () => {
  // (by URL: the type check is not to read the minified bundle)
  const bundle = /** @type {any} */ (await import(new URL('../dist/fieldsync-sdk.js', import.meta.url).href));
  await assert.rejects(bundle.FieldsyncClient.open({ storage: new bundle.MemoryStorage() }),
    (e) => e instanceof TypeError && /browser build/.test(e.message) && /src\/index\.js/.test(e.message));
  // The package itself opens.
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage() });
  assert.equal(c.signedIn, false);
});

test('a field edited twice offline and lost to a later edit on another phone is listed once, with the last value typed (clock probe: the same answer listed twice)', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  const b = await device(srv.url, { user: 'inspector2', now: () => Date.now() + 2000 });
  await syncOK(a);
  const id = uuidv7();
  await a.save('inspection', id, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '开始' });
  await syncOK(a);
  await syncOK(b);
  // A, offline: typed, synced in part, then corrected — each its own change.
  await a.save('inspection', id, { summary: '厂区负责人王某在场' });
  await a.save('inspection', id, { summary: '厂区负责人王某在场。' });
  await b.save('inspection', id, { summary: '手机B补充：负责人李某。' });
  await syncOK(b);
  const r = await syncOK(a);
  assert.equal((await a.get('inspection', id))?.fields.summary, '手机B补充：负责人李某。');
  const sup = (await a.superseded()).filter((s) => s.field === 'summary');
  assert.deepEqual(sup.map((s) => s.value), ['厂区负责人王某在场。'], 'one loss of the field, the last value typed');
  assert.deepEqual(r.superseded.filter((s) => s.field === 'summary').map((s) => s.value), ['厂区负责人王某在场。']);
  // Pulled again, nothing comes back.
  await syncOK(a);
  assert.equal((await a.superseded()).filter((s) => s.field === 'summary').length, 1);
});

test('a change too large for its many fields says so, and one too large for two fields names both (verification probe: 约 0.0 MiB of one small field)', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const site = await demoSite(a);
  const many = uuidv7();
  const two = uuidv7();
  /** @type {Record<string, any>} */
  const answers = {};
  for (let i = 0; i < 20000; i++) answers[`answers.k${i}`] = { result: 'pass', note: '记'.repeat(300) };
  await a.save('inspection', many, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', ...answers });
  await a.save('inspection', two, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft',
    summary: '长'.repeat(3 << 20), 'answers.fence': { result: 'fail', note: '短'.repeat(3 << 20) } });
  await a.sync();
  const failed = await a.rejected();
  const m = failed.find((x) => x.id === many);
  assert.match(m?.message ?? '', /检查记录的内容过多（20004 个字段共约 1\d\.\d MiB）/);
  assert.doesNotMatch(m?.message ?? '', /0\.0 MiB/);
  const t = failed.find((x) => x.id === two);
  assert.match(t?.message ?? '', /summary（约 9\.0 MiB）/);
  assert.match(t?.message ?? '', /answers\.fence（约 9\.0 MiB）/);
  assert.match(t?.message ?? '', /） 内容过大/);
  assert.ok(['summary', 'answers.fence'].includes(t?.field ?? ''), `field ${t?.field}: the largest`);
});

test('an edit lost in between whose field the user typed again after it is not listed as lost: their later value stands (verification probe)', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  const b = await device(srv.url, { user: 'inspector2' });
  await syncOK(a);
  const id = uuidv7();
  await a.save('inspection', id, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '开始' });
  await syncOK(a);
  await syncOK(b);
  await a.save('inspection', id, { summary: 'a1' });
  await b.save('inspection', id, { summary: 'b' });
  await syncOK(b);
  await a.save('inspection', id, { summary: 'a2' });
  await syncOK(a);
  assert.equal((await a.get('inspection', id))?.fields.summary, 'a2');
  assert.deepEqual((await a.superseded()).filter((s) => s.field === 'summary'), []);
});
