// One storage, two clients (two tabs of an app, or two clients of one
// process), one of which signs in as another user: the storage is then
// that user's, and the other client neither reads nor writes it. And
// what the storage itself refuses (full) or a photo id used twice.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { FileStorage } from '../src/storage/file.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

test('a client whose storage another client gave to another user stops: no sign-in, save, read or sync of it', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  await b.signIn('inspector2', 'inspector123', { force: true });
  await syncOK(b);
  const insp = uuidv7();
  await b.save('inspection', insp, { site_id: await demoSite(b), template_id: 'coal_yard', template_version: 1, status: 'draft' });

  for (const [what, op] of /** @type {Array<[string, () => Promise<unknown>]>} */ ([
    ['sign in as the first user', () => a.signIn('inspector', 'inspector123')],
    ['save', () => a.save('inspection', uuidv7(), { summary: '旧窗口的修改' })],
    ['take a photo', () => a.takePhoto({ blob: new Uint8Array([1, 2, 3]), contentType: 'image/jpeg', fields: { inspection_id: insp } })],
    ['get', () => a.get('inspection', insp)],
    ['list', () => a.list('inspection')],
  ])) {
    await assert.rejects(op(), { code: 'storage_changed' }, what);
  }
  assert.equal((await a.sync()).error?.code, 'storage_changed');
  // The second user's work is as it was, theirs to send.
  assert.equal(b.user?.username, 'inspector2');
  assert.equal((await b.refreshStatus()).pendingChanges, 1);
  const r = await syncOK(b);
  assert.equal(r.pushed, 1);
});

test('a sync running when another client signs in as another user stops writing the storage', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage, pageLimit: 20 });
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  /** @type {Promise<void> | null} */
  let other = null;
  const res = await a.sync({
    onProgress: (p) => {
      // A's first pull pages are in: B signs in as ningwu (another county).
      if (p.phase === 'pull' && p.done >= 40 && !other) other = b.signIn('ningwu', 'inspector123', { force: true }).then(() => {});
    },
  });
  assert.ok(other, 'the sign-in ran during the pull');
  await other;
  assert.equal(res.error?.code, 'storage_changed');
  // Nothing of the first user's county is in ningwu's storage.
  assert.deepEqual((await b.list('site')).filter((s) => s.county === '140902').length, 0);
  assert.deepEqual(await b.list('inspection'), []);
});

test('a photo id taken again: the same bytes are the same photo, other bytes are refused and change nothing', async () => {
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage() });
  const id = uuidv7();
  const insp = uuidv7();
  await c.save('inspection', insp, { site_id: uuidv7(), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const first = await c.takePhoto({ id, blob: new Uint8Array([1, 2, 3]), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  const again = await c.takePhoto({ id, blob: new Uint8Array([1, 2, 3]), contentType: 'image/jpeg', fields: { inspection_id: uuidv7() } });
  assert.deepEqual(again, first, 'the record as taken the first time');
  assert.equal(c.status().pendingChanges, 2, 'no second change of the photo (the inspection, the photo)');
  await assert.rejects(c.takePhoto({ id, blob: new Uint8Array([9, 9]), contentType: 'image/jpeg' }), { code: 'photo_exists' });
  assert.deepEqual([.../** @type {Uint8Array} */ (await c.photoBytes(id))], [1, 2, 3], 'the photo\'s bytes are its own');
  assert.equal(c.status().pendingChanges, 2);
});

test('the same file taken again for the same record and item is refused, naming the photo kept; on another item or record it is a photo of its own (last note: two records, no flag)', async () => {
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage() });
  const insp = uuidv7();
  const other = uuidv7();
  for (const i of [insp, other]) await c.save('inspection', i, { site_id: uuidv7(), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const bytes = () => new Uint8Array([7, 7, 7]);
  const first = await c.takePhoto({ blob: bytes(), contentType: 'image/jpeg', fields: { inspection_id: insp, item_key: 'cover' } });
  const err = await c.takePhoto({ blob: bytes(), contentType: 'image/jpeg', fields: { inspection_id: insp, item_key: 'cover', caption: '再拍一次' } }).catch((e) => e);
  assert.equal(err?.code, 'photo_duplicate');
  assert.equal(err?.details?.existing, first.id);
  assert.match(err?.message ?? '', /已保存在同一记录/);
  assert.equal((await c.list('photo')).length, 1, 'nothing stored for the repeat');
  // Another item, another record: the same file is evidence of each (the
  // server flags a file used on two items; that is its to judge).
  await c.takePhoto({ blob: bytes(), contentType: 'image/jpeg', fields: { inspection_id: insp, item_key: 'fence' } });
  await c.takePhoto({ blob: bytes(), contentType: 'image/jpeg', fields: { inspection_id: other, item_key: 'cover' } });
  assert.equal((await c.list('photo')).length, 3);
});

test('a save the storage has no room for is storage_full, in Chinese; what was saved stays', async () => {
  const dir = tempDir('full');
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: await FileStorage.open(dir) });
  const kept = uuidv7();
  await c.save('inspection', kept, { summary: '空间满之前' });
  const write = fs.writeSync;
  fs.writeSync = /** @type {any} */ (() => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  try {
    const err = await c.save('inspection', uuidv7(), { summary: '空间满时' }).catch((e) => e);
    assert.equal(err.code, 'storage_full');
    assert.match(err.message, /存储空间不足/);
  } finally {
    fs.writeSync = write;
  }
  assert.equal((await c.get('inspection', kept))?.fields.summary, '空间满之前');
  assert.equal(c.status().pendingChanges, 1);
  await c.storage.close();
});
