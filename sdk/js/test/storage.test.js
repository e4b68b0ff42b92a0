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
  // Said in Chinese, as every FieldsyncError's message is (the app shows it).
  await assert.rejects(FileStorage.open(dir), (e) => /正被本程序使用/.test(String(e)) && /** @type {any} */ (e).code === 'storage_locked' && !/[a-z]{4,}/.test(/** @type {any} */ (e).message.replace(dir, '').replace('FileStorage', '')));
  // By another path to the same directory too: a symlink, a trailing slash.
  const link = `${dir}-link`;
  fs.symlinkSync(dir, link);
  await assert.rejects(FileStorage.open(link), /正被本程序使用/);
  await assert.rejects(FileStorage.open(`${dir}/`), /正被本程序使用/);
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
  await assert.rejects(FileStorage.open(dir), new RegExp(`正被进程 ${child.pid} 使用`));
  child.kill('SIGKILL');
  await exited;
  const taken = await FileStorage.open(dir); // its lock is stale
  await taken.close();
});

test('FileStorage: a transaction that writes nothing writes no file', async () => {
  const dir = tempDir('file-noop');
  const s = await FileStorage.open(dir);
  await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'site/a', { fields: {} }));
  const files = () => fs.readdirSync(dir).filter((f) => f !== 'blobs').map((f) => { const st = fs.statSync(path.join(dir, f)); return `${f} ${st.ino} ${st.size} ${st.mtimeMs}`; }).sort();
  const before = files();
  await s.transaction('records', 'readonly', (tx) => tx.get('records', 'site/a'));
  await s.transaction(['records', 'meta'], 'readwrite', (tx) => tx.all('records'));
  assert.deepEqual(files(), before, 'nothing was written');
  await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'site/b', { fields: {} }));
  assert.notDeepEqual(files(), before, 'a write is persisted');
  await s.close();
});

test('FileStorage: a commit writes what it changes, not everything stored', async () => {
  const dir = tempDir('file-cost');
  const s = await FileStorage.open(dir);
  const big = 'x'.repeat(1000);
  await s.transaction('records', 'readwrite', async (tx) => {
    for (let i = 0; i < 2000; i++) await tx.put('records', `site/${i}`, { fields: { note: { value: big, hlc: 'h' } } });
  });
  const size = () => fs.readdirSync(dir).filter((f) => f !== 'blobs').reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  const before = size();
  assert.ok(before > 2_000_000, `the records are stored (${before} bytes)`);
  for (let i = 0; i < 20; i++) await s.transaction(['outbox', 'meta'], 'readwrite', async (tx) => {
    await tx.put('outbox', `seq/${i}`, { entity: 'site', id: String(i) });
    await tx.put('meta', 'seq', i);
  });
  const grown = size() - before;
  assert.ok(grown < 20 * 200, `20 small commits over 2 MB of records wrote ${grown} bytes`);
  await s.close();
  const r = await FileStorage.open(dir);
  assert.equal((await r.transaction('records', 'readonly', (tx) => tx.all('records'))).length, 2000);
  assert.equal(await r.transaction('meta', 'readonly', (tx) => tx.get('meta', 'seq')), 19);
  await r.close();
});

test('FileStorage: a commit cut short by a kill is dropped, and what was committed before it is kept', async () => {
  const dir = tempDir('file-torn');
  const s = await FileStorage.open(dir);
  await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'a', { n: 1 }));
  await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'b', { n: 2 }));
  await s.transaction('records', 'readwrite', (tx) => tx.delete('records', 'a'));
  const journal = path.join(dir, 'journal');
  const whole = fs.readFileSync(journal);
  await s.transaction(['records', 'meta'], 'readwrite', async (tx) => {
    await tx.put('records', 'c', { n: 3, text: '东侧料棚' });
    await tx.put('meta', 'seq', 7);
  });
  await s.close();
  const last = fs.readFileSync(journal).subarray(whole.length);
  assert.equal(whole.at(-1), 0x0a);
  assert.equal(last.at(-1), 0x0a);
  // Every cut of the last commit is none of it.
  for (let cut = 0; cut < last.length; cut++) {
    fs.writeFileSync(journal, Buffer.concat([whole, last.subarray(0, cut)]));
    const r = await FileStorage.open(dir);
    const got = await r.transaction(['records', 'meta'], 'readonly', async (tx) => ({ recs: await tx.all('records'), seq: await tx.get('meta', 'seq') }));
    assert.deepEqual(got, { recs: [['b', { n: 2 }]], seq: undefined }, `cut at ${cut}`);
    // The next commit is not lost behind the partial line.
    await r.transaction('records', 'readwrite', (tx) => tx.put('records', 'd', { n: 4 }));
    await r.close();
    const again = await FileStorage.open(dir);
    assert.deepEqual(await again.transaction('records', 'readonly', (tx) => tx.all('records')), [['b', { n: 2 }], ['d', { n: 4 }]], `cut at ${cut}, reopened`);
    await again.close();
  }
  // Zeros a file system may leave past the end are no commit either.
  fs.writeFileSync(journal, Buffer.concat([whole, Buffer.alloc(4096)]));
  const z = await FileStorage.open(dir);
  assert.deepEqual(await z.transaction('records', 'readonly', (tx) => tx.all('records')), [['b', { n: 2 }]]);
  await z.close();
});

test('FileStorage: a damaged line with commits after it is refused at open, and nothing is dropped', async () => {
  const dir = tempDir('file-damaged');
  const s = await FileStorage.open(dir);
  for (let i = 0; i < 5; i++) await s.transaction('records', 'readwrite', (tx) => tx.put('records', `finding/${i}`, { n: i }));
  await s.close();
  const journal = path.join(dir, 'journal');
  const good = fs.readFileSync(journal);
  const lines = good.toString('utf8').split('\n');
  const third = lines.slice(0, 2).join('\n').length + 1; // the third line's first byte
  // Any one byte changed in the third line: in its checksum, in its JSON
  // (a store's name, a key, a value), or its newline.
  const width = Buffer.byteLength(lines[2]) + 1;
  for (let off = 0; off < width; off++) {
    const bad = Buffer.from(good);
    bad[third + off] = bad[third + off] === 0x31 ? 0x32 : 0x31;
    fs.writeFileSync(journal, bad);
    await assert.rejects(FileStorage.open(dir), /journal is damaged at byte/, `byte ${off} of the line changed`);
    assert.deepEqual(fs.readFileSync(journal), bad, `byte ${off}: the journal is left as it was`);
  }
  fs.writeFileSync(journal, good);
  const r = await FileStorage.open(dir);
  assert.equal((await r.transaction('records', 'readonly', (tx) => tx.all('records'))).length, 5, 'it opens once whole again (its lock was let go)');
  await r.close();
});

test('FileStorage: the journal is folded into the state once it outgrows it, and a kill between the two loses nothing', async () => {
  const dir = tempDir('file-fold');
  const s = await FileStorage.open(dir);
  const chunk = '料'.repeat(400_000); // 1.2 MB of UTF-8
  const photo = new Uint8Array(1000).map((_, i) => i % 7);
  await s.transaction(['blobs', 'records'], 'readwrite', async (tx) => {
    await tx.put('blobs', 'p', photo);
    await tx.put('records', 'photo/p', { n: 0 });
  });
  // Four commits of 1.2 MB: the journal passes 4 MiB and the state (empty) at the fourth.
  for (let i = 0; i < 4; i++) await s.transaction('records', 'readwrite', (tx) => tx.put('records', `r${i}`, { chunk, i }));
  const journal = path.join(dir, 'journal');
  const state = path.join(dir, 'state.json');
  assert.equal(fs.statSync(journal).size, 0, 'the journal was folded');
  assert.ok(fs.statSync(state).size > 4 * 1_200_000, 'into the state');
  await s.transaction('records', 'readwrite', (tx) => tx.delete('records', 'r0'));
  await s.close();
  // A kill after state.json was replaced but before the journal was
  // emptied: the journal's lines are applied again over a state that has them.
  const stateBytes = fs.readFileSync(state);
  const r = await FileStorage.open(dir);
  const want = await r.transaction(['records', 'blobs'], 'readonly', async (tx) => ({ recs: (await tx.all('records')).map(([k, v]) => [k, v.i ?? v.n]), blob: [...(await tx.get('blobs', 'p'))] }));
  assert.deepEqual(want.recs, [['photo/p', 0], ['r1', 1], ['r2', 2], ['r3', 3]]);
  assert.deepEqual(want.blob, [...photo]);
  await r.transaction('records', 'readwrite', (tx) => tx.put('records', 'r1', { i: 11 }));
  await r.close();
  const lines = fs.readFileSync(journal);
  fs.writeFileSync(state, stateBytes);
  fs.writeFileSync(journal, Buffer.concat([fs.readFileSync(journal), lines]));
  const again = await FileStorage.open(dir);
  assert.deepEqual((await again.transaction('records', 'readonly', (tx) => tx.all('records'))).map(([k, v]) => [k, v.i ?? v.n]), [['photo/p', 0], ['r1', 11], ['r2', 2], ['r3', 3]]);
  await again.close();
});

test('FileStorage: a commit the disk refuses halfway is refused whole, and the next one is kept', async () => {
  const dir = tempDir('file-full');
  const s = await FileStorage.open(dir);
  await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'a', { n: 1 }));
  const write = fs.writeSync;
  // The disk takes half the line, then is full.
  let calls = 0;
  fs.writeSync = /** @type {any} */ ((/** @type {number} */ fd, /** @type {Buffer} */ buf, /** @type {number} */ off, /** @type {number} */ len) => {
    if (calls++ === 0) return write(fd, buf, off, Math.floor(len / 2));
    fs.writeSync = write;
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  });
  try {
    await assert.rejects(s.transaction('records', 'readwrite', (tx) => tx.put('records', 'b', { n: 2 })), /ENOSPC/);
  } finally {
    fs.writeSync = write;
  }
  assert.equal(await s.transaction('records', 'readonly', (tx) => tx.get('records', 'b')), undefined, 'not applied in memory');
  await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'c', { n: 3 }));
  await s.close();
  const r = await FileStorage.open(dir);
  assert.deepEqual(await r.transaction('records', 'readonly', (tx) => tx.all('records')), [['a', { n: 1 }], ['c', { n: 3 }]]);
  await r.close();
});

test('FileStorage: a disk that takes a write in pieces gets all of it: blobs, the state and the journal', async () => {
  const dir = tempDir('file-short');
  const s = await FileStorage.open(dir);
  const write = fs.writeSync;
  // Every write takes at most 1000 bytes, as a nearly full disk may.
  fs.writeSync = /** @type {any} */ ((/** @type {number} */ fd, /** @type {Buffer} */ buf, /** @type {number} */ off = 0, /** @type {number} */ len = buf.length - off) =>
    write(fd, buf, off, Math.min(len, 1000)));
  const photo = new Uint8Array(120_000).map((_, i) => (i * 7) % 256);
  const chunk = '料'.repeat(400_000);
  try {
    await s.transaction(['blobs', 'records'], 'readwrite', async (tx) => {
      await tx.put('blobs', 'p', photo);
      await tx.put('records', 'photo/p', { n: 0 });
    });
    // Past 4 MiB: a fold writes state.json.
    for (let i = 0; i < 4; i++) await s.transaction('records', 'readwrite', (tx) => tx.put('records', `r${i}`, { chunk, i }));
  } finally {
    fs.writeSync = write;
  }
  assert.equal(fs.statSync(path.join(dir, 'journal')).size, 0, 'folded');
  await s.close();
  const r = await FileStorage.open(dir);
  const got = await r.transaction(['blobs', 'records'], 'readonly', async (tx) => ({ blob: await tx.get('blobs', 'p'), n: (await tx.all('records')).length }));
  assert.ok(Buffer.from(got.blob).equals(Buffer.from(photo)), 'the photo whole');
  assert.equal(got.n, 5);
  await r.close();
});

test('FileStorage: a fold the disk refuses fails no commit, leaves no partial copy, and is tried again later', async () => {
  const dir = tempDir('file-foldfull');
  const s = await FileStorage.open(dir);
  const chunk = '料'.repeat(400_000);
  const rename = fs.renameSync;
  let refused = 0;
  fs.renameSync = /** @type {any} */ ((/** @type {string} */ from, /** @type {string} */ to) => {
    if (to.endsWith('state.json')) {
      refused++;
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }
    return rename(from, to);
  });
  const warn = console.warn;
  console.warn = () => {};
  try {
    for (let i = 0; i < 4; i++) await s.transaction('records', 'readwrite', (tx) => tx.put('records', `r${i}`, { chunk, i }));
    assert.equal(refused, 1, 'the fold was tried at the fourth commit');
    assert.ok(!fs.existsSync(path.join(dir, 'state.json.tmp')), 'no partial state left');
    // The next commits do not try again at once (each try writes everything).
    await s.transaction('records', 'readwrite', (tx) => tx.put('records', 'small', { n: 1 }));
    assert.equal(refused, 1);
  } finally {
    fs.renameSync = rename;
    console.warn = warn;
  }
  for (let i = 4; i < 8; i++) await s.transaction('records', 'readwrite', (tx) => tx.put('records', `r${i}`, { chunk, i }));
  assert.equal(fs.statSync(path.join(dir, 'journal')).size, 0, 'folded once the disk took it');
  await s.close();
  const r = await FileStorage.open(dir);
  assert.equal((await r.transaction('records', 'readonly', (tx) => tx.all('records'))).length, 9);
  await r.close();
});

test('FileStorage: closed (by another client of it), a transaction is refused storage_closed, not a file system error', async () => {
  const dir = tempDir('closed');
  const s = await FileStorage.open(dir);
  await s.transaction('meta', 'readwrite', (tx) => tx.put('meta', 'k', 1));
  await s.close();
  await assert.rejects(
    s.transaction('meta', 'readonly', (tx) => tx.get('meta', 'k')),
    (/** @type {any} */ e) => e?.code === 'storage_closed' && /已关闭/.test(e.message),
  );
  const again = await FileStorage.open(dir);
  assert.equal(await again.transaction('meta', 'readonly', (tx) => tx.get('meta', 'k')), 1, 'what was committed is there on reopening');
  await again.close();
});

test('a FileStorage is opened with FileStorage.open: constructed, it says so at once (SDK probe: refused later as closed)', () => {
  // @ts-expect-error private constructor
  assert.throws(() => new FileStorage(tempDir('storage')), (/** @type {any} */ e) => e instanceof TypeError && /FileStorage\.open\(dir\)/.test(e.message));
});
