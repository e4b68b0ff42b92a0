// FileStorage (Node only, not in the bundle): MemoryStorage persisted to a
// directory. Every committed transaction is durable before transaction()
// resolves: its new blobs are written to their own files (temp file +
// fsync + rename), then its writes are appended to a journal as one line
// and fsynced. The journal is folded into state.json (temp + fsync +
// rename) once it outgrows the state, so a commit costs what it writes,
// not the size of everything stored. A process killed at any moment loses
// nothing committed: a line cut short by the kill was never acknowledged
// and is dropped when the directory is opened again.

import fs from 'node:fs';
import path from 'node:path';
import { Buffer } from 'node:buffer';
import { MemoryStorage, applyWrites } from './memory.js';
import { STORES } from './storage.js';

const STATE = 'state.json';
const JOURNAL = 'journal';
/** The journal is folded into the state when it is larger than this and than the state. */
const FOLD_AT = 4 << 20;

/** A Storage over files in one directory (one directory per user). */
export class FileStorage extends MemoryStorage {
  /** @param {string} dir */
  constructor(dir) {
    super();
    this.dir = dir;
    /** The journal, open for appending (set by open). */
    this.fd = -1;
    /** Its length: every byte before it is a whole line. */
    this.journalSize = 0;
    /** The size of state.json as last written. */
    this.stateSize = 0;
    /** @type {Error | null} set when the journal could not be put back after a failed append */
    this.broken = null;
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
    try {
      s.load();
    } catch (err) {
      if (s.fd >= 0) fs.closeSync(s.fd);
      unlock(dir);
      throw err;
    }
    return s;
  }

  /** Reads state.json, replays the journal over it, and opens the journal for appending. */
  load() {
    /** @type {Record<string, Record<string, any>> | null} */
    let state = null;
    try {
      const text = fs.readFileSync(path.join(this.dir, STATE), 'utf8');
      this.stateSize = Buffer.byteLength(text);
      state = JSON.parse(text, reviver);
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT') throw new Error(`read ${STATE}: ${err}`);
    }
    for (const store of STORES) {
      const m = /** @type {Map<string, any>} */ (this.data.get(store));
      for (const [k, v] of Object.entries(state?.[store] ?? {})) m.set(k, v);
    }
    const file = path.join(this.dir, JOURNAL);
    const existed = fs.existsSync(file);
    this.fd = fs.openSync(file, 'a+', 0o600);
    if (!existed) syncDir(this.dir);
    const journal = fs.readFileSync(file);
    // Whole lines only: the first that does not end in a newline or does
    // not parse is a commit cut short, and it and anything after it go.
    let at = 0;
    for (;;) {
      const nl = journal.indexOf(0x0a, at);
      if (nl < 0) break;
      let ops;
      try {
        ops = JSON.parse(journal.subarray(at, nl).toString('utf8'), reviver);
      } catch {
        break;
      }
      if (!Array.isArray(ops)) break;
      applyWrites(this.data, opsToWrites(ops));
      at = nl + 1;
    }
    if (at < journal.length) {
      fs.ftruncateSync(this.fd, at);
      fs.fsyncSync(this.fd);
    }
    this.journalSize = at;
    // The blobs' bytes are in their files; the state and journal say which exist.
    const blobs = /** @type {Map<string, any>} */ (this.data.get('blobs'));
    for (const k of blobs.keys()) blobs.set(k, new Uint8Array(fs.readFileSync(this.blobPath(k))));
  }

  /** @param {string} key */
  blobPath(key) {
    return path.join(this.dir, 'blobs', Buffer.from(key).toString('hex'));
  }

  /** Waits for the running transactions, then closes the journal and unlocks the directory. */
  async close() {
    await super.close();
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    unlock(this.dir);
  }

  /** @param {Map<string, Map<string, any>>} writes */
  async commit(writes) {
    if (![...writes.values()].some((m) => m.size > 0)) return; // nothing written: nothing to persist
    if (this.broken) throw new Error(`FileStorage ${this.dir}: ${this.broken.message}; open it again`);
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
    /** @type {any[]} */
    const ops = [];
    for (const [store, m] of writes) {
      for (const [k, v] of m) ops.push(v === undefined ? [store, k] : [store, k, store === 'blobs' ? true : v]);
    }
    this.append(Buffer.from(`${JSON.stringify(ops, replacer)}\n`));
    applyWrites(this.data, writes);
    for (const k of removed) fs.rmSync(this.blobPath(k), { force: true });
    if (this.journalSize > FOLD_AT && this.journalSize > this.stateSize) this.fold();
  }

  /**
   * Appends one line to the journal and makes it durable. If that fails,
   * the journal is cut back to its last whole line, so that the next
   * commit's line does not follow a partial one.
   * @param {Buffer} line
   */
  append(line) {
    try {
      for (let off = 0; off < line.length; ) off += fs.writeSync(this.fd, line, off, line.length - off);
      fs.fsyncSync(this.fd);
      this.journalSize += line.length;
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, this.journalSize);
      } catch (cut) {
        this.broken = /** @type {Error} */ (cut);
      }
      throw err;
    }
  }

  /**
   * Writes the whole state to state.json and empties the journal. A kill
   * between the two replays the journal over a state that already has it,
   * which changes nothing (its lines set keys to values, in order).
   */
  fold() {
    /** @type {Record<string, Record<string, any>>} */
    const out = {};
    for (const [store, m] of this.data) {
      out[store] = {};
      for (const [k, v] of m) out[store][k] = store === 'blobs' ? true : v;
    }
    const bytes = Buffer.from(JSON.stringify(out, replacer));
    writeDurably(path.join(this.dir, STATE), bytes);
    this.stateSize = bytes.length;
    fs.ftruncateSync(this.fd, 0);
    fs.fsyncSync(this.fd);
    this.journalSize = 0;
  }
}

/**
 * A journal line's operations as the writes applyWrites takes.
 * @param {any[]} ops [store, key, value] (a put) or [store, key] (a delete)
 */
function opsToWrites(ops) {
  /** @type {Map<string, Map<string, any>>} */
  const writes = new Map();
  for (const op of ops) {
    if (!Array.isArray(op) || typeof op[0] !== 'string' || typeof op[1] !== 'string') continue;
    if (!writes.has(op[0])) writes.set(op[0], new Map());
    writes.get(op[0])?.set(op[1], op.length > 2 ? op[2] : undefined);
  }
  return writes;
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
  syncDir(path.dirname(file));
}

/**
 * Makes a directory's entries (a file made or renamed in it) durable.
 * @param {string} dir
 */
function syncDir(dir) {
  const dfd = fs.openSync(dir, 'r');
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
