// IndexedDBStorage: the browsers' adapter, over idb.

import { openDB } from 'idb';
import { STORES, keyOrder } from './storage.js';

/** @typedef {import('./storage.js').StoreName} StoreName */
/** @typedef {import('./storage.js').Tx} Tx */

/** A Storage in one IndexedDB database (one database per user). */
export class IndexedDBStorage {
  /** @param {import('idb').IDBPDatabase} db */
  constructor(db) {
    /** @internal */
    this.db = db;
    /** @internal The database's name: tabs of one app on it share locks by it (client.exclusive). */
    this.name = db.name;
  }

  /**
   * Opens (creating or upgrading) the database name, from the global
   * indexedDB (in Node tests: import 'fake-indexeddb/auto').
   * @param {string} [name]
   * @returns {Promise<IndexedDBStorage>}
   */
  static async open(name = 'fieldsync') {
    const db = await openDB(name, 1, {
      upgrade(db) {
        for (const s of STORES) if (!db.objectStoreNames.contains(s)) db.createObjectStore(s);
      },
    });
    return new IndexedDBStorage(db);
  }

  /**
   * @template T
   * @param {StoreName[] | StoreName} stores
   * @param {import('./storage.js').TxMode} mode
   * @param {(tx: Tx) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async transaction(stores, mode, fn) {
    const names = Array.isArray(stores) ? stores : [stores];
    // The write methods exist only on readwrite transactions; typed loosely.
    const t = /** @type {import('idb').IDBPTransaction<unknown, string[], 'readwrite'>} */ (this.db.transaction(names, mode));
    /** @type {Tx} */
    const tx = {
      get: (s, k) => t.objectStore(s).get(k),
      put: async (s, k, v) => {
        await t.objectStore(s).put(v, k);
      },
      delete: (s, k) => t.objectStore(s).delete(k),
      async all(s, prefix = '') {
        const store = t.objectStore(s);
        const range = prefixRange(prefix);
        const [keys, values] = await Promise.all([store.getAllKeys(range), store.getAll(range)]);
        const out = keys.map((k, i) => /** @type {[string, any]} */ ([String(k), values[i]]));
        return out.sort((a, b) => keyOrder(a[0], b[0]));
      },
      async keys(s, prefix = '') {
        const keys = await t.objectStore(s).getAllKeys(prefixRange(prefix));
        return keys.map(String).sort(keyOrder);
      },
    };
    let result;
    try {
      result = await fn(tx);
    } catch (err) {
      try {
        t.abort();
      } catch {
        // already finished
      }
      await t.done.catch(() => {});
      throw err;
    }
    await t.done;
    return result;
  }

  async close() {
    this.db.close();
  }
}

/**
 * The key range of the string keys that start with prefix (undefined: all
 * keys). They sort from prefix up to, not including, prefix with its last
 * code unit the next one.
 * @param {string} prefix
 */
function prefixRange(prefix) {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix && last < 0xffff ? IDBKeyRange.bound(prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1), false, true) : undefined;
}
