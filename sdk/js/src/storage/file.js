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
    lock(dir);
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

  /** Waits for the running transactions, then unlocks the directory. */
  async close() {
    await super.close();
    unlock(this.dir);
  }

  /** @param {Map<string, Map<string, any>>} writes */
  async commit(writes) {
    if (![...writes.values()].some((m) => m.size > 0)) return; // nothing written: nothing to persist
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

const LOCK = 'lock';

/** The directories this process has open, as their absolute paths. */
const held = new Set();

/**
 * Takes dir for this FileStorage: a lock file names the process holding
 * it. A second FileStorage on the same directory, in this process or in
 * another live one, is refused: each would write its own state over the
 * other's and lose what the other saved. A lock left by a process that
 * died is taken over.
 * @param {string} dir
 */
function lock(dir) {
  const abs = fs.realpathSync.native(dir); // one directory, by whatever path (a symlink, ./, another letter case)
  const file = path.join(abs, LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      held.add(abs);
      return;
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const pid = Number(fs.readFileSync(file, 'utf8'));
    // A lock naming this process but not held by it is a dead process's
    // that had the same pid (a container's process is often pid 1).
    if (held.has(abs) || (pid !== process.pid && alive(pid))) {
      throw new Error(`FileStorage ${dir} is open in ${pid === process.pid ? 'this process' : `process ${pid}`}: one FileStorage per directory (close it first)`);
    }
    fs.rmSync(file, { force: true });
  }
}

/** @param {string} dir */
function unlock(dir) {
  let abs = '';
  try {
    abs = fs.realpathSync.native(dir);
  } catch {
    return; // the directory is gone, and its lock with it
  }
  if (held.delete(abs)) fs.rmSync(path.join(abs, LOCK), { force: true });
}

/** @param {number} pid */
function alive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM';
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
