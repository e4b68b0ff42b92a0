// FileStorage (Node only, not in the bundle): MemoryStorage persisted to a
// directory. Every committed transaction is durable before transaction()
// resolves: new blobs are written to their own files and the rest of the
// state to state.json, each as temp file + fsync + rename (+ fsync of the
// directory), so a process killed at any moment loses nothing committed
// and never leaves a half-written file.

import fs from 'node:fs';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import { MemoryStorage, applyWrites } from './memory.js';
import { STORES } from './storage.js';

const STATE = 'state.json';

/** A Storage over files in one directory (one directory per user). */
export class FileStorage extends MemoryStorage {
  /** @param {string} dir */
  constructor(dir) {
    super();
    this.dir = dir;
  }

  /**
   * Opens (creating if needed) the storage in dir.
   * @param {string} dir
   * @returns {Promise<FileStorage>}
   */
  static async open(dir) {
    const s = new FileStorage(dir);
    fs.mkdirSync(path.join(dir, 'blobs'), { recursive: true });
    let state = null;
    try {
      state = JSON.parse(fs.readFileSync(path.join(dir, STATE), 'utf8'), reviver);
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT') throw new Error(`read ${STATE}: ${err}`);
    }
    for (const store of STORES) {
      const m = /** @type {Map<string, any>} */ (s.data.get(store));
      for (const [k, v] of Object.entries(state?.[store] ?? {})) {
        m.set(k, store === 'blobs' ? new Uint8Array(fs.readFileSync(s.blobPath(k))) : v);
      }
    }
    return s;
  }

  /** @param {string} key */
  blobPath(key) {
    return path.join(this.dir, 'blobs', Buffer.from(key).toString('hex'));
  }

  /** @param {Map<string, Map<string, any>>} writes */
  async commit(writes) {
    const blobs = writes.get('blobs');
    const removed = [];
    if (blobs) {
      for (const [k, v] of blobs) {
        if (v === undefined) {
          removed.push(k);
          continue;
        }
        const bytes = v instanceof Uint8Array ? v : new Uint8Array(await v.arrayBuffer());
        blobs.set(k, bytes);
        writeDurably(this.blobPath(k), bytes);
      }
    }
    /** @type {Map<string, Map<string, any>>} */
    const next = new Map([...this.data].map(([s, m]) => [s, new Map(m)]));
    applyWrites(next, writes);
    /** @type {Record<string, Record<string, any>>} */
    const out = {};
    for (const [store, m] of next) {
      out[store] = {};
      for (const [k, v] of m) out[store][k] = store === 'blobs' ? true : v;
    }
    writeDurably(path.join(this.dir, STATE), Buffer.from(JSON.stringify(out, replacer)));
    this.data = next;
    for (const k of removed) fs.rmSync(this.blobPath(k), { force: true });
  }
}

/**
 * Writes data to file as temp + fsync + rename + fsync of the directory.
 * @param {string} file
 * @param {Uint8Array} data
 */
function writeDurably(file, data) {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

/** @param {string} _k @param {any} v */
function replacer(_k, v) {
  if (v instanceof Uint8Array) return { $u8: Buffer.from(v).toString('base64') };
  return v;
}

/** @param {string} _k @param {any} v */
function reviver(_k, v) {
  if (v && typeof v === 'object' && typeof v.$u8 === 'string' && Object.keys(v).length === 1) {
    return new Uint8Array(Buffer.from(v.$u8, 'base64'));
  }
  return v;
}
