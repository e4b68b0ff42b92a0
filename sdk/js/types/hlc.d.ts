/**
 * Compares two strings by the byte order of their UTF-8 encodings (Go's
 * string order), which differs from JavaScript's UTF-16 order for
 * characters outside the BMP.
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
export function compareBytes(a: string, b: string): number;
/** The largest logical counter; past it the wall advances by 1 ms. */
export const MAX_COUNTER: 99999;
/** The node id of the server's own writes. */
export const SERVER_NODE: "~server";
/** A hybrid logical clock timestamp. */
export class HLC {
    /** The zero HLC, which sorts before every other. */
    static get ZERO(): HLC;
    /**
     * Encodes h canonically.
     * @param {{wall: number, counter: number, node: string}} h
     * @returns {string}
     */
    static format(h: {
        wall: number;
        counter: number;
        node: string;
    }): string;
    /**
     * Decodes the canonical form; anything else throws (like ParseHLC).
     * @param {string} s
     * @returns {HLC}
     */
    static parse(s: string): HLC;
    /**
     * Like parse, but returns null for a malformed string.
     * @param {string | null | undefined} s
     * @returns {HLC | null}
     */
    static tryParse(s: string | null | undefined): HLC | null;
    /**
     * Compares two HLCs (objects or canonical strings): -1, 0 or +1.
     * @param {HLC | string} a
     * @param {HLC | string} b
     * @returns {number}
     */
    static compare(a: HLC | string, b: HLC | string): number;
    /**
     * The send rule: a timestamp after last and physical time pt.
     * @param {HLC} last
     * @param {number} pt
     * @param {string} node
     * @returns {HLC}
     */
    static next(last: HLC, pt: number, node: string): HLC;
    /**
     * The receive rule: a timestamp after last, remote and pt.
     * @param {HLC} last
     * @param {number} pt
     * @param {HLC} remote
     * @param {string} node
     * @returns {HLC}
     */
    static observe(last: HLC, pt: number, remote: HLC, node: string): HLC;
    /**
     * @param {number} wall Unix milliseconds
     * @param {number} counter 0 … MAX_COUNTER
     * @param {string} node device id (or "~server")
     */
    constructor(wall?: number, counter?: number, node?: string);
    wall: number;
    counter: number;
    node: string;
    /** @returns {boolean} */
    isZero(): boolean;
    /** @returns {string} the canonical text form ("" for the zero HLC) */
    toString(): string;
    /** @returns {string} */
    toJSON(): string;
}
/**
 * How far (ms) the corrected clock may be from the server's before
 * calibrate changes the offset: the Date header has whole seconds, and an
 * answer takes time to arrive.
 */
export const CALIBRATE_TOLERANCE: 5000;
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
    constructor(node: string, opts?: {
        now?: () => number;
        mono?: () => number;
        last?: HLC | string;
        offset?: number;
    });
    node: string;
    offset: number;
    /** @type {HLC} */
    last: HLC;
    /** @returns {number} the corrected physical time in ms */
    physical(): number;
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
    reopened(deviceAt: number | undefined): void;
    /** @returns {HLC} a timestamp after every one issued or observed */
    now(): HLC;
    /**
     * Merges a remote timestamp into the clock.
     * @param {HLC | string} remote
     * @returns {HLC}
     */
    observe(remote: HLC | string): HLC;
    /** @param {number} ms */
    setOffset(ms: number): void;
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
    calibrate(serverMs: number, deviceMs: number): boolean;
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
    correct(serverHLC: HLC | string): void;
}
