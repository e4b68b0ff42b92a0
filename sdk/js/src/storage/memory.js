// MemoryStorage: everything in memory (tests, or an app that keeps nothing).

import { STORES, clone, keyOrder } from './storage.js';

/** @typedef {import('./storage.js').StoreName} StoreName */
/** @typedef {import('./storage.js').Tx} Tx */

/**
 * Runs transactions one at a time over maps; a transaction's writes are
 * buffered and applied only when fn resolves.
 */
export class MemoryStorage {
  constructor() {
    /** @internal @type {Map<string, Map<string, any>>} */
    this.data = new Map(STORES.map((s) => [s, new Map()]));
    /** @internal @type {Promise<unknown>} */
    this.queue = Promise.resolve();
  }

  /**
   * @template T
   * @param {StoreName[] | StoreName} stores
   * @param {import('./storage.js').TxMode} mode
   * @param {(tx: Tx) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  transaction(stores, mode, fn) {
    const run = async () => {
      const { tx, writes } = overlayTx(this.data, Array.isArray(stores) ? stores : [stores], mode);
      const result = await fn(tx);
      await this.commit(writes);
      return result;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /**
   * Applies a committed transaction's writes (FileStorage overrides it to
   * persist them first).
   * @param {Map<string, Map<string, any>>} writes store → key → value (undefined: deleted)
   * @internal
   */
  async commit(writes) {
    applyWrites(this.data, writes);
  }

  async close() {
    await this.queue;
  }
}

/**
 * @param {Map<string, Map<string, any>>} data
 * @param {Map<string, Map<string, any>>} writes
 */
export function applyWrites(data, writes) {
  for (const [store, m] of writes) {
    const d = /** @type {Map<string, any>} */ (data.get(store));
    for (const [k, v] of m) {
      if (v === undefined) d.delete(k);
      else d.set(k, v);
    }
  }
}

/**
 * A transaction over data whose writes go to an overlay.
 * @param {Map<string, Map<string, any>>} data
 * @param {string[]} stores
 * @param {string} mode
 */
export function overlayTx(data, stores, mode) {
  /** @type {Map<string, Map<string, any>>} */
  const writes = new Map();
  /** @param {string} s */
  const check = (s, write = false) => {
    if (!stores.includes(s) || !data.has(s)) throw new Error(`store ${s} is not in this transaction`);
    if (write && mode !== 'readwrite') throw new Error('readonly transaction');
  };
  /** @type {Tx} */
  const tx = {
    async get(s, k) {
      check(s);
      const w = writes.get(s);
      if (w && w.has(k)) return clone(w.get(k));
      return clone(data.get(s)?.get(k));
    },
    async put(s, k, v) {
      check(s, true);
      if (typeof k !== 'string') throw new TypeError('keys are strings');
      if (!writes.has(s)) writes.set(s, new Map());
      writes.get(s)?.set(k, clone(v));
    },
    async delete(s, k) {
      check(s, true);
      if (!writes.has(s)) writes.set(s, new Map());
      writes.get(s)?.set(k, undefined);
    },
    async all(s, prefix = '') {
      check(s);
      const m = visible(s, prefix);
      return [...m.keys()].sort(keyOrder).map((k) => /** @type {[string, any]} */ ([k, clone(m.get(k))]));
    },
    async keys(s, prefix = '') {
      check(s);
      const keys = writes.has(s) ? [...visible(s, prefix).keys()] : [...(data.get(s)?.keys() ?? [])].filter((k) => k.startsWith(prefix));
      return inOrder(keys);
    },
  };
  /**
   * The entries of store s this transaction sees (its own writes over the
   * committed data), uncopied.
   * @param {string} s
   * @param {string} prefix
   */
  const visible = (s, prefix) => {
    /** @type {Map<string, any>} */
    const m = new Map();
    for (const [k, v] of data.get(s) ?? []) if (k.startsWith(prefix)) m.set(k, v);
    for (const [k, v] of writes.get(s) ?? []) {
      if (!k.startsWith(prefix)) continue;
      if (v === undefined) m.delete(k);
      else m.set(k, v);
    }
    return m;
  };
  return { tx, writes };
}

/**
 * keys sorted in key order: as they are when they were put in that
 * order (the outbox's seq keys are), found in one pass.
 * @param {string[]} keys
 */
function inOrder(keys) {
  for (let i = 1; i < keys.length; i++) if (keyOrder(keys[i - 1], keys[i]) > 0) return keys.sort(keyOrder);
  return keys;
}
