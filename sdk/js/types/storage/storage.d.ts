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
export function keysOf(tx: Tx, store: StoreName, prefix?: string): Promise<string[]>;
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
export function clone<T>(v: T): T;
/** @param {string} a @param {string} b */
export function keyOrder(a: string, b: string): 0 | 1 | -1;
/** The stores every adapter provides. */
export const STORES: readonly ["meta", "records", "outbox", "batches", "blobs", "uploads", "superseded"];
export type StoreName = "meta" | "records" | "outbox" | "batches" | "blobs" | "uploads" | "superseded";
export type TxMode = "readonly" | "readwrite";
/**
 * A transaction's operations. Keys are strings; values are structured-
 * cloneable (plain objects, arrays, strings, numbers, Uint8Array, Blob).
 */
export type Tx = {
    /**
     * the value, or undefined
     */
    get: (store: StoreName, key: string) => Promise<any>;
    put: (store: StoreName, key: string, value: any) => Promise<void>;
    delete: (store: StoreName, key: string) => Promise<void>;
    /**
     * every entry
     * (whose key starts with prefix, when given: an adapter may also return others, which
     * callers skip), in key order
     */
    all: (store: StoreName, prefix?: string) => Promise<Array<[string, any]>>;
    /**
     * optional: the keys
     * all would return, without their values (the client then reads only the values it
     * has not seen; without it, it reads them all)
     */
    keys?: ((store: StoreName, prefix?: string) => Promise<string[]>) | undefined;
};
/**
 * A storage adapter. transaction runs fn in one transaction over the named
 * stores: all its writes commit together or, if fn throws, not at all.
 * fn must await only tx operations (IndexedDB commits an idle transaction).
 */
export type Storage = {
    transaction: <T>(stores: StoreName[] | StoreName, mode: TxMode, fn: (tx: Tx) => Promise<T>) => Promise<T>;
    close: () => Promise<void>;
    /**
     * optional: called after the client dropped a
     * user's data (a sign-out with force, another user's sign-in): an adapter that keeps
     * history or free space holding old values (a journal) rewrites its files so that
     * what was dropped is gone from the device
     */
    compact?: (() => Promise<void>) | undefined;
    /**
     * set when other tabs of the same app may open the
     * same storage: they then refresh tokens and sync one at a time (Web Locks
     * by this name)
     */
    name?: string | undefined;
};
