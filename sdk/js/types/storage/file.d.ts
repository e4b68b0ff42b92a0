/** A Storage over files in one directory (one directory per user). */
export class FileStorage extends MemoryStorage {
    /**
     * Opens (creating if needed) the storage in dir.
     * @param {string} dir
     * @returns {Promise<FileStorage>}
     */
    static open(dir: string): Promise<FileStorage>;
    /** @param {string} dir */
    constructor(dir: string);
    dir: string;
    /** @param {string} key */
    blobPath(key: string): string;
}
import { MemoryStorage } from './memory.js';
