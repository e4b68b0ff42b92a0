// What an outside developer probing the SDK found: mistakes in the
// program's own call to open() refused at once (not read as "no network"
// and retried for ever), an upload that cannot move a byte ended instead
// of flooding the server, a photo of a record the phone never saw refused
// when taken, a child sent after its unsent parent, and the promises of
// API.md kept (sync() resolves, signed_out is no HTTP answer, rejected()
// oldest first, no message promising a sync the SDK never makes itself).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, messageFor, uuidv7 } from '../src/index.js';
import { MESSAGES } from '../src/errors.js';
import { FileStorage } from '../src/storage/file.js';
import { demoSite, device, recorder, startServer, syncOK, tempDir, testJPEG } from './helpers.js';

const OFFLINE = 'http://127.0.0.1:9';
/** @param {unknown} e */
const code = (e) => /** @type {any} */ (e)?.code;

test('open refuses a numeric option of the wrong kind (TypeError) or out of its range (RangeError), every one the same way', async () => {
  /** @type {Array<[string, any, typeof TypeError | typeof RangeError]>} */
  const bad = [
    ['chunkSize', 0, RangeError], ['chunkSize', -1, RangeError], ['chunkSize', NaN, RangeError], ['chunkSize', 1.5, RangeError],
    ['chunkSize', Infinity, RangeError], ['chunkSize', '1MB', TypeError], ['chunkSize', '1048576', TypeError],
    ['pageLimit', 0, RangeError], ['pageLimit', 5001, RangeError], ['pageLimit', '500', TypeError],
    ['keepOriginalsFor', -1, RangeError], ['keepOriginalsFor', NaN, RangeError], ['keepOriginalsFor', '7d', TypeError],
    ['requestTimeout', -1, RangeError], ['requestTimeout', NaN, RangeError], ['requestTimeout', '60s', TypeError],
    ['fetch', 'fetch', TypeError], ['now', 5, TypeError], ['sleep', {}, TypeError], ['deviceName', 7, TypeError], ['baseURL', 8080, TypeError],
  ];
  for (const [name, value, kind] of bad) {
    await assert.rejects(FieldsyncClient.open({ baseURL: OFFLINE, storage: new MemoryStorage(), [name]: value }),
      (e) => e instanceof kind && e.message.includes(name), `${name}: ${String(value)}`);
  }
  // The defaults, and the documented edges, open.
  for (const o of [{}, { chunkSize: 1 }, { chunkSize: undefined }, { keepOriginalsFor: 0 }, { keepOriginalsFor: Infinity }, { requestTimeout: 0 }, { pageLimit: 5000 }]) {
    const c = await FieldsyncClient.open({ baseURL: OFFLINE, storage: new MemoryStorage(), ...o });
    assert.equal(c.signedIn, false, JSON.stringify(o));
  }
});

test('open refuses an option of no name, naming the one meant, and a missing baseURL where there is no page origin', async () => {
  for (const [name, meant] of [['baseUrl', 'baseURL'], ['baseurl', 'baseURL'], ['chunksize', 'chunkSize'], ['pagelimit', 'pageLimit'], ['requestTimout', 'requestTimeout']]) {
    await assert.rejects(FieldsyncClient.open(/** @type {any} */ ({ baseURL: OFFLINE, storage: new MemoryStorage(), [name]: 1 })),
      (e) => e instanceof TypeError && e.message.includes(JSON.stringify(name)) && e.message.includes(`did you mean "${meant}"`), name);
  }
  await assert.rejects(FieldsyncClient.open(/** @type {any} */ ({ baseURL: OFFLINE, storage: new MemoryStorage(), colour: 'red' })),
    (e) => e instanceof TypeError && /"colour"/.test(e.message) && !/did you mean/.test(e.message));
  // Node has no page origin: no baseURL (the probe: baseUrl misspelt
  // left none) is the program's mistake, not a network to wait for.
  await assert.rejects(FieldsyncClient.open({ storage: new MemoryStorage() }), (e) => e instanceof TypeError && /baseURL is required/.test(e.message));
  for (const baseURL of ['', '/api', 'localhost:8080', 'ftp://host']) {
    await assert.rejects(FieldsyncClient.open({ baseURL, storage: new MemoryStorage() }), (e) => e instanceof TypeError && /baseURL/.test(e.message), baseURL);
  }
});

test('an upload whose PATCH moves no byte ends as a failure, instead of sending empty PATCHes for ever', async () => {
  const srv = await startServer({ dataDir: tempDir('noprogress') });
  const a = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const photo = await a.takePhoto({ blob: testJPEG(), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  // A chunk size no option lets in (open refuses 0): the upload path
  // itself must not spin on it.
  a.chunkSize = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const r = await Promise.race([a.sync(), new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('sync() did not return: the upload sends empty PATCHes for ever')), 20_000);
  })]).finally(() => clearTimeout(timer));
  assert.equal(/** @type {any} */ (r).error?.code, 'upload_failed');
  const job = (await a.uploads()).find((j) => j.photoId === photo.id);
  assert.equal(job?.state, 'failed', 'it waits for the user (retryUpload, discardUpload)');
  assert.equal(job?.offset, 0);
  // With a chunk size that moves bytes, a retry sends it.
  a.chunkSize = 1 << 20;
  await a.retryUpload(photo.id);
  await syncOK(a);
  assert.equal((await a.uploads()).find((j) => j.photoId === photo.id)?.state, 'done');
});

test('takePhoto of a record the phone has never seen throws unknown_reference and keeps nothing; of one saved here or pulled, it is taken', async () => {
  const c = await FieldsyncClient.open({ baseURL: OFFLINE, storage: new MemoryStorage(), deviceName: '测试手机' });
  const bytes = new TextEncoder().encode('照片');
  for (const field of ['inspection_id', 'finding_id', 'vehicle_check_id']) {
    const id = uuidv7();
    await assert.rejects(c.takePhoto({ blob: bytes, contentType: 'image/jpeg', fields: { [field]: id } }),
      (e) => code(e) === 'unknown_reference' && /** @type {any} */ (e).field === field && /** @type {any} */ (e).details.parent.id === id &&
        /请先保存/.test(/** @type {any} */ (e).message), field);
  }
  assert.deepEqual(await c.uploads(), [], 'no upload job');
  assert.deepEqual(await c.list('photo'), [], 'no record');
  assert.deepEqual([c.status().pendingPhotos, c.status().pendingChanges], [0, 0]);
  // Saved here first (offline, in the outbox): taken.
  const insp = uuidv7();
  await c.save('inspection', insp, { site_id: uuidv7(), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const p = await c.takePhoto({ blob: bytes, contentType: 'image/jpeg', fields: { inspection_id: insp } });
  assert.equal(p.fields.inspection_id, insp);
  assert.equal(c.status().pendingPhotos, 1);
  // Of a record deleted here, or of a finding of a deleted inspection
  // (get() has neither): refused, said as deleted; of none: missing_field.
  const finding = uuidv7();
  await c.save('finding', finding, { inspection_id: insp, description: '围挡破损', severity: 'minor' });
  await c.remove('inspection', insp);
  for (const fields of [{ inspection_id: insp }, { finding_id: finding }]) {
    await assert.rejects(c.takePhoto({ blob: bytes, contentType: 'image/jpeg', fields }),
      (e) => code(e) === 'unknown_reference' && /** @type {any} */ (e).details.parent.state === 'deleted' && /已在手机上删除/.test(/** @type {any} */ (e).message),
      JSON.stringify(fields));
  }
  for (const fields of [{}, { inspection_id: null }, { inspection_id: 5 }]) {
    await assert.rejects(c.takePhoto({ blob: bytes, contentType: 'image/jpeg', fields: /** @type {any} */ (fields) }),
      (e) => code(e) === 'missing_field' || code(e) === 'invalid_field', JSON.stringify(fields));
  }
  assert.equal(c.status().pendingPhotos, 1, 'none of them kept');
});

test('a record saved after a change that refers to it (both offline) is sent before it, in one push', async () => {
  const srv = await startServer({ dataDir: tempDir('parents') });
  const rec = recorder();
  const a = await device(srv.url, { fetch: rec.fetch });
  await syncOK(a);
  const site = await demoSite(a);
  const insp = uuidv7(), finding = uuidv7(), photo = uuidv7();
  // The finding and its photo first, then the inspection they belong to,
  // then an edit of the finding: a record's own order stays.
  await a.save('finding', finding, { inspection_id: insp, description: '围挡破损', severity: 'minor' });
  await a.takePhoto({ id: photo, blob: testJPEG(), contentType: 'image/jpeg', fields: { finding_id: finding } });
  await a.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await a.save('finding', finding, { description: '围挡破损约 5 米' });
  rec.log.length = 0;
  const r = await syncOK(a);
  assert.equal(r.pushed, 4);
  const pushes = rec.log.filter((x) => x.path === '/api/v1/sync/push');
  assert.equal(pushes.length, 1, 'one push: nothing refused and sent again');
  assert.deepEqual(pushes[0].body.mutations.map((/** @type {any} */ m) => `${m.entity}${m.fields?.description ? `:${m.fields.description}` : ''}`),
    ['inspection', 'finding:围挡破损', 'photo', 'finding:围挡破损约 5 米']);
  assert.deepEqual(await a.rejected(), []);
  assert.equal((await a.get('finding', finding))?.fields.description, '围挡破损约 5 米');
  assert.equal((await a.get('photo', photo))?.fields.uploaded, true);
});

test("superseded() entries' codes have their own Chinese line, not the generic 操作失败 that says to retry (SDK probe)", () => {
  for (const c of ['overwritten', 'applied', 'stale', 'record_deleted']) {
    assert.doesNotMatch(messageFor(c), /操作失败|重试/, c);
    assert.match(messageFor(c), /[\u4e00-\u9fff]/, c);
  }
});

test('no message of the SDK promises a sync it never makes by itself', () => {
  assert.equal(messageFor('network'), '网络不可用，数据已保存在手机上，联网后再同步');
  for (const [c, m] of Object.entries(MESSAGES)) assert.doesNotMatch(m, /(会|将)自动(同步|重试|上传|继续)|稍后会自动/, c);
});

test('sync() on a storage another client closed resolves {ok: false, error: storage_closed}, as a SyncResult', async () => {
  const storage = await FileStorage.open(tempDir('closed'));
  const a = await FieldsyncClient.open({ baseURL: OFFLINE, storage, deviceName: '测试手机' });
  const b = await FieldsyncClient.open({ baseURL: OFFLINE, storage, deviceName: '测试手机' });
  await a.close();
  const r = await b.sync();
  assert.equal(r.ok, false);
  assert.equal(r.error?.code, 'storage_closed');
});

test('signed_out, which no request answered, has status 0', async () => {
  const c = await FieldsyncClient.open({ baseURL: OFFLINE, storage: new MemoryStorage(), deviceName: '测试手机' });
  const r = await c.sync();
  assert.equal(r.error?.code, 'signed_out');
  assert.equal(r.error?.status, 0);
  assert.equal(r.error?.temporary, false);
});

test('rejected() is oldest first by when the change was made, not by when its refusal came', async () => {
  let now = Date.UTC(2026, 0, 5, 2, 0, 0);
  const c = await FieldsyncClient.open({ baseURL: OFFLINE, storage: new MemoryStorage(), deviceName: '测试手机', now: () => now });
  const first = uuidv7(), second = uuidv7();
  await c.save('vehicle_check', first, { county: '140902', checkpoint: '东卡口', plate: '晋H30272', checked_at: '2026-01-05T02:00:00Z' });
  now += 60_000;
  await c.save('vehicle_check', second, { county: '140902', checkpoint: '东卡口', plate: '晋H30273', checked_at: '2026-01-05T02:01:00Z' });
  // The later change refused first (the earlier one waited, say, for a parent).
  const res = /** @type {any} */ ({ rejected: [] });
  for (const id of [second, first]) {
    now += 60_000;
    await c.storage.transaction(['meta', 'records', 'outbox'], 'readwrite', async (tx) => {
      const e = (await tx.all('outbox')).map(([, x]) => x).find((x) => x.id === id);
      await c.reject(tx, e, 'invalid_field', '车牌号格式不对', res, 'plate');
    });
  }
  assert.deepEqual((await c.rejected()).map((x) => x.id), [first, second]);
});

test('signOut({keep: true}) with unsent work signs out and keeps it all for the same user, whose next sign-in sends it', async () => {
  const srv = await startServer({ dataDir: tempDir('keep') });
  let offline = false;
  /** @type {typeof fetch} */
  const net = (input, init) => (offline ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init));
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage, fetch: net });
  await syncOK(a);
  const site = await demoSite(a);
  offline = true;
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await a.takePhoto({ blob: testJPEG(), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  await assert.rejects(a.signOut(), (e) => code(e) === 'unsent_changes', 'without keep: refused');
  await assert.rejects(a.signOut({ force: true, keep: true }), TypeError);
  await a.signOut({ keep: true });
  assert.equal(a.signedIn, false);
  assert.deepEqual([a.status().pendingChanges, a.status().pendingPhotos], [2, 1], 'the work stays on the phone: the inspection, the photo\'s record and its bytes');
  offline = false;
  await a.signIn('inspector', 'inspector123');
  const r = await syncOK(a);
  assert.equal(r.pushed, 2, 'the same user\'s next sync sends it');
  assert.deepEqual([a.status().pendingChanges, a.status().pendingPhotos], [0, 0]);
});
