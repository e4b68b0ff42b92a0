// The storage adapters: every one commits a transaction whole or not at
// all, lists in key order, and FileStorage survives a reopen.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
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
    // By key prefix: only those keys, in order, with the transaction's own writes.
    await s.transaction('records', 'readwrite', async (tx) => {
      for (const k of ['site/2', 'site/1', 'sites/x', 'sit', 'site0', 'photo/1', 'site/\u{1F600}', 'site/\uffff站']) await tx.put('records', k, k);
    });
    const sites = await s.transaction('records', 'readwrite', async (tx) => {
      await tx.put('records', 'site/0', 'site/0');
      await tx.delete('records', 'site/2');
      return tx.all('records', 'site/');
    });
    assert.deepEqual(sites.map(([k]) => k), ['site/0', 'site/1', 'site/\u{1F600}', 'site/\uffff站']);
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

test('FileStorage: one per directory, in this process or another live one; a dead process leaves it free', async () => {
  const dir = tempDir('file-lock');
  const s = await FileStorage.open(dir);
  await assert.rejects(FileStorage.open(dir), /this process/);
  // By another path to the same directory too: a symlink, a trailing slash.
  const link = `${dir}-link`;
  fs.symlinkSync(dir, link);
  await assert.rejects(FileStorage.open(link), /this process/);
  await assert.rejects(FileStorage.open(`${dir}/`), /this process/);
  await s.close();
  const again = await FileStorage.open(dir);
  await again.close();

  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import { FileStorage } from ${JSON.stringify(new URL('../src/storage/file.js', import.meta.url).href)};
    await FileStorage.open(${JSON.stringify(dir)});
    console.log('open');
    setInterval(() => {}, 1 << 30);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    child.stdout?.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  await assert.rejects(FileStorage.open(dir), new RegExp(`process ${child.pid}`));
  child.kill('SIGKILL');
  await exited;
  const taken = await FileStorage.open(dir); // its lock is stale
  await taken.close();
});

test('FileStorage: a transaction that writes nothing does not rewrite the state', async () => {
  const dir = tempDir('file-noop');
  const s = await FileStorage.open(dir);
  await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'site/a', { fields: {} }));
  const state = path.join(dir, 'state.json');
  const before = fs.statSync(state);
  await s.transaction('records', 'readonly', (tx) => tx.get('records', 'site/a'));
  await s.transaction(['records', 'meta'], 'readwrite', (tx) => tx.all('records'));
  const after = fs.statSync(state);
  assert.equal(after.ino, before.ino, 'state.json was not replaced');
  assert.equal(after.mtimeMs, before.mtimeMs);
  await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'site/b', { fields: {} }));
  assert.notEqual(fs.statSync(state).ino, before.ino, 'a write replaces it');
  await s.close();
});
