// FileStorage (Node only, not in the bundle): MemoryStorage persisted to a
// directory. Every committed transaction is durable before transaction()
// resolves: its new blobs are written to their own files (temp file +
// fsync + rename), then its writes are appended to a journal as one line
// (with a checksum) and fsynced. The journal is folded into state.json
// (temp + fsync + rename) once it outgrows the state, so a commit costs
// what it writes, not the size of everything stored. A process killed at
// any moment loses nothing committed: a last line cut short by the kill
// was never acknowledged and is dropped when the directory is opened
// again. A damaged line with lines after it is not a kill's doing: open
// refuses the directory rather than drop what follows.

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { MemoryStorage, applyWrites } from './memory.js';
import { STORES } from './storage.js';
import { FieldsyncError } from '../errors.js';

const STATE = 'state.json';
const JOURNAL = 'journal';
/** The journal is folded into the state when it is larger than this and than the state. */
const FOLD_AT = 4 << 20;

/** What open passes its constructor: no one else constructs one. */
const OPENING = Symbol('FileStorage.open');

/** A Storage over files in one directory (one directory per user). */
export class FileStorage extends MemoryStorage {
  /**
   * Use FileStorage.open(dir): a storage constructed is not open (SDK
   * probe: one passed to FieldsyncClient.open was refused as closed).
   * @private
   * @param {string} dir
   * @param {symbol} [opening]
   */
  constructor(dir, opening) {
    if (opening !== OPENING) throw new TypeError('FileStorage: open it with `await FileStorage.open(dir)`, not `new FileStorage(dir)`');
    super();
    this.dir = dir;
    /** @internal The journal, open for appending (set by open). */
    this.fd = -1;
    /** @internal Its length: every byte before it is a whole line. */
    this.journalSize = 0;
    /** @internal The size of state.json as last written. */
    this.stateSize = 0;
    /** @internal @type {Error | null} set when the journal could not be put back after a failed append */
    this.broken = null;
    /** @internal The journal's size past which the next fold is tried (raised after one fails). */
    this.foldAt = FOLD_AT;
  }

  /**
   * Opens (creating if needed) the storage in dir.
   * @param {string} dir
   * @returns {Promise<FileStorage>}
   */
  static async open(dir) {
    const s = new FileStorage(dir, OPENING);
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

  /** @internal Reads state.json, replays the journal over it, and opens the journal for appending. */
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
    // Whole lines: what follows the last newline is a commit a kill cut
    // short (never acknowledged), and goes. A whole line that is not what
    // a commit wrote is damage, and the directory is refused: dropping it
    // would drop the commits after it too.
    let at = 0;
    for (;;) {
      const nl = journal.indexOf(0x0a, at);
      if (nl < 0) break;
      const writes = parseLine(journal.subarray(at, nl));
      if (!writes) {
        // Zeros a file system may leave past the end after a crash are no line.
        if (journal.subarray(at).every((b) => b === 0 || b === 0x0a)) break;
        throw new Error(`FileStorage ${this.dir}: ${JOURNAL} is damaged at byte ${at} (a line that is not a whole commit, with more after it); ` +
          'nothing was changed: restore the directory from a copy, or move the journal away to open what state.json holds');
      }
      applyWrites(this.data, writes);
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

  /** @internal @param {string} key */
  blobPath(key) {
    return path.join(this.dir, 'blobs', Buffer.from(key).toString('hex'));
  }

  /**
   * A transaction, refused once the storage is closed (another client on
   * this storage closed it): storage_closed, not a file system error.
   * @template T
   * @param {import('./storage.js').StoreName[] | import('./storage.js').StoreName} stores
   * @param {import('./storage.js').TxMode} mode
   * @param {(tx: import('./storage.js').Tx) => Promise<T>} fn
   * @returns {Promise<T>}
   */
  transaction(stores, mode, fn) {
    if (this.fd < 0) return Promise.reject(new FieldsyncError('storage_closed', { details: { dir: this.dir } }));
    return super.transaction(stores, mode, fn);
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

  /** @internal @param {Map<string, Map<string, any>>} writes */
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
    this.append(journalLine(ops));
    applyWrites(this.data, writes);
    for (const k of removed) fs.rmSync(this.blobPath(k), { force: true });
    // Committed: a fold that fails (a full disk) fails no commit. The
    // journal holds everything; the fold is tried again once it has grown
    // by as much again.
    if (this.journalSize > this.foldAt && this.journalSize > this.stateSize) {
      try {
        this.fold();
        this.foldAt = FOLD_AT;
      } catch (err) {
        this.foldAt = this.journalSize + FOLD_AT;
        console.warn(`FileStorage ${this.dir}: folding the journal into ${STATE} failed, tried again later:`, err);
      }
    }
  }

  /**
   * Appends one line to the journal and makes it durable. If that fails,
   * the journal is cut back to its last whole line, so that the next
   * commit's line does not follow a partial one.
   * @param {Buffer} line
   * @internal
   */
  append(line) {
    try {
      writeAll(this.fd, line);
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
   * Writes what is stored to state.json and empties the journal, at once:
   * the client calls it after dropping a user's data, whose values the
   * journal and the previous state.json still held.
   */
  async compact() {
    if (this.broken) throw new Error(`FileStorage ${this.dir}: ${this.broken.message}; open it again`);
    // Between commits: fold() reads the data as committed; a commit waiting
    // for a blob's bytes appends its line after the fold.
    this.fold();
  }

  /**
   * Writes the whole state to state.json and empties the journal. A kill
   * between the two replays the journal over a state that already has it,
   * which changes nothing (its lines set keys to values, in order).
   * @internal
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
 * A commit's journal line: the checksum of its JSON (16 hex digits of
 * SHA-256), a space, the JSON of its operations, a newline.
 * @param {any[]} ops [store, key, value] (a put) or [store, key] (a delete)
 */
function journalLine(ops) {
  const json = Buffer.from(JSON.stringify(ops, replacer));
  return Buffer.concat([Buffer.from(`${checksum(json)} `), json, Buffer.from('\n')]);
}

/** @param {Uint8Array} b */
function checksum(b) {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

/**
 * A journal line (without its newline) as the writes applyWrites takes,
 * or null if it is not one a commit wrote: its checksum does not match,
 * or an operation names no store.
 * @param {Buffer} line
 * @returns {Map<string, Map<string, any>> | null}
 */
function parseLine(line) {
  if (line.length < 18 || line[16] !== 0x20) return null;
  const json = line.subarray(17);
  if (line.subarray(0, 16).toString('latin1') !== checksum(json)) return null;
  let ops;
  try {
    ops = JSON.parse(json.toString('utf8'), reviver);
  } catch {
    return null;
  }
  if (!Array.isArray(ops)) return null;
  /** @type {Map<string, Map<string, any>>} */
  const writes = new Map();
  for (const op of ops) {
    if (!Array.isArray(op) || !STORES.includes(op[0]) || typeof op[1] !== 'string' || op.length < 2 || op.length > 3) return null;
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
      throw new FieldsyncError('storage_locked', {
        message: `数据目录 ${dir} 正被${pid === process.pid ? '本程序' : `进程 ${pid} `}使用（一个目录只能由一个 FileStorage 打开），请先关闭它`,
        details: { dir, pid },
      });
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
  try {
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      writeAll(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true }); // a full disk keeps no half-written copy
    throw err;
  }
  syncDir(path.dirname(file));
}

/**
 * Writes all of data at fd's position: a write may take fewer bytes than
 * given (a nearly full disk); the rest is written again until the disk
 * takes it or refuses (ENOSPC).
 * @param {number} fd
 * @param {Uint8Array} data
 */
function writeAll(fd, data) {
  for (let off = 0; off < data.length; ) {
    const n = fs.writeSync(fd, data, off, data.length - off);
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    off += n;
  }
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
