// The storage adapters: every one commits a transaction whole or not at
// all, lists in key order, and FileStorage survives a reopen.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import 'fake-indexeddb/auto'; // IndexedDB globals for idb in Node
import { IndexedDBStorage, MemoryStorage } from '../src/index.js';
import { FileStorage } from '../src/storage/file.js';
import { tempDir } from './helpers.js';

/** @type {Array<[string, () => Promise<import('../src/storage/storage.js').Storage>]>} */
const adapters = [
  ['MemoryStorage', async () => new MemoryStorage()],
  ['FileStorage', async () => FileStorage.open(tempDir('storage'))],
  ['IndexedDBStorage', async () => IndexedDBStorage.open(`t-${Math.random()}`)],
];

for (const [name, make] of adapters) {
  test(`${name}: commit, abort, key order, values`, async () => {
    const s = await make();
    await s.transaction(['records', 'meta'], 'readwrite', async (tx) => {
      await tx.put('records', 'b', { n: 2, nested: { x: [1, 2] } });
      await tx.put('records', 'a', { n: 1 });
      await tx.put('records', 'c', 'three');
      await tx.put('meta', 'bytes', new Uint8Array([1, 2, 3]));
      assert.deepEqual(await tx.get('records', 'a'), { n: 1 }, 'a transaction reads its own writes');
    });
    await assert.rejects(
      s.transaction('records', 'readwrite', async (tx) => {
        await tx.put('records', 'a', { n: 100 });
        await tx.delete('records', 'b');
        throw new Error('boom');
      }),
      /boom/,
    );
    const all = await s.transaction('records', 'readonly', (tx) => tx.all('records'));
    assert.deepEqual(all, [['a', { n: 1 }], ['b', { n: 2, nested: { x: [1, 2] } }], ['c', 'three']]);
    const bytes = await s.transaction('meta', 'readonly', (tx) => tx.get('meta', 'bytes'));
    assert.deepEqual([...bytes], [1, 2, 3]);
    assert.equal(await s.transaction('meta', 'readonly', (tx) => tx.get('meta', 'missing')), undefined);
    await s.transaction('records', 'readwrite', (tx) => tx.delete('records', 'b'));
    const keys = (await s.transaction('records', 'readonly', (tx) => tx.all('records'))).map(([k]) => k);
    assert.deepEqual(keys, ['a', 'c']);
    // Values handed out are copies.
    const v = await s.transaction('records', 'readonly', (tx) => tx.get('records', 'a'));
    v.n = 99;
    assert.deepEqual(await s.transaction('records', 'readonly', (tx) => tx.get('records', 'a')), { n: 1 });
    await s.close();
  });
}

test('FileStorage: committed data and blobs survive a reopen; an aborted transaction leaves nothing', async () => {
  const dir = tempDir('file');
  const s = await FileStorage.open(dir);
  const photo = new Uint8Array(300_000).map((_, i) => i % 251);
  await s.transaction(['blobs', 'records'], 'readwrite', async (tx) => {
    await tx.put('blobs', 'p1', photo);
    await tx.put('records', 'photo/p1', { fields: { note: { value: '东侧', hlc: 'h' } } });
  });
  await assert.rejects(
    s.transaction(['blobs', 'records'], 'readwrite', async (tx) => {
      await tx.put('records', 'photo/p2', { x: 1 });
      throw new Error('abort');
    }),
  );
  await s.transaction('blobs', 'readwrite', async (tx) => {
    await tx.put('blobs', 'gone', new Uint8Array([9]));
  });
  await s.transaction('blobs', 'readwrite', (tx) => tx.delete('blobs', 'gone'));
  await s.close();
  const r = await FileStorage.open(dir);
  const got = await r.transaction(['blobs', 'records'], 'readonly', async (tx) => ({
    blob: await tx.get('blobs', 'p1'),
    gone: await tx.get('blobs', 'gone'),
    recs: await tx.all('records'),
  }));
  assert.deepEqual(Buffer.from(got.blob).equals(Buffer.from(photo)), true);
  assert.equal(got.gone, undefined);
  assert.deepEqual(got.recs, [['photo/p1', { fields: { note: { value: '东侧', hlc: 'h' } } }]]);
});
