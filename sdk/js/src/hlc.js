// Hybrid logical clock, as syncproto/hlc.go and sync.md §3: the text form
// "WWWWWWWWWWWWWWW-CCCCC-node" orders byte-wise exactly as (wall, counter,
// node), and the empty string is the zero HLC.

/** The largest logical counter; past it the wall advances by 1 ms. */
export const MAX_COUNTER = 99999;

/** The node id of the server's own writes. */
export const SERVER_NODE = '~server';

/** A hybrid logical clock timestamp. */
export class HLC {
  /**
   * @param {number} wall Unix milliseconds
   * @param {number} counter 0 … MAX_COUNTER
   * @param {string} node device id (or "~server")
   */
  constructor(wall = 0, counter = 0, node = '') {
    this.wall = wall;
    this.counter = counter;
    this.node = node;
  }

  /** The zero HLC, which sorts before every other. */
  static get ZERO() {
    return new HLC();
  }

  /** @returns {boolean} */
  isZero() {
    return this.wall === 0 && this.counter === 0 && this.node === '';
  }

  /** @returns {string} the canonical text form ("" for the zero HLC) */
  toString() {
    return HLC.format(this);
  }

  /** @returns {string} */
  toJSON() {
    return this.toString();
  }

  /**
   * Encodes h canonically.
   * @param {{wall: number, counter: number, node: string}} h
   * @returns {string}
   */
  static format(h) {
    if (h.wall === 0 && h.counter === 0 && h.node === '') return '';
    return `${String(h.wall).padStart(15, '0')}-${String(h.counter).padStart(5, '0')}-${h.node}`;
  }

  /**
   * Decodes the canonical form; anything else throws (like ParseHLC).
   * @param {string} s
   * @returns {HLC}
   */
  static parse(s) {
    if (typeof s !== 'string') throw new TypeError('malformed hlc');
    if (s === '') return new HLC();
    if (s.length < 23 || s[15] !== '-' || s[21] !== '-') throw new TypeError('malformed hlc');
    const w = s.slice(0, 15);
    const c = s.slice(16, 21);
    if (!/^[0-9]{15}$/.test(w) || !/^[0-9]{5}$/.test(c)) throw new TypeError('malformed hlc');
    const node = s.slice(22);
    // Go counts bytes: a node is at most 64 bytes of UTF-8.
    if (node === '' || utf8Length(node) > 64 || /[ \t\r\n]/.test(node)) throw new TypeError('malformed hlc');
    return new HLC(Number(w), Number(c), node);
  }

  /**
   * Like parse, but returns null for a malformed string.
   * @param {string | null | undefined} s
   * @returns {HLC | null}
   */
  static tryParse(s) {
    try {
      return HLC.parse(/** @type {string} */ (s));
    } catch {
      return null;
    }
  }

  /**
   * Compares two HLCs (objects or canonical strings): -1, 0 or +1.
   * @param {HLC | string} a
   * @param {HLC | string} b
   * @returns {number}
   */
  static compare(a, b) {
    const x = typeof a === 'string' ? a : HLC.format(a);
    const y = typeof b === 'string' ? b : HLC.format(b);
    return compareBytes(x, y);
  }

  /**
   * The send rule: a timestamp after last and physical time pt.
   * @param {HLC} last
   * @param {number} pt
   * @param {string} node
   * @returns {HLC}
   */
  static next(last, pt, node) {
    return advance(last, pt, new HLC(), node);
  }

  /**
   * The receive rule: a timestamp after last, remote and pt.
   * @param {HLC} last
   * @param {number} pt
   * @param {HLC} remote
   * @param {string} node
   * @returns {HLC}
   */
  static observe(last, pt, remote, node) {
    return advance(last, pt, remote, node);
  }
}

/**
 * @param {HLC} last
 * @param {number} pt
 * @param {HLC} remote
 * @param {string} node
 * @returns {HLC}
 */
function advance(last, pt, remote, node) {
  let wall = Math.max(last.wall, remote.wall, pt);
  let counter = 0;
  if (wall === last.wall && wall === remote.wall) counter = Math.max(last.counter, remote.counter) + 1;
  else if (wall === last.wall) counter = last.counter + 1;
  else if (wall === remote.wall) counter = remote.counter + 1;
  if (counter > MAX_COUNTER) {
    wall += 1;
    counter = 0;
  }
  return new HLC(wall, counter, node);
}

/**
 * Compares two strings by the byte order of their UTF-8 encodings (Go's
 * string order), which differs from JavaScript's UTF-16 order for
 * characters outside the BMP.
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
export function compareBytes(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** @param {string} s */
function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

/**
 * How far (ms) the corrected clock may be from the server's before
 * calibrate changes the offset: the Date header has whole seconds, and an
 * answer takes time to arrive.
 */
export const CALIBRATE_TOLERANCE = 5000;

/**
 * How far (ms) a server's HLC may be ahead of its time by an answer's
 * Date and still be taken for its time by correct(): a Date has whole
 * seconds, read within 2 s of the moment taken for it.
 */
const MAX_HLC_LEAD = 3000;

/**
 * How near (ms) to undoing an offset a jump of the device's clock
 * forward must be to be taken for the clock set right (follow, reopened)
 * rather than for time the monotonic clock did not see (a device asleep):
 * a tenth of the offset, at least CALIBRATE_TOLERANCE. A clock set right
 * by hand is seldom right to the second (a phone two days slow set 30 s
 * or five minutes off, or an hour ahead by a wrong time zone), and a
 * sleep as long as the offset to within a tenth is a coincidence.
 * @param {number} offset
 */
function setRightWithin(offset) {
  return Math.max(CALIBRATE_TOLERANCE, Math.abs(offset) / 10);
}

/**
 * Issues HLCs for one node, with physical time from now() corrected by an
 * offset (learnt from the server's answers: calibrate, and correct after a
 * clock_skew answer, sync.md §7).
 */
export class Clock {
  /**
   * @param {string} node
   * @param {{now?: () => number, mono?: () => number, last?: HLC | string, offset?: number}} [opts]
   *   mono: a clock that only moves forward, whatever the device's clock
   *   does (default performance.now), by which a change of the device's
   *   clock is told from time passing (follow).
   */
  constructor(node, opts = {}) {
    this.node = node;
    /** @internal */
    this.nowFn = opts.now ?? Date.now;
    /** @internal */
    this.monoFn = opts.mono ?? (typeof performance !== 'undefined' ? () => performance.now() : undefined);
    /** @internal @type {{wall: number, mono: number} | undefined} the last reading of both clocks */
    this.seen = undefined;
    /** @internal The device clock's jumps forward left alone since the offset was learnt (follow). */
    this.ahead = 0;
    this.offset = opts.offset ?? 0;
    /** @type {HLC} */
    this.last = typeof opts.last === 'string' ? HLC.parse(opts.last) : (opts.last ?? new HLC());
    /**
     * The server's time by the last answer's Date, and the device time it
     * was read for (calibrate), for correct().
     * @type {{serverMs: number, deviceMs: number} | undefined}
     * @internal
     */
    this.dated = undefined;
  }

  /** @returns {number} the corrected physical time in ms */
  physical() {
    this.follow();
    return Math.floor(this.nowFn() + this.offset);
  }

  /**
   * Keeps the corrected time going on when the device's clock is changed
   * between two answers of the server (network time setting a phone's
   * clock right where there is signal but no data, a user setting it):
   * the device clock's jump, measured against the monotonic clock, is
   * taken off the offset — a jump back always (time does not go back),
   * one forward only when it undoes the offset (within setRightWithin:
   * the clock set right, by hand or not), since a device asleep may
   * stop the monotonic clock while its own goes on. Without it, a phone
   * whose clock was set right offline kept the old correction, and dated
   * its records a year off until it reached the server.
   * @internal
   */
  follow() {
    if (!this.monoFn) return;
    const wall = this.nowFn(), mono = this.monoFn(), s = this.seen;
    this.seen = { wall, mono };
    if (!s) return;
    let jump = wall - s.wall - (mono - s.mono);
    if (jump > CALIBRATE_TOLERANCE && Math.abs(this.offset - jump) > setRightWithin(this.offset)) {
      // Sleep, or a clock set wrong: left alone, and remembered, so that
      // a jump back that undoes it (the clock set right again) is not
      // taken for a clock set back from the right time.
      this.ahead += jump;
      return;
    }
    if (jump < -CALIBRATE_TOLERANCE) {
      const undone = Math.min(-jump, this.ahead);
      this.ahead -= undone;
      jump += undone;
    }
    if (jump < -CALIBRATE_TOLERANCE || jump > CALIBRATE_TOLERANCE) {
      this.offset = Math.abs(this.offset - jump) <= CALIBRATE_TOLERANCE ? 0 : Math.round(this.offset - jump);
    }
  }

  /**
   * Takes the offset kept from an earlier run for what the device clock
   * did while the app was closed, which no monotonic clock saw (follow):
   * deviceAt is the device time the clock was stored at. A clock ahead by
   * the offset and set back since was set right: the offset goes (or,
   * set back past it, what it went beyond stays). A clock behind by the
   * offset that has moved on by about the offset or more (setRightWithin)
   * was set right, or the
   * app was closed that long: the offset goes too — kept, a clock set
   * right would date the work ahead by the whole offset, and the server
   * refuses a start more than a day ahead; taken off when it was still
   * needed, the work is dated behind until the server's next answer
   * learns the offset again (calibrate). A slow clock set back further:
   * time does not go back, the offset grows by the jump.
   * @param {number | undefined} deviceAt
   */
  reopened(deviceAt) {
    if (typeof deviceAt !== 'number' || !Number.isFinite(deviceAt) || Math.abs(this.offset) <= CALIBRATE_TOLERANCE) return;
    const moved = this.nowFn() - deviceAt;
    if (this.offset < 0 && moved < -CALIBRATE_TOLERANCE) {
      this.offset = moved < this.offset - CALIBRATE_TOLERANCE ? Math.round(this.offset - moved) : 0;
    } else if (this.offset > 0 && moved >= this.offset - setRightWithin(this.offset)) {
      this.offset = 0;
    } else if (this.offset > 0 && moved < -CALIBRATE_TOLERANCE) {
      this.offset = Math.round(this.offset - moved);
    }
  }

  /** @returns {HLC} a timestamp after every one issued or observed */
  now() {
    this.last = HLC.next(this.last, this.physical(), this.node);
    return this.last;
  }

  /**
   * Merges a remote timestamp into the clock.
   * @param {HLC | string} remote
   * @returns {HLC}
   */
  observe(remote) {
    const r = typeof remote === 'string' ? HLC.tryParse(remote) : remote;
    if (!r) return this.last; // malformed server HLCs are ignored (sync.md §3)
    this.last = HLC.observe(this.last, this.physical(), r, this.node);
    return this.last;
  }

  /** @param {number} ms */
  setOffset(ms) {
    this.offset = ms;
    this.rebase();
  }

  /**
   * Takes the device clock as it reads now for the offset just learnt:
   * a jump made before is in the offset already, not to be taken off
   * again (follow).
   * @internal
   */
  rebase() {
    this.seen = this.monoFn ? { wall: this.nowFn(), mono: this.monoFn() } : undefined;
    this.ahead = 0;
  }

  /**
   * Learns the device clock's error from the server's physical time
   * serverMs (an answer's Date header), read when the device clock said
   * deviceMs: the offset becomes the difference once the corrected clock
   * is more than CALIBRATE_TOLERANCE off — in either direction, so a
   * phone whose clock is slow, or was fixed after a correction, is
   * followed too — and 0 when the device clock itself is within it.
   * Returns whether the offset changed.
   * @param {number} serverMs
   * @param {number} deviceMs
   * @returns {boolean}
   */
  calibrate(serverMs, deviceMs) {
    if (Number.isFinite(serverMs) && Number.isFinite(deviceMs)) this.dated = { serverMs, deviceMs };
    const d = serverMs - deviceMs;
    if (!Number.isFinite(d)) return false;
    this.rebase();
    if (Math.abs(d - this.offset) <= CALIBRATE_TOLERANCE) return false;
    this.offset = Math.abs(d) <= CALIBRATE_TOLERANCE ? 0 : Math.round(d);
    return true;
  }

  /**
   * Corrects the clock from a server HLC after clock_skew: physical time
   * is offset to the server's, last restarts from it
   * (syncproto.Client.CorrectClock). The server's physical time is its
   * HLC's unless the last answer's Date (calibrate, within the last
   * minute) puts it more than MAX_HLC_LEAD behind: a server's HLC can run
   * ahead of its time (it never goes back; a host clock may be set back),
   * and a phone that took it for the time would stamp past it and be
   * refused again, and date its records wrong. Its stamps then follow the
   * observed HLC, which the server takes.
   * @param {HLC | string} serverHLC
   */
  correct(serverHLC) {
    const h = typeof serverHLC === 'string' ? HLC.parse(serverHLC) : serverHLC;
    const device = this.nowFn();
    const d = this.dated;
    this.offset = h.wall - Math.floor(device);
    if (d && device - d.deviceMs >= 0 && device - d.deviceMs < 60000 && h.wall - d.serverMs > MAX_HLC_LEAD) {
      this.offset = Math.round(d.serverMs - d.deviceMs);
    }
    this.rebase();
    this.last = new HLC();
    this.observe(h);
  }
}
