// The storage adapter interface (API.md "Storage adapter"): a few stores of
// string keys and structured values, written in transactions.

/** The stores every adapter provides. */
export const STORES = /** @type {const} */ (['meta', 'records', 'outbox', 'batches', 'blobs', 'uploads', 'superseded']);

/**
 * @typedef {'meta'|'records'|'outbox'|'batches'|'blobs'|'uploads'|'superseded'} StoreName
 * @typedef {'readonly'|'readwrite'} TxMode
 */

/**
 * A transaction's operations. Keys are strings; values are structured-
 * cloneable (plain objects, arrays, strings, numbers, Uint8Array, Blob).
 * @typedef {object} Tx
 * @property {(store: StoreName, key: string) => Promise<any>} get the value, or undefined
 * @property {(store: StoreName, key: string, value: any) => Promise<void>} put
 * @property {(store: StoreName, key: string) => Promise<void>} delete
 * @property {(store: StoreName, prefix?: string) => Promise<Array<[string, any]>>} all every entry
 *   (whose key starts with prefix, when given: an adapter may also return others, which
 *   callers skip), in key order
 * @property {(store: StoreName, prefix?: string) => Promise<string[]>} [keys] optional: the keys
 *   all would return, without their values (the client then reads only the values it
 *   has not seen; without it, it reads them all)
 */

/**
 * The keys of store in tx (starting with prefix, when given; an adapter
 * may return others, which callers skip), in key order: from tx.keys
 * where the adapter has it, else from tx.all.
 * @param {Tx} tx
 * @param {StoreName} store
 * @param {string} [prefix]
 * @returns {Promise<string[]>}
 */
export async function keysOf(tx, store, prefix = '') {
  if (tx.keys) return tx.keys(store, prefix);
  return (await tx.all(store, prefix)).map(([k]) => k);
}

/**
 * A storage adapter. transaction runs fn in one transaction over the named
 * stores: all its writes commit together or, if fn throws, not at all.
 * fn must await only tx operations (IndexedDB commits an idle transaction).
 * @typedef {object} Storage
 * @property {<T>(stores: StoreName[] | StoreName, mode: TxMode, fn: (tx: Tx) => Promise<T>) => Promise<T>} transaction
 * @property {() => Promise<void>} close
 * @property {() => Promise<void>} [compact] optional: called after the client dropped a
 *   user's data (a sign-out with force, another user's sign-in): an adapter that keeps
 *   history or free space holding old values (a journal) rewrites its files so that
 *   what was dropped is gone from the device
 * @property {string} [name] set when other tabs of the same app may open the
 *   same storage: they then refresh tokens and sync one at a time (Web Locks
 *   by this name)
 */

/**
 * Copies a value so callers never share mutable state with the store.
 * @template T
 * @param {T} v
 * @returns {T}
 */
export function clone(v) {
  if (v === undefined || v === null || typeof v !== 'object') return v;
  if (typeof Blob !== 'undefined' && v instanceof Blob) return v; // immutable
  return structuredClone(v);
}

/** @param {string} a @param {string} b */
export function keyOrder(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
