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
    /** The journal, open for appending (set by open). */
    fd: number;
    /** Its length: every byte before it is a whole line. */
    journalSize: number;
    /** The size of state.json as last written. */
    stateSize: number;
    /** @type {Error | null} set when the journal could not be put back after a failed append */
    broken: Error | null;
    /** The journal's size past which the next fold is tried (raised after one fails). */
    foldAt: number;
    /** Reads state.json, replays the journal over it, and opens the journal for appending. */
    load(): void;
    /** @param {string} key */
    blobPath(key: string): string;
    /**
     * Appends one line to the journal and makes it durable. If that fails,
     * the journal is cut back to its last whole line, so that the next
     * commit's line does not follow a partial one.
     * @param {Buffer} line
     */
    append(line: Buffer): void;
    /**
     * Writes what is stored to state.json and empties the journal, at once:
     * the client calls it after dropping a user's data, whose values the
     * journal and the previous state.json still held.
     */
    compact(): Promise<void>;
    /**
     * Writes the whole state to state.json and empties the journal. A kill
     * between the two replays the journal over a state that already has it,
     * which changes nothing (its lines set keys to values, in order).
     */
    fold(): void;
}
import { MemoryStorage } from './memory.js';
import { Buffer } from 'node:buffer';
