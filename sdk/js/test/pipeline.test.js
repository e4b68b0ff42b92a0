// A pull asks for the next page while it stores the one before (the
// server reads that page ahead meanwhile, sync.md §8.1), against the real
// fieldsync binary: every page is asked for once, in order, and the phone
// ends with the same records as one that pulls in the default pages.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage } from '../src/index.js';
import { device, startServer, syncOK, tempDir } from './helpers.js';

/** The stores a pulled page is written in (pullAll's transaction). */
const PAGE_STORES = ['meta', 'records', 'uploads', 'superseded'];

test('the next page is asked for while a page is stored; every page once, the same records', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });

  /** @type {Array<{cursor: string, hasMore: boolean | null}>} the pulls, in the order sent */
  const pulls = [];
  /** @type {Array<() => void>} called when a pull is sent */
  const waiting = [];
  /** @type {typeof fetch} */
  const watched = async (input, init) => {
    const u = new URL(String(input));
    const isPull = u.pathname === '/api/v1/sync/pull';
    const entry = { cursor: u.searchParams.get('cursor') ?? '', hasMore: /** @type {boolean | null} */ (null) };
    if (isPull) {
      pulls.push(entry);
      for (const w of waiting.splice(0)) w();
    }
    const resp = await globalThis.fetch(input, init);
    if (isPull && resp.ok) entry.hasMore = (await resp.clone().json()).has_more === true;
    return resp;
  };

  // Storing page k (its has_more true) waits until page k+1 has been
  // asked for: a client that asked only after storing would never get
  // there, and the wait gives up after ten seconds, noting it.
  /** @type {string[]} */
  const late = [];
  let stored = 0;
  class WatchedStorage extends MemoryStorage {
    /** @type {MemoryStorage['transaction']} */
    transaction(stores, mode, fn) {
      if (!(Array.isArray(stores) && mode === 'readwrite' && stores.join() === PAGE_STORES.join())) {
        return super.transaction(stores, mode, fn);
      }
      const k = ++stored;
      return super.transaction(stores, mode, async (tx) => {
        if (pulls[k - 1]?.hasMore && pulls.length <= k) {
          /** @type {ReturnType<typeof setTimeout> | undefined} */
          let timer;
          const asked = await Promise.race([
            new Promise((resolve) => waiting.push(() => resolve(true))),
            new Promise((resolve) => {
              timer = setTimeout(() => resolve(false), 10_000);
            }),
          ]);
          clearTimeout(timer);
          if (!asked) late.push(`page ${k + 1} was not asked for while page ${k} was stored`);
        }
        return fn(tx);
      });
    }
  }

  const phone = await device(srv.url, { fetch: watched, storage: new WatchedStorage(), pageLimit: 40 });
  const r = await syncOK(phone);
  assert.deepEqual(late, []);
  assert.ok(pulls.length >= 4, `the slice came in ${pulls.length} pages of 40; want at least 4`);
  assert.equal(stored, pulls.length, 'one stored transaction per page');
  assert.equal(new Set(pulls.map((p) => p.cursor)).size, pulls.length, `a cursor asked for twice: ${JSON.stringify(pulls.map((p) => p.cursor))}`);
  assert.deepEqual(
    pulls.map((p) => p.hasMore),
    pulls.map((_, i) => i < pulls.length - 1),
    'has_more on every page but the last',
  );

  // A phone pulling the default pages of 500 ends with the same records.
  const other = await device(srv.url);
  const r2 = await syncOK(other);
  assert.equal(r.pulled, r2.pulled);
  const entities = ['county', 'checklist_template', 'rectification_task', 'site', 'inspection', 'finding', 'photo', 'vehicle_check', 'review', 'task_progress'];
  for (const entity of entities) {
    const ids = async (/** @type {FieldsyncClient} */ c) => (await c.list(entity)).map((x) => x.id).sort();
    assert.deepEqual(await ids(phone), await ids(other), `${entity} records`);
  }
});

test('pageLimit outside 1–5000 is refused when the client opens', async () => {
  for (const pageLimit of [0, -1, 5001, 1.5, Number.NaN]) {
    await assert.rejects(FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage(), pageLimit }), RangeError, `pageLimit ${pageLimit}`);
  }
});
