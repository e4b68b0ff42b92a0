/**
 * @param {Map<string, Map<string, any>>} data
 * @param {Map<string, Map<string, any>>} writes
 */
export function applyWrites(data: Map<string, Map<string, any>>, writes: Map<string, Map<string, any>>): void;
/**
 * A transaction over data whose writes go to an overlay.
 * @param {Map<string, Map<string, any>>} data
 * @param {string[]} stores
 * @param {string} mode
 */
export function overlayTx(data: Map<string, Map<string, any>>, stores: string[], mode: string): {
    tx: import("./storage.js").Tx;
    writes: Map<string, Map<string, any>>;
};
/** @typedef {import('./storage.js').StoreName} StoreName */
/** @typedef {import('./storage.js').Tx} Tx */
/**
 * Runs transactions one at a time over maps; a transaction's writes are
 * buffered and applied only when fn resolves.
 */
export class MemoryStorage {
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
