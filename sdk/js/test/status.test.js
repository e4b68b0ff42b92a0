// The counts a sync tells its listeners ("sync" events, sync.md's
// status), against the real fieldsync binary: as the storage has them
// when the sync begins (another tab or client may have saved), and the
// records sent as soon as they are, before photos that can take minutes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

test('a sync says the records are sent before it uploads the photos', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await a.takePhoto({ blob: new TextEncoder().encode('不是图片'), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  /** @type {string[]} */
  const seen = [];
  a.on('sync', (s) => seen.push(`${s.pendingRecords}/${s.pendingPhotos}`));
  let uploading = false;
  await a.sync({ onProgress: (p) => { if (p.phase === 'upload' && !uploading) { uploading = true; seen.push('upload'); } } });
  const sent = seen.indexOf('0/1');
  assert.ok(sent >= 0 && sent < seen.indexOf('upload'), `the records sent, the photo waiting, told before the upload: ${seen.join(' ')}`);
});

test('a sync begins with the counts as stored: another client of the storage saved since this one looked', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  assert.equal(b.status().pendingRecords, 0);
  await a.save('inspection', uuidv7(), { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  assert.equal(b.status().pendingRecords, 0, 'b has not looked yet');
  /** @type {number[]} */
  const seen = [];
  b.on('sync', (s) => seen.push(s.pendingRecords));
  await syncOK(b);
  assert.ok(seen.includes(1), `b's sync told the record a saved before sending it: ${seen.join(' ')}`);
  assert.equal(seen.at(-1), 0);
});

/**
 * A MemoryStorage whose transactions count the outbox's reads; without
 * keys, its transactions lack the optional tx.keys (an adapter that has
 * only what API.md requires).
 */
function countingStorage({ keys = true } = {}) {
  const inner = new MemoryStorage();
  const reads = { get: 0, all: 0 };
  /** @type {import('../src/storage/storage.js').Storage} */
  const storage = {
    transaction: (stores, mode, fn) =>
      inner.transaction(stores, mode, (tx) =>
        fn({
          get: (s, k) => (s === 'outbox' && reads.get++, tx.get(s, k)),
          put: tx.put,
          delete: tx.delete,
          all: (s, p) => (s === 'outbox' && reads.all++, tx.all(s, p)),
          ...(keys ? { keys: tx.keys } : {}),
        }),
      ),
    close: () => inner.close(),
  };
  return { storage, reads };
}

test('a save reads of the outbox only its own entry: its cost does not grow with what waits to be sent', async () => {
  const { storage, reads } = countingStorage();
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage });
  for (let i = 0; i < 30; i++) await c.save('vehicle_check', uuidv7(), { plate: `晋H${10000 + i}` });
  const gone = uuidv7();
  await c.save('finding', gone, { description: '散煤堆放' });
  reads.get = reads.all = 0;
  await c.save('vehicle_check', uuidv7(), { plate: '晋H20000' });
  assert.deepEqual(reads, { get: 1, all: 0 }, 'one outbox entry read: the new one');
  assert.equal(c.status().pendingChanges, 32);
  assert.equal(c.status().pendingRecords, 32);
  // A record made and deleted here is no change to the server; its two
  // entries still wait.
  await c.remove('finding', gone);
  assert.equal(c.status().pendingChanges, 33);
  assert.equal(c.status().pendingRecords, 31);
  // Another client of the storage drops what this one counted.
  const other = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage });
  await other.resetLocal();
  assert.equal((await c.refreshStatus()).pendingChanges, 0);
  await c.save('vehicle_check', uuidv7(), { plate: '晋H30000' });
  assert.equal(c.status().pendingRecords, 1);
});

test('the counts are the same from an adapter without the optional keys', async () => {
  for (const keys of [true, false]) {
    const { storage, reads } = countingStorage({ keys });
    const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage });
    const id = uuidv7();
    await c.save('vehicle_check', id, { plate: '晋H10000' });
    await c.save('vehicle_check', id, { plate: '晋H10001' });
    await c.save('vehicle_check', uuidv7(), { plate: '晋H10002' });
    const s = c.status();
    assert.deepEqual([s.pendingChanges, s.pendingRecords], [3, 2], `keys: ${keys}`);
    assert.equal(reads.all > 0, !keys, `the outbox read whole only without keys (keys: ${keys})`);
  }
});

test('the last sync keeps the time of the last one that succeeded through failed ones, and a client opened on the storage later has it', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  assert.equal(a.status().lastSync, null, 'never synced');
  await syncOK(a);
  const good = a.status().lastSync;
  assert.equal(good?.ok, true);
  assert.equal(good?.okAt, good?.at, 'a sync that succeeded is its own last success');
  // The server goes away: two syncs fail, and the success stays.
  await srv.kill();
  for (let i = 0; i < 2; i++) {
    const r = await a.sync();
    assert.equal(r.ok, false);
    const last = a.status().lastSync;
    assert.equal(last?.ok, false);
    assert.equal(last?.error?.code, 'network');
    assert.equal(last?.okAt, good?.at, `failed sync ${i + 1} keeps the last success`);
    assert.ok((last?.at ?? 0) >= (good?.at ?? Infinity), 'at is the failed sync\'s own time');
  }
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  assert.equal(b.status().lastSync?.okAt, good?.at, 'kept in the storage');
});

test('a last sync stored before okAt was kept is read with it: its own time if it succeeded, else none', async () => {
  /** @type {[{at: number, ok: boolean, error: any}, number | null][]} */
  const cases = [[{ at: 1000, ok: true, error: null }, 1000], [{ at: 2000, ok: false, error: { code: 'network', message: '连不上' } }, null]];
  for (const [stored, okAt] of cases) {
    const storage = new MemoryStorage();
    await storage.transaction('meta', 'readwrite', async (tx) => { await tx.put('meta', 'lastSync', stored); });
    const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage, deviceName: '测试手机' });
    assert.deepEqual(c.status().lastSync, { ...stored, okAt });
  }
});
