/** @typedef {import('./storage.js').StoreName} StoreName */
/** @typedef {import('./storage.js').Tx} Tx */
/** A Storage in one IndexedDB database (one database per user). */
export class IndexedDBStorage {
    /**
     * Opens (creating or upgrading) the database name, from the global
     * indexedDB (in Node tests: import 'fake-indexeddb/auto').
     * @param {string} [name]
     * @returns {Promise<IndexedDBStorage>}
     */
    static open(name?: string): Promise<IndexedDBStorage>;
    /** @param {import('idb').IDBPDatabase} db */
    constructor(db: import("idb").IDBPDatabase);
    /**
     * @template T
     * @param {StoreName[] | StoreName} stores
     * @param {import('./storage.js').TxMode} mode
     * @param {(tx: Tx) => Promise<T>} fn
     * @returns {Promise<T>}
     */
    transaction<T>(stores: StoreName[] | StoreName, mode: import("./storage.js").TxMode, fn: (tx: Tx) => Promise<T>): Promise<T>;
    close(): Promise<void>;
}
export type StoreName = import("./storage.js").StoreName;
export type Tx = import("./storage.js").Tx;
