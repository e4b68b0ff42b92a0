/** A Storage over files in one directory (one directory per user). */
export class FileStorage extends MemoryStorage {
    /**
     * Opens (creating if needed) the storage in dir.
     * @param {string} dir
     * @returns {Promise<FileStorage>}
     */
    static open(dir: string): Promise<FileStorage>;
    /**
     * Use FileStorage.open(dir): a storage constructed is not open (SDK
     * probe: one passed to FieldsyncClient.open was refused as closed).
     * @private
     * @param {string} dir
     * @param {symbol} [opening]
     */
    private constructor();
    dir: string;
    /**
     * Writes what is stored to state.json and empties the journal, at once:
     * the client calls it after dropping a user's data, whose values the
     * journal and the previous state.json still held.
     */
    compact(): Promise<void>;
}
import { MemoryStorage } from './memory.js';
