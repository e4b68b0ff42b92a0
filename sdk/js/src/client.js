// FieldsyncClient: sync.md on the client side (API.md is its contract).

import { FieldsyncError } from './errors.js';
import { Clock, HLC, SERVER_NODE } from './hlc.js';
import { requestBytes, requestJSON } from './http.js';
import { canonicalJSON, expandChange, expandCompactPage, mergeChange } from './merge.js';
import { uuidv7 } from './uuid.js';
import { bytesOf, checkUploadRuntime, sha256Hex, uploadAll } from './upload.js';
import { currentKey, registerAgain, registerCaptureKeys, signCapture } from './capture.js';
import { keysOf } from './storage/storage.js';
import { hiddenIn } from './text.js';

/**
 * @typedef {import('./storage/storage.js').Storage} Storage
 * @typedef {import('./storage/storage.js').Tx} Tx
 * @typedef {{id: string, username: string, display_name: string, role: string, counties: string[], device_id?: string}} User
 * @typedef {{access: string, refresh: string, user: User | null, gen: number}} Auth
 * @typedef {{entity: string, id: string, county: string, fields: Record<string, any>,
 *   hlcs: Record<string, string>, deleted: boolean, pending: string[]}} Rec
 * @typedef {{entity: string, id: string, county: string,
 *   fields: Record<string, {value: any, hlc: string}>, deleted: string, gone: boolean,
 *   pending: Record<string, string>, base?: Record<string, {value: any, hlc: string}>,
 *   baseDeleted?: string, own?: Record<string, {value: any, hlc: string}>}} StoredRecord
 *   fields: what the phone shows (the server's state merged with local edits);
 *   base: the server's state as this phone last learnt it, per field (from
 *   pulls and applied pushes), so that a refused edit can be taken back;
 *   baseDeleted: the server's tombstone HLC, if any. A record stored by an
 *   SDK older than base has none until its next pull;
 *   own: per field, this device's latest value that another's newer write
 *   replaced (keptOwn): a server restored from a backup made before both
 *   holds neither, and the device sends its own again (afterResync).
 * @typedef {{seq: number, entity: string, id: string, hlc: string,
 *   fields?: Record<string, any>, delete?: boolean, seen?: Record<string, string>}} OutboxEntry
 *   seen: per field, the HLC of the server's value the phone showed when
 *   the change was made (sync.md §5.1), sent with it
 * @typedef {{entity: string, id: string, code: string, message: string, field?: string}} Rejected
 * @typedef {{entity: string, id: string, state: 'deleted' | 'rejected' | 'missing'}} MissingParent
 *   unknown_reference: the record referred to, and what the phone knows of it
 * @typedef {Rejected & {key: string, hlc: string, fields?: Record<string, any>, delete?: boolean, at: number,
 *   parent?: MissingParent}} RejectedEntry
 * @typedef {{key: string, entity: string, id: string, field: string, value: any,
 *   hlc: string, by: string | null, code: string, at: number}} Superseded
 * @typedef {{pushed: number, pulled: number, uploaded: number, uploadedBytes: number,
 *   rejected: Rejected[], superseded: Superseded[]}} SyncCounts
 *   what a sync did, whether it ended well or not
 * @typedef {(SyncCounts & {ok: true, error: null}) | (SyncCounts & {ok: false, error: FieldsyncError})} SyncResult
 *   a sync's answer: ok, or its error (narrowed by ok: `if (!r.ok) r.error.code`)
 * @typedef {SyncCounts & {ok: boolean, error: FieldsyncError | null}} SyncTally
 *   a SyncResult while its sync runs
 * @typedef {{phase: 'push'|'pull'|'upload', done: number, total: number,
 *   bytesDone: number, bytesTotal: number}} Progress
 * @typedef {{change: {entity: string, id: string}, sync: Status, auth: {signedIn: boolean}}} Events
 * @typedef {{pendingChanges: number, pendingRecords: number, pendingPhotos: number, failedPhotos: number, pendingBytes: number, rejectedChanges: number,
 *   lastSync: {at: number, ok: boolean, okAt: number | null, error: {code: string, message: string, details?: any} | null} | null,
 *   syncing: boolean}} Status
 */

const PATH = {
  login: '/api/v1/auth/login',
  refresh: '/api/v1/auth/refresh',
  logout: '/api/v1/auth/logout',
  password: '/api/v1/auth/password',
  me: '/api/v1/me',
  pull: '/api/v1/sync/pull',
  push: '/api/v1/sync/push',
};

/** The events on() takes. */
const EVENTS = ['change', 'sync', 'auth'];
/** Entities a device writes; the others it only reads (READ_ONLY), and any other name is none (unknown_entity). */
const WRITABLE = new Set(['site', 'inspection', 'finding', 'vehicle_check', 'photo']);
/** Entities a device may not write (read_only_entity). */
const READ_ONLY = new Set(['county', 'checklist_template', 'rectification_task', 'task_progress', 'review']);
/** Entities a device may not delete (not_deletable). */
const NOT_DELETABLE = new Set(['photo', 'vehicle_check', 'site']);
/**
 * Per deletable entity, the server-owned field an office's act sets, after
 * which the record is evidence of it and not deleted either (not_deletable):
 * an inspection reviewed (returned) is corrected and submitted again.
 */
const KEPT_ONCE = { inspection: 'reviewed_at' };
/** Server-owned fields by entity (sync.md §13); created_by and received_at everywhere. */
const SERVER_OWNED = {
  site: ['lon_wgs84', 'lat_wgs84'],
  inspection: ['reviewer_id', 'review_comment', 'reviewed_at', 'missing_items', 'unknown_answers', 'failed_items'],
  finding: ['verifier_id', 'verify_comment', 'verified_at', 'rectified_at', 'rectified_by', 'rectified_received_at'],
  vehicle_check: ['voided_at', 'voided_by', 'void_reason'],
  photo: ['uploaded', 'flags', 'notes', 'exif', 'lon_wgs84', 'lat_wgs84', 'site_id', 'phash', 'width', 'height', 'processed_at', 'capture'],
};
/** The fields a record's creation must carry, by writable entity (the server refuses a create without one). */
const REQUIRED = {
  site: ['county', 'kind', 'name'],
  inspection: ['site_id', 'template_id', 'template_version'],
  finding: ['inspection_id', 'description'],
  vehicle_check: ['county', 'checkpoint', 'plate', 'checked_at'],
  photo: ['sha256'],
};
/**
 * The rules above, for the test that checks them against the server's
 * entity catalogue (sdk_test.go TestEntityRulesMatchServer).
 */
export const ENTITY_RULES = { writable: [...WRITABLE], readOnly: [...READ_ONLY], notDeletable: [...NOT_DELETABLE], keptOnce: KEPT_ONCE, serverOwned: SERVER_OWNED, required: REQUIRED };
/** Push-result codes after which a mutation leaves the outbox for the failed list. */
const KEEP_CODES = new Set(['clock_skew', 'unknown_reference']);
/** Upload errors that end a job until the user decides (sync.md §10.4). */
export const PERMANENT_UPLOAD_CODES = new Set(['hash_mismatch', 'bad_image', 'body_too_large', 'invalid_upload', 'unsupported_media_type']);

/** How often a request refused with 503 server_busy is sent, in one sync. */
const BUSY_ATTEMPTS = 5;
/**
 * Answers after which a request is sent again unchanged, in the same sync:
 * the server did nothing with it (sync.md §11).
 */
const AGAIN_CODES = new Set(['server_busy', 'request_timeout']);
/** The longest wait (s) between two tries of a request the server was too busy for. */
const MAX_RETRY_AFTER = 30;
/** Answers that say the session is over: sign in again. */
const ENDED = new Set(['token_invalid', 'unauthorized']);

const BATCH_MAX = 500;
const PAGE_LIMIT = 500;
/** The largest pull page the server gives (sync.md §8.1). */
const MAX_PAGE_LIMIT = 5000;
/** Bytes per tus PATCH by default (chunkSize). */
const CHUNK_SIZE = 1 << 20;

/**
 * @typedef {{type: 'string' | 'object' | 'function'} | {type: 'number', min: number, max?: number,
 *   integer?: boolean, infinity?: boolean, is: string}} OptionSpec
 *   an option of FieldsyncClient.open: its kind, and for a number its
 *   range (is: what it must be, for the error)
 */

/**
 * Every option FieldsyncClient.open takes (API.md), and what its value
 * must be. One table for all: an option added to open is added here, or
 * open refuses it as unknown.
 * @type {Record<string, OptionSpec>}
 */
const OPTIONS = {
  baseURL: { type: 'string' },
  storage: { type: 'object' },
  deviceName: { type: 'string' },
  fetch: { type: 'function' },
  now: { type: 'function' },
  sleep: { type: 'function' },
  chunkSize: { type: 'number', min: 1, integer: true, is: 'a whole number of bytes, 1 or more (default 1048576)' },
  pageLimit: { type: 'number', min: 1, max: MAX_PAGE_LIMIT, integer: true, is: `an integer from 1 to ${MAX_PAGE_LIMIT}` },
  keepOriginalsFor: { type: 'number', min: 0, infinity: true, is: 'a number of ms, 0 or more (Infinity: never purge)' },
  requestTimeout: { type: 'number', min: 0, infinity: true, is: 'a number of ms, 0 (no limit) or more' },
};

/**
 * checkOptions refuses a mistake in the program's own call to
 * FieldsyncClient.open (API.md: TypeError or RangeError, never a
 * FieldsyncError, which would read as the network's or the user's fault
 * and be retried for ever): an option of no name (with the name meant,
 * when it is a case or spelling variant: baseUrl), a value of the wrong
 * kind (TypeError), a number out of its range (RangeError), and a
 * baseURL that gives no http(s) address — none given where there is no
 * page origin to default to (Node, React Native). undefined and null take
 * the default. Returns the options with null as undefined.
 * @param {Record<string, any>} opts
 * @returns {Record<string, any>}
 */
function checkOptions(opts) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const [name, value] of Object.entries(opts)) {
    const spec = Object.prototype.hasOwnProperty.call(OPTIONS, name) ? OPTIONS[name] : undefined;
    if (!spec) {
      const meant = nearestName(name, Object.keys(OPTIONS));
      throw new TypeError(`FieldsyncClient.open: no option ${JSON.stringify(name)}${meant ? ` (did you mean ${JSON.stringify(meant)}?)` : ''}; the options are ${Object.keys(OPTIONS).join(', ')}`);
    }
    if (value === undefined || value === null) continue;
    const kind = typeof value;
    if (spec.type !== 'number') {
      if (kind !== spec.type) throw new TypeError(`FieldsyncClient.open: ${name} must be a ${spec.type}, not ${describe(value)}`);
    } else {
      if (kind !== 'number') throw new TypeError(`FieldsyncClient.open: ${name} must be ${spec.is}, not ${describe(value)}`);
      const finite = Number.isFinite(value) || (spec.infinity && value === Infinity);
      if (!finite || value < spec.min || (spec.max !== undefined && value > spec.max) || (spec.integer && !Number.isInteger(value))) {
        throw new RangeError(`FieldsyncClient.open: ${name} must be ${spec.is}, not ${value}`);
      }
    }
    out[name] = value;
  }
  const origin = pageOrigin();
  /** @type {URL | null} */
  let url = null;
  try {
    url = new URL(out.baseURL ?? '', origin ?? undefined);
  } catch {
    url = null;
  }
  if (!url || !/^https?:$/.test(url.protocol)) {
    throw new TypeError(out.baseURL === undefined
      ? "FieldsyncClient.open: baseURL is required here — there is no page origin to default to — the server's address, such as 'http://127.0.0.1:8080'"
      : `FieldsyncClient.open: baseURL ${JSON.stringify(out.baseURL)} is no http(s) address${origin ? '' : ' (and there is no page origin to resolve it against)'}; such as 'http://127.0.0.1:8080'`);
  }
  return out;
}

/** The origin of the page the SDK runs in (http or https), or null (Node, React Native, a file:// page). */
function pageOrigin() {
  const loc = /** @type {any} */ (globalThis).location;
  return loc && typeof loc.origin === 'string' && /^https?:$/.test(loc.protocol) ? loc.origin : null;
}

/** A value as an error names it: 'a string "1MB"', 'a boolean true'. @param {unknown} v */
function describe(v) {
  return `${Array.isArray(v) ? 'an array' : `a ${typeof v}`} ${typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' || typeof v === 'function' ? '' : String(v)}`.trim();
}

/**
 * The name among names that name is a variant of — the same but for
 * letter case, or two edits away at most — or ''.
 * @param {string} name
 * @param {string[]} names
 */
function nearestName(name, names) {
  const lower = name.toLowerCase();
  const same = names.find((n) => n.toLowerCase() === lower);
  if (same) return same;
  let best = '', dist = 3;
  for (const n of names) {
    const d = editDistance(lower, n.toLowerCase());
    if (d < dist) [best, dist] = [n, d];
  }
  return best;
}

/** Levenshtein distance. @param {string} a @param {string} b */
function editDistance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** What a sign-in without a network says (the first sign-in needs one). */
const SIGN_IN_OFFLINE = '连不上服务器，无法登录：请确认手机已联网，或稍后再试';

/**
 * What a sign-in's network failure is said to be: an answer that was
 * not the server's (a Wi-Fi's sign-in page, details.status), no answer
 * in time (details.timeout), or no connection (SDK probe: all three were
 * 连不上服务器, where a sync said which).
 * @param {FieldsyncError} err a network error
 */
function signInNetworkMessage(err) {
  if (err.details?.status !== undefined) return '收到的回应不是服务器发来的（网络可能需要先登录，如酒店或公共 Wi-Fi），无法登录：请先完成网络登录，或换一个网络再试';
  if (err.details?.timeout !== undefined) return '服务器没有及时回应，无法登录：网络可能很慢，请稍后再试';
  return SIGN_IN_OFFLINE;
}
/**
 * The turns of clients without Web Locks, by storage and purpose
 * (FieldsyncClient.exclusive).
 * @type {WeakMap<object, Map<string, Promise<unknown>>>}
 */
const localTurns = new WeakMap();
/**
 * How long (ms) one request may take, its answer read, by default: a push
 * of 500 records over a slow 2G link takes well under it; a connection
 * stalled longer is given up (network) and the next sync tries again.
 */
const REQUEST_TIMEOUT = 60e3;
/** How long an uploaded photo's original stays on the phone by default: 7 days. */
const KEEP_ORIGINALS = 7 * 24 * 3600 * 1000;
/** The blobs key prefix of a photo's thumbnail (photoImage). */
const THUMB = 'thumb:';

/** @param {string} entity @param {string} id */
const recKey = (entity, id) => `${entity}/${id}`;
/** @param {number} seq */
const seqKey = (seq) => String(seq).padStart(12, '0');

/** The photo formats the server takes (photo.content_type, sync.md §10). */
export const PHOTO_CONTENT_TYPES = Object.freeze(['image/jpeg', 'image/png', 'image/heic']);

/**
 * withOkAt gives a stored last sync its okAt, which a version of the SDK
 * before it did not keep: the sync's own time if it succeeded.
 * @param {any} last
 * @returns {Status['lastSync']}
 */
function withOkAt(last) {
  if (!last) return null;
  return 'okAt' in last ? last : { ...last, okAt: last.ok ? last.at : null };
}

/**
 * The clock of a device as stored (meta "clock"), its offset taken for
 * what the device clock did while the app was closed (Clock.reopened).
 * @param {string} deviceId
 * @param {() => number} now
 * @param {{last?: string, offset?: number, device?: number} | undefined} stored
 */
function reopenedClock(deviceId, now, stored) {
  const c = new Clock(deviceId, { now, last: stored?.last ?? '', offset: stored?.offset ?? 0 });
  c.reopened(stored?.device);
  return c;
}

/**
 * The error of one mutation larger than any request the server takes
 * (body_too_large), naming what to shorten: each field that makes a
 * tenth or more of it (at most three; err.field the largest), or, when
 * none does, that it has too many fields.
 * @param {any} m the mutation as sent
 * @param {FieldsyncError} err the server's answer
 * @returns {FieldsyncError}
 */
function tooLarge(m, err) {
  /** @type {Array<[string, number]>} */
  const sizes = Object.entries(m?.fields ?? {}).map(([name, v]) => [name, new TextEncoder().encode(JSON.stringify(v) ?? '').byteLength]);
  if (sizes.length === 0) return err;
  sizes.sort((a, b) => b[1] - a[1]);
  const total = sizes.reduce((n, [, b]) => n + b, 0);
  const what = /** @type {Record<string, string>} */ (ENTITY_NAMES)[m.entity] ?? m.entity;
  // The fields that make most of it, each a tenth or more: the ones to
  // shorten, all of them (one named, shortened, and the next refused).
  const big = sizes.filter(([, b]) => b * 10 >= total).slice(0, 3);
  const message = big.length
    ? `${what}的 ${big.map(([name, b]) => `${name}（约 ${sizeText(b)}）`).join('、')} 内容过大，超过服务器一次能接收的大小，无法上传；修改已保留在手机上（被拒绝的修改中），请删减后重新保存`
    : `${what}的内容过多（${sizes.length} 个字段共约 ${sizeText(total)}），超过服务器一次能接收的大小，无法上传；修改已保留在手机上（被拒绝的修改中），请删减后重新保存`;
  return new FieldsyncError(err.code, {
    status: err.status, requestId: err.requestId, details: err.details, field: big.length ? `mutations[0].fields.${big[0][0]}` : '', message,
  });
}

/**
 * A size in the unit people read: 18.0 MiB, 900 KiB.
 * @param {number} n bytes
 * @returns {string}
 */
function sizeText(n) {
  return n >= 1 << 20 ? `${(n / 1048576).toFixed(1)} MiB` : `${Math.max(1, Math.round(n / 1024))} KiB`;
}

/**
 * Keeps superseded entry s as the user's one lost value of its field: the
 * latest they made. An entry of the same field made earlier (a value they
 * replaced themselves before both lost: typed, then corrected) goes, and
 * s is not kept when a later one is there — one loss listed, not the same
 * field twice (clock probe: 被覆盖的修改 named one answer twice).
 * @param {Tx} tx
 * @param {Superseded} s
 * @param {SyncTally} [res] this sync's tally, whose list follows
 * @returns {Promise<void>}
 */
async function keepSuperseded(tx, s, res) {
  const prefix = `${s.entity}/${s.id}/${s.field}/`;
  for (const [k, o] of /** @type {Array<[string, Superseded]>} */ (await tx.all('superseded'))) {
    if (!k.startsWith(prefix) || k === s.key) continue;
    if (HLC.compare(o.hlc, s.hlc) > 0) return;
    await tx.delete('superseded', k);
    if (res) res.superseded = res.superseded.filter((x) => x.key !== k);
  }
  await tx.put('superseded', s.key, s);
  if (res) res.superseded.push(s);
}

/** A device's connection to fieldsync, with its local data in a Storage. */
export class FieldsyncClient {
  /**
   * @param {{baseURL: string, storage: Storage, deviceName: string, fetch: typeof fetch,
   *   now: () => number, deviceId: string, auth: any, clock: Clock, lastSync: any, chunkSize: number,
   *   pageLimit: number, keepOriginalsFor: number, requestTimeout: number, sleep: (ms: number) => Promise<void>}} o
   * @private open() makes a client: it reads what the storage holds first.
   */
  constructor(o) {
    /** @internal */
    this.baseURL = o.baseURL.replace(/\/+$/, '');
    /** @internal The storage as opened: clients of one process on it take turns (exclusive). */
    this.shared = o.storage;
    /** @internal The storage, its transactions checked to be of this client's device (owned). */
    this.storage = owned(o.storage, () => this.deviceId);
    /** @internal */
    this.deviceName = o.deviceName;
    /** @internal */
    this.fetchFn = o.fetch;
    /** @internal ms a request may take before it is given up as network (0: no limit). */
    this.requestTimeout = o.requestTimeout;
    /** @internal */
    this.nowFn = o.now;
    /** @internal */
    this.sleepFn = o.sleep;
    /** The device id (UUIDv7, made once per storage). */
    this.deviceId = o.deviceId;
    /** @internal @type {{access: string, refresh: string, user: User | null, gen: number}} */
    this.auth = o.auth ?? { access: '', refresh: '', user: null, gen: 0 };
    /** @internal */
    this.clock = o.clock;
    /** @internal Bytes per tus PATCH. */
    this.chunkSize = o.chunkSize;
    /** @internal Records per pull page. */
    this.pageLimit = o.pageLimit;
    /** @internal How long (ms) an uploaded photo's original stays on the phone (purgeOriginals). */
    this.keepOriginalsFor = o.keepOriginalsFor;
    /** @internal Changes a pull from the start put back into the outbox (afterResync), to push before the sync ends. */
    this.requeued = 0;
    /** @internal The outbox as refreshStatus last read it (seeOutbox). @type {OutboxSeen} */
    this.outboxSeen = emptyOutboxSeen();
    /** @internal The counts status() answers, as refreshStatus last read them. @type {Status} */
    this.cached = { pendingChanges: 0, pendingRecords: 0, pendingPhotos: 0, failedPhotos: 0, pendingBytes: 0, rejectedChanges: 0, lastSync: withOkAt(o.lastSync), syncing: false };
    /** @internal @type {Map<string, Set<Function>>} */
    this.listeners = new Map();
    /** @internal @type {Promise<SyncResult> | null} */
    this.running = null;
    /**
     * @internal The sync asked for while one ran, to start when it ends,
     * and the onProgress of every call that asked for it.
     * @type {{promise: Promise<SyncResult>, fns: Array<(p: Progress) => void>} | null}
     */
    this.next = null;
    /**
     * The pull form asked for: compact (sync.md §8.4), or grouped once a
     * server older than the compact form has refused it.
     * @type {'compact' | 'grouped'}
     * @internal
     */
    this.pullForm = 'compact';
    /** @internal @type {Promise<void> | null} */
    this.refreshing = null;
    /** @internal @type {Promise<any> | null} the capture key being loaded or made (capture.js) */
    this.keying = null;
  }

  /**
   * Opens the client over storage, making the device id the first time.
   * @param {{baseURL?: string, storage: Storage, deviceName?: string, fetch?: typeof fetch,
   *   now?: () => number, chunkSize?: number, pageLimit?: number, keepOriginalsFor?: number,
   *   requestTimeout?: number, sleep?: (ms: number) => Promise<void>}} opts
   * @returns {Promise<FieldsyncClient>}
   */
  static async open(opts) {
    if (!opts || typeof opts.storage?.transaction !== 'function') {
      throw new TypeError('FieldsyncClient.open: opts.storage must be a Storage (IndexedDBStorage, FileStorage, MemoryStorage or your own)');
    }
    checkUploadRuntime();
    const o = checkOptions(opts);
    const now = o.now ?? Date.now;
    const pageLimit = o.pageLimit ?? PAGE_LIMIT;
    const keepOriginalsFor = o.keepOriginalsFor ?? KEEP_ORIGINALS;
    const requestTimeout = o.requestTimeout ?? REQUEST_TIMEOUT;
    const { deviceId, auth, clock, lastSync } = await opts.storage.transaction('meta', 'readwrite', async (tx) => {
      let device = await tx.get('meta', 'device');
      if (!device) {
        device = { id: uuidv7(now()) };
        await tx.put('meta', 'device', device);
      }
      return {
        deviceId: /** @type {string} */ (device.id),
        auth: await tx.get('meta', 'auth'),
        clock: await tx.get('meta', 'clock'),
        lastSync: await tx.get('meta', 'lastSync'),
      };
    });
    const c = new FieldsyncClient({
      baseURL: o.baseURL ?? '',
      storage: opts.storage,
      deviceName: o.deviceName ?? '',
      fetch: o.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      now,
      deviceId,
      auth,
      clock: reopenedClock(deviceId, now, clock),
      lastSync,
      chunkSize: o.chunkSize ?? CHUNK_SIZE,
      pageLimit,
      keepOriginalsFor,
      requestTimeout,
      sleep: o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    });
    await c.refreshStatus();
    return c;
  }

  /** @returns {User | null} the signed-in user (kept while offline) */
  get user() {
    return this.auth.user;
  }

  /** @returns {boolean} whether a refresh token is held */
  get signedIn() {
    return !!this.auth.refresh;
  }

  /**
   * The time now, in Unix milliseconds, by the server's clock as far as
   * the device knows it: the device's clock (the `now` option, default
   * Date.now) plus the offset learnt from the server's answers — the
   * Date header of every answer (sign-in included) once the device clock
   * is more than 5 s off, fast or slow, and a clock_skew answer (sync.md
   * §7) — kept in the storage across restarts. Apps stamp
   * the times inside records (`started_at`, `captured_at`, `checked_at`,
   * deadlines …) with it, as sync.md §7 asks. Synchronous; never touches
   * the network.
   * @returns {number}
   */
  now() {
    return this.clock.physical();
  }

  // ---- events -------------------------------------------------------------

  /**
   * Subscribes to an event: "change" ({entity, id}), "sync" (the status),
   * "auth" ({signedIn}). Returns the unsubscribe function.
   * @template {keyof Events} K
   * @param {K} event
   * @param {(arg: Events[K]) => void} cb
   * @returns {() => void}
   */
  on(event, cb) {
    // A misspelt event would never fire: said at once.
    if (!EVENTS.includes(event)) throw new TypeError(`fieldsync: no event ${JSON.stringify(event)} (${EVENTS.join(', ')})`);
    if (typeof cb !== 'function') throw new TypeError('fieldsync: on() wants a function');
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)?.add(cb);
    return () => this.listeners.get(event)?.delete(cb);
  }

  /** @internal @param {string} event @param {any} arg */
  emit(event, arg) {
    for (const cb of this.listeners.get(event) ?? []) {
      try {
        cb(arg);
      } catch (err) {
        console.error(`fieldsync: ${event} listener:`, err);
      }
    }
  }

  // ---- HTTP and tokens ------------------------------------------------------

  /** @internal @returns {import('./http.js').Transport} */
  get transport() {
    return {
      baseURL: this.baseURL,
      fetch: this.fetchFn,
      observe: (h) => this.clock.observe(h),
      now: this.nowFn,
      calibrate: (serverMs, deviceMs) => this.clock.calibrate(serverMs, deviceMs),
      timeout: this.requestTimeout,
    };
  }

  /**
   * An authenticated request, refreshing the access token once if it expired.
   * @param {string} method
   * @param {string} path
   * @param {any} [body]
   * @internal
   */
  async api(method, path, body) {
    return this.authed((token) => requestJSON(this.transport, method, path, { body, token }));
  }

  /**
   * Sends a request with the access token, refreshing it once if it
   * expired and sending the request again with the new one.
   * @template T
   * @param {(token: string) => Promise<T>} send
   * @returns {Promise<T>}
   * @internal
   */
  async authed(send) {
    if (!this.signedIn) throw new FieldsyncError('signed_out');
    const sent = this.auth.access;
    try {
      return await send(sent);
    } catch (err) {
      // Refused as ended: another tab may have signed in again meanwhile
      // (dropTokens), whose pair is sent once.
      if (err instanceof FieldsyncError && ENDED.has(err.code)) {
        const newer = this.auth.access !== sent ? this.signedIn : await this.dropTokens();
        if (!newer) throw err;
        return await send(this.auth.access).catch((e) => {
          throw this.authFailed(e);
        });
      }
      if (!(err instanceof FieldsyncError) || err.code !== 'token_expired') throw this.authFailed(err);
      await this.refreshAfter(sent);
      return await send(this.auth.access).catch((e) => {
        throw this.authFailed(e);
      });
    }
  }

  /**
   * An api() call sent again, unchanged, while the server answers 503
   * server_busy (it is serving as many pushes or pulls as it takes and did
   * nothing with this one) or 408 request_timeout (the body arrived too
   * slowly, and nothing of it was done): each time after Retry-After
   * seconds, at least one, and up to a second of jitter. A push so sent
   * keeps its batch_id, a pull its cursor. After BUSY_ATTEMPTS the error
   * ends the sync, still temporary; the pending batch is sent again by the
   * next sync.
   * @param {string} method
   * @param {string} path
   * @param {any} [body]
   * @internal
   */
  async patient(method, path, body) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.api(method, path, body);
      } catch (err) {
        if (!(err instanceof FieldsyncError) || !AGAIN_CODES.has(err.code) || attempt >= BUSY_ATTEMPTS) throw err;
        // At most MAX_RETRY_AFTER: a proxy's Retry-After of an hour would
        // hold the sync, and a sign-out waiting for it, as long.
        const secs = Math.min(MAX_RETRY_AFTER, Math.max(1, Number(err.details?.retryAfter) || 1));
        await this.sleepFn(secs * 1000 + Math.floor(Math.random() * 1000));
      }
    }
  }

  /**
   * Ends the local session on an answer that says it is over.
   * @param {unknown} err
   * @internal
   */
  authFailed(err) {
    if (err instanceof FieldsyncError && ENDED.has(err.code)) {
      void this.dropTokens();
    }
    return err;
  }

  /**
   * Refreshes unless another request already did since stale was sent.
   * Refreshes run one at a time (a spent refresh token presented twice
   * ends the session, sync.md §2).
   * @param {string} stale
   * @internal
   */
  async refreshAfter(stale) {
    while (this.refreshing) await this.refreshing.catch(() => {});
    if (this.auth.access !== stale) return;
    this.refreshing = this.exclusive('refresh', async () => {
      // Another tab on this storage may have refreshed while this one
      // waited: its pair is stored, and this tab's refresh token is spent
      // (presented again, it would end the session).
      /** @type {typeof this.auth | undefined} */
      const stored = await this.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'auth'));
      if (stored?.access && stored.access !== stale && stored.refresh && stored.refresh !== this.auth.refresh) {
        this.auth = { ...stored, gen: this.auth.gen };
        return;
      }
      await this.refresh();
    });
    try {
      await this.refreshing;
    } finally {
      this.refreshing = null;
    }
  }

  /** @internal */
  async refresh() {
    const gen = this.auth.gen;
    let tr;
    try {
      tr = await requestJSON(this.transport, 'POST', PATH.refresh, { body: { refresh_token: this.auth.refresh } });
    } catch (err) {
      if (!(err instanceof FieldsyncError)) throw err;
      // A request that never left the phone spent nothing: the session
      // stays, and the next sync refreshes.
      if (err.code === 'network' && neverSent(err)) throw err;
      // A lost answer may have spent the token: never send it again.
      if (err.code === 'network' || ['token_invalid', 'token_expired', 'unauthorized'].includes(err.code)) {
        if (this.auth.gen === gen) await this.dropTokens();
        throw err.code === 'network' ? new FieldsyncError('session_lost', { cause: err }) : err;
      }
      throw err;
    }
    // A sign-out or sign-in since the refresh began made a new session
    // generation: this pair belongs to the old one.
    if (this.auth.gen !== gen) return;
    await this.setAuth({ access: tr.access_token, refresh: tr.refresh_token, user: tr.user ?? this.auth.user, gen });
  }

  /**
   * Runs fn holding this storage's cross-tab lock named what (Web Locks):
   * tabs of one app that share an IndexedDB database refresh the tokens,
   * and sync, one at a time — two refreshes of one token end the session,
   * and two syncs send the same batches and photos at once. Without Web
   * Locks, or with a storage no other tab opens, fn runs at once.
   * @template T
   * @param {string} what
   * @param {() => Promise<T>} fn
   * @returns {Promise<T>}
   * @internal
   */
  async exclusive(what, fn) {
    const locks = /** @type {any} */ (globalThis).navigator?.locks;
    const name = /** @type {{name?: string}} */ (this.shared).name;
    if (locks && typeof locks.request === 'function' && name) return locks.request(`fieldsync:${name}:${what}`, fn);
    // Without Web Locks (Node, React Native): clients of this process on
    // the same storage object take turns. (Another process cannot share a
    // FileStorage: its directory is locked.)
    let turns = localTurns.get(this.shared);
    if (!turns) localTurns.set(this.shared, (turns = new Map()));
    const run = (turns.get(what) ?? Promise.resolve()).then(fn);
    turns.set(what, run.catch(() => {}));
    return run;
  }

  /**
   * Persists the tokens (before they are used), then installs them. With
   * ending, the session they replace is owed to the server's logout in the
   * same transaction (settleSessions).
   * @param {typeof this.auth} auth
   * @param {{access: string, refresh: string}} [ending]
   * @internal
   */
  async setAuth(auth, ending) {
    await this.storage.transaction('meta', 'readwrite', async (tx) => {
      await tx.put('meta', 'auth', auth);
      if (ending) await oweSession(tx, ending);
    });
    const was = this.signedIn;
    this.auth = auth;
    if (was !== this.signedIn) this.emit('auth', { signedIn: this.signedIn });
  }

  /**
   * Ends the local session the server said is over — unless another tab
   * on this storage signed in or refreshed since this one read its
   * tokens: then the server's refusal was of this tab's old pair, and this
   * one takes the stored pair instead of wiping it (true).
   * @returns {Promise<boolean>} whether a newer stored pair was taken
   * @internal
   */
  async dropTokens() {
    const dead = this.auth.refresh;
    /** @type {typeof this.auth | undefined} */
    const newer = await this.storage.transaction('meta', 'readwrite', async (tx) => {
      const stored = await tx.get('meta', 'auth');
      if (stored?.access && stored.refresh && stored.refresh !== dead) return stored;
      await tx.put('meta', 'auth', { access: '', refresh: '', user: this.auth.user, gen: this.auth.gen + 1 });
      return undefined;
    });
    const was = this.signedIn;
    this.auth = newer ? { ...newer, gen: this.auth.gen + 1 } : { access: '', refresh: '', user: this.auth.user, gen: this.auth.gen + 1 };
    if (was !== this.signedIn) this.emit('auth', { signedIn: this.signedIn });
    return !!newer;
  }

  /**
   * Takes the session another client of this storage (another tab of the
   * app) signed in with after this one's ended: the same user, on the same
   * device id. An app calls it when a tab comes back into view; sync()
   * calls it before giving up as signed_out. Emits "auth" when it signs
   * this client in.
   * @returns {Promise<boolean>} whether this client is signed in now
   */
  async resumeSession() {
    if (this.signedIn) return true;
    const { auth, device } = await this.storage.transaction('meta', 'readonly', async (tx) => ({
      auth: await tx.get('meta', 'auth'),
      device: await tx.get('meta', 'device'),
    }));
    if (!auth?.access || !auth.refresh || device?.id !== this.deviceId) return false;
    const mine = this.auth.user?.username;
    if (mine && foldUsername(auth.user?.username ?? '') !== foldUsername(mine)) return false;
    if (this.signedIn) return true; // signed in while the storage was read
    this.auth = { ...auth, gen: this.auth.gen + 1 };
    this.emit('auth', { signedIn: true });
    return true;
  }

  /**
   * Signs in (online only) and registers this device. A different user
   * than the one this device id belongs to (the signed-in user, or the
   * last one, kept with the id after a sign-out) needs the storage's
   * unsaved work gone first — unsent changes and photos, and refused
   * changes still in the failed list (code unsent_changes) — unless
   * force; such a sign-in uses a new device id, and only once it
   * succeeded is the local data reset (sync.md §1). A failed sign-in
   * leaves everything as it was. Usernames are compared as the server
   * does: without the spaces around them, in any letter case.
   * @param {string} username
   * @param {string} password
   * @param {{force?: boolean}} [opts]
   * @returns {Promise<User>}
   */
  async signIn(username, password, { force = false } = {}) {
    // Nothing typed is said as the server says it, before any other check
    // (a device with unsent work would otherwise be told to sync first).
    const missing = typeof username !== 'string' || username.trim() === '' ? 'username'
      : typeof password !== 'string' || password === '' ? 'password' : '';
    if (missing) throw new FieldsyncError('missing_field', { message: '请输入用户名和密码', field: missing });
    /** @type {{id: string, username?: string} | undefined} */
    const device = await this.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'device'));
    const owner = this.auth.user?.username ?? device?.username ?? '';
    let other = owner !== '' && foldUsername(owner) !== foldUsername(username);
    if (other && !force) await this.refuseUnsaved();
    const gen = this.auth.gen + 1;
    this.auth = { ...this.auth, gen }; // a refresh still running now belongs to the old session
    let deviceId = other ? uuidv7(this.nowFn()) : this.deviceId;
    let tr;
    try {
      tr = await this.login(username, password, deviceId);
    } catch (err) {
      // conflict: the server has this device id bound to another user
      // than the storage remembers (a storage from an SDK that forgot the
      // user at a forced sign-out). The id is of no use to this user:
      // sign in once more with a new one.
      if (!(err instanceof FieldsyncError) || err.code !== 'conflict' || other) throw err;
      if (!force) await this.refuseUnsaved();
      other = true;
      deviceId = uuidv7(this.nowFn());
      tr = await this.login(username, password, deviceId);
    }
    const auth = { access: tr.access_token, refresh: tr.refresh_token, user: tr.user, gen };
    // The previous user's session, if still signed in (a forced switch),
    // ends with the switch; sessions owed since an offline sign-out too.
    const previous = this.auth;
    if (other) await this.resetLocal({ deviceId, auth }, previous);
    else {
      await this.storage.transaction('meta', 'readwrite', async (tx) => {
        await tx.put('meta', 'device', { id: deviceId, username: tr.user.username });
        // A sign-in may follow a server restored from a backup older than
        // the key's registration (sync.md §8.3): registered again below.
        await registerAgain(tx);
      });
      await this.setAuth(auth);
    }
    await this.saveClock();
    await this.settleSessions().catch(() => {});
    // The capture key (signed-captures.md): made and registered now, while
    // online; a failure here is retried by the next sync.
    await this.captureKey().catch(() => {});
    return tr.user;
  }

  /**
   * The login request for deviceId; the answer's user carries the
   * server's spelling of the username.
   * @param {string} username
   * @param {string} password
   * @param {string} deviceId
   * @internal
   */
  async login(username, password, deviceId) {
    // The known_client of the account's last sign-in here (sync.md §2):
    // failed sign-ins of the account from elsewhere do not hold this one
    // back. Kept per account, through sign-outs and user switches.
    /** @type {Record<string, string> | undefined} */
    const known = await this.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'knownClients'));
    const knownClient = known?.[foldUsername(username)];
    /** @type {{access_token: string, refresh_token: string, user: User, server_hlc?: string, known_client?: string}} */
    const tr = await requestJSON(this.transport, 'POST', PATH.login, {
      body: { username, password, device_id: deviceId, device_name: this.deviceName, ...(knownClient ? { known_client: knownClient } : {}) },
    }).catch((err) => {
      // The general network message speaks of data kept for a later sync.
      if (err instanceof FieldsyncError && err.code === 'network') {
        throw new FieldsyncError('network', { message: signInNetworkMessage(err), cause: err.cause, details: err.details });
      }
      throw err;
    });
    if (typeof tr.known_client === 'string' && tr.known_client !== '') {
      const token = tr.known_client;
      await this.storage.transaction('meta', 'readwrite', async (tx) => {
        /** @type {Record<string, string>} */
        const all = (await tx.get('meta', 'knownClients')) ?? {};
        await tx.put('meta', 'knownClients', { ...all, [foldUsername(tr.user.username)]: token });
      });
    }
    return tr;
  }

  /**
   * Changes the signed-in user's own password (online only; sync.md §2):
   * the server checks current (a wrong one counts as a failed sign-in),
   * ends the user's other sessions — their other phones sign in again
   * with the new password, keeping their unsent work — and answers this
   * device's new tokens, stored here at once (the old pair stops
   * working). It waits for a sync running in any tab on this storage, so
   * that no request of the old session is refused midway. Errors:
   * invalid_field (field current_password: not the password;
   * new_password: not 8 to 72 bytes, or the current one), missing_field,
   * too_many_attempts (retryAfter), network (the password may have
   * changed if the answer was lost: the old session then ends, and the
   * user signs in with the new password), signed_out.
   * @param {string} current
   * @param {string} next
   * @returns {Promise<User>}
   */
  async changePassword(current, next) {
    if (!current) throw new FieldsyncError('missing_field', { field: 'current_password', message: '请输入当前密码' });
    const bytes = new TextEncoder().encode(next).length;
    if (bytes < 8 || bytes > 72) {
      throw new FieldsyncError('invalid_field', { field: 'new_password', message: '新密码应为 8 到 72 个字节（汉字每字 3 个字节）' });
    }
    if (next === current) throw new FieldsyncError('invalid_field', { field: 'new_password', message: '新密码不能与当前密码相同' });
    return this.exclusive('sync', () =>
      this.exclusive('refresh', async () => {
        /** @type {{access_token: string, refresh_token: string, user: User}} */
        const tr = await this.authed((token) =>
          requestJSON(this.transport, 'POST', PATH.password, { body: { current_password: current, new_password: next }, token }),
        );
        // The server's session of this device is the answer's now, even
        // if a request of the old one was refused and dropped it meanwhile.
        await this.setAuth({ access: tr.access_token, refresh: tr.refresh_token, user: tr.user, gen: this.auth.gen + 1 });
        return tr.user;
      }),
    );
  }

  /** Closes the storage; the client must not be used afterwards. */
  async close() {
    await this.storage.close();
  }

  /**
   * Signs out: syncs first; with unsaved work (unsent changes or photos,
   * refused changes not dismissed) and neither force nor keep throws
   * unsent_changes ({changes, records, photos, rejected}); with force
   * drops this user's data; with keep keeps it all on the phone — the
   * outbox, the photos, the refusals — for this user's next sign-in,
   * which sends it (another user's sign-in asks first: unsent_changes).
   * @param {{force?: boolean, keep?: boolean}} [opts]
   */
  async signOut({ force = false, keep = false } = {}) {
    if (force && keep) throw new TypeError('signOut: force drops the local data, keep keeps it: not both');
    if (this.signedIn) await this.sync().catch(() => {});
    if (!force && !keep) await this.refuseUnsaved();
    // Ended on the server now, or, offline, at the next sync or sign-in
    // (endSession): the phone may be handed on before it is online again.
    const ending = this.auth;
    await this.setAuth({ access: '', refresh: '', user: force ? null : this.auth.user, gen: this.auth.gen + 1 }, ending);
    await this.settleSessions().catch(() => {});
    if (force) await this.resetLocal();
  }


  /**
   * Tries to end session on the server; returns null when it is ended,
   * else the session still to end (its tokens, new ones if a refresh
   * made them before the logout failed).
   * @param {{access: string, refresh: string}} session
   * @returns {Promise<{access: string, refresh: string} | null>}
   * @internal
   */
  async tryEndSession(session) {
    /** @param {unknown} err refused as no session: nothing left to end */
    const ended = (err) => err instanceof FieldsyncError && (err.status === 401 || err.status === 403) && err.code !== 'token_expired';
    try {
      if (!session.access) throw new FieldsyncError('token_expired', { status: 401 });
      await requestJSON(this.transport, 'POST', PATH.logout, { token: session.access });
      return null;
    } catch (err) {
      if (ended(err)) return null;
      if (!(err instanceof FieldsyncError) || err.code !== 'token_expired') return session;
    }
    if (!session.refresh) return null;
    let tr;
    try {
      tr = await requestJSON(this.transport, 'POST', PATH.refresh, { body: { refresh_token: session.refresh } });
    } catch (err) {
      // An expired refresh token ends nothing more: the session is over.
      return err instanceof FieldsyncError && (ended(err) || err.code === 'token_expired') ? null : session;
    }
    const fresh = { access: tr.access_token, refresh: tr.refresh_token };
    try {
      await requestJSON(this.transport, 'POST', PATH.logout, { token: fresh.access });
      return null;
    } catch (err) {
      return ended(err) ? null : fresh;
    }
  }

  /**
   * Ends on the server the sessions this storage gave up (setAuth's
   * ending: a sign-out, another user's sign-in): POST /auth/logout with
   * each one's access token, refreshed first if it expired. One the
   * server already refuses (401, 403) is ended. One that cannot be ended
   * now (no network, a server error) stays owed in the storage and is
   * ended by the next sync or sign-in: a sign-out made offline must not
   * leave tokens working for their lifetime on a phone handed on.
   */
  async settleSessions() {
    /** @type {Array<{access: string, refresh: string}> | undefined} */
    const owed = await this.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'sessionsOwed'));
    if (!owed?.length) return;
    /** @type {Array<{access: string, refresh: string}>} */
    const left = [];
    for (const o of owed) {
      const l = await this.tryEndSession(o);
      if (l) left.push(l);
    }
    await this.storage.transaction('meta', 'readwrite', async (tx) => {
      // Owed meanwhile (another tab's sign-out) stays owed too.
      /** @type {Array<{access: string, refresh: string}>} */
      const now = (await tx.get('meta', 'sessionsOwed')) ?? [];
      const still = [...left, ...now.filter((n) => !owed.some((o) => o.refresh === n.refresh))];
      if (still.length) await tx.put('meta', 'sessionsOwed', still);
      else await tx.delete('meta', 'sessionsOwed');
    });
    // The ended sessions' tokens go from the storage's files too.
    if (left.length < owed.length) await this.storage.compact?.();
  }

  /**
   * How many sessions this storage gave up (a sign-out, another user's
   * sign-in) the server has not been told of yet (settleSessions): a
   * sign-out made offline leaves one until the next sync or sign-in on
   * this storage, or settleSessions.
   * @returns {Promise<number>}
   */
  async sessionsOwed() {
    const owed = await this.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'sessionsOwed'));
    return Array.isArray(owed) ? owed.length : 0;
  }

  /**
   * Throws unsent_changes ({changes, records, photos, rejected}) while the storage
   * holds work the server does not have: unsent changes, photos not
   * uploaded, or refused changes the user has not dismissed (their values
   * and photo bytes exist only here).
   * @internal
   */
  async refuseUnsaved() {
    const s = await this.refreshStatus();
    if (s.pendingChanges > 0 || s.pendingPhotos > 0 || s.rejectedChanges > 0) {
      throw new FieldsyncError('unsent_changes', {
        details: { changes: s.pendingChanges, records: s.pendingRecords, photos: s.pendingPhotos, rejected: s.rejectedChanges },
      });
    }
  }

  /**
   * Drops the local data (records, outbox, photos, cursor …). With next
   * (another user signed in with a new device id), the same transaction
   * stores the new id and its tokens and drops the old id's clock and
   * capture keys: the storage is never left with one user's data and
   * another's session.
   * @param {{deviceId: string, auth: Auth} | null} [next]
   * @param {{access: string, refresh: string}} [ending] the session next replaces, owed the server's logout
   * @internal
   */
  async resetLocal(next = null, ending = undefined) {
    const stores = /** @type {const} */ (['meta', 'records', 'outbox', 'batches', 'blobs', 'uploads', 'superseded']);
    await this.storage.transaction([...stores], 'readwrite', async (tx) => {
      for (const s of stores) {
        if (s === 'meta') continue;
        for (const [k] of await tx.all(s)) await tx.delete(s, k);
      }
      for (const k of ['cursor', 'resync', 'rejected', 'lastSync']) await tx.delete('meta', k);
      if (next) {
        await tx.put('meta', 'device', { id: next.deviceId, username: next.auth.user?.username });
        await tx.put('meta', 'auth', next.auth);
        if (ending) await oweSession(tx, ending);
        await tx.delete('meta', 'clock');
        await tx.delete('meta', 'captureKey'); // a new device, a new key
        await tx.delete('meta', 'captureKeys');
      }
    });
    if (next) {
      // The new id's clock starts after every HLC seen (the login's answer
      // included), so that it never issues one the server has passed.
      const last = this.clock.last;
      this.deviceId = next.deviceId;
      this.clock = new Clock(this.deviceId, { now: this.nowFn, last: new HLC(last.wall, last.counter, this.deviceId), offset: this.clock.offset });
      const was = this.signedIn;
      this.auth = next.auth;
      if (was !== this.signedIn) this.emit('auth', { signedIn: this.signedIn });
    }
    // An adapter that keeps history (FileStorage's journal) rewrites its
    // files, so that what was dropped is gone from the device too.
    await this.storage.compact?.();
    this.cached.lastSync = null;
    await this.refreshStatus();
  }

  /** @internal */
  async saveClock() {
    await this.storage.transaction('meta', 'readwrite', (tx) => this.putClock(tx));
  }

  /**
   * Takes the clock as stored if it is ahead of this client's: another
   * client (tab) of the storage issued later timestamps for this device,
   * and a save here must come after them, or the user's last edit would
   * lose to an earlier one of the same device.
   * @param {Tx} tx
   * @internal
   */
  async catchUpClock(tx) {
    const stored = HLC.tryParse((await tx.get('meta', 'clock'))?.last ?? '');
    if (stored && HLC.compare(stored, this.clock.last) > 0) this.clock.last = new HLC(stored.wall, stored.counter, this.clock.node);
  }

  /** @internal @param {Tx} tx */
  putClock(tx) {
    // device: the device time it was stored at, for the next run to see
    // what the device clock did meanwhile (Clock.reopened).
    return tx.put('meta', 'clock', { last: this.clock.last.toString(), offset: this.clock.offset, device: this.nowFn() });
  }

  // ---- local data ------------------------------------------------------------

  /**
   * @param {string} entity
   * @param {string} id
   * @returns {Promise<Rec | null>}
   */
  async get(entity, id) {
    checkKnown(entity);
    return this.storage.transaction('records', 'readonly', async (tx) => {
      /** @type {StoredRecord | undefined} */
      const r = await tx.get('records', recKey(entity, id));
      return r && !r.gone && !(await underDeleted(tx, r, new Map())) ? toRec(r) : null;
    });
  }

  /**
   * Live records of entity, optionally filtered.
   * @param {string} entity
   * @param {(rec: Rec) => boolean} [filter]
   * @returns {Promise<Rec[]>}
   */
  async list(entity, filter) {
    checkKnown(entity);
    if (filter !== undefined && typeof filter !== 'function') throw new TypeError(`list: filter must be a function (rec) => boolean, not ${typeof filter}`);
    const prefix = `${entity}/`;
    return this.storage.transaction('records', 'readonly', async (tx) => {
      const all = await tx.all('records', prefix);
      /** @type {Map<string, boolean>} */
      const deleted = new Map();
      /** @type {Rec[]} */
      const out = [];
      for (const [k, r] of all) {
        if (!k.startsWith(prefix) || r.gone || await underDeleted(tx, r, deleted)) continue;
        const rec = toRec(r);
        if (!filter || filter(rec)) out.push(rec);
      }
      return out;
    });
  }

  /**
   * A local change: fields stamped with one new HLC and written with the
   * outbox entry in one transaction. Never touches the network.
   * @param {string} entity
   * @param {string} id
   * @param {Record<string, any>} fields flat field names → values (null clears)
   * @returns {Promise<Rec>}
   */
  async save(entity, id, fields) {
    // The entity first: a county's or a checklist's own id is no UUID,
    // and what is wrong is writing it at all (read_only_entity).
    checkWritable(entity, fields);
    checkID(id);
    if (Object.keys(fields).length === 0) {
      // Nothing to write (a form saved unchanged): no change is queued —
      // the server would refuse it, and its refusal would wait in the
      // failed list. A record that does not exist yet needs its fields.
      const cur = await this.get(entity, id);
      if (cur) return cur;
      throw new FieldsyncError('missing_field', { message: '新记录没有任何字段，无法保存（应用程序错误）', details: { entity, id } });
    }
    // A photo's upload job follows its record's content_type (saveIn).
    const stores = /** @type {import('./storage/storage.js').StoreName[]} */ (entity === 'photo' ? ['meta', 'records', 'outbox', 'uploads'] : ['meta', 'records', 'outbox']);
    const rec = await this.storage.transaction(stores, 'readwrite', (tx) =>
      this.saveIn(tx, entity, id, fields, false),
    );
    this.emit('change', { entity, id });
    await this.refreshStatus();
    return rec;
  }

  /**
   * Deletes a record (a tombstone), the same way as save.
   * @param {string} entity
   * @param {string} id
   */
  async remove(entity, id) {
    checkEntity(entity);
    if (NOT_DELETABLE.has(entity)) throw new FieldsyncError('not_deletable', { details: { entity } });
    checkID(id);
    const gone = await this.storage.transaction(['meta', 'records', 'outbox'], 'readwrite', async (tx) => {
      const kept = KEPT_ONCE[/** @type {keyof typeof KEPT_ONCE} */ (entity)];
      const cur = kept ? await tx.get('records', recKey(entity, id)) : null;
      if (cur && !cur.gone && cur.fields[kept]?.value != null) {
        throw new FieldsyncError('not_deletable', { details: { entity, field: kept } });
      }
      // An inspection's findings go with it, in the same push (sync.md
      // §8.2): left, they would stay open, locked, under nothing.
      const findings = entity === 'inspection' ? await liveFindingsOf(tx, id) : [];
      for (const f of findings) await this.saveIn(tx, 'finding', f, null, true);
      await this.saveIn(tx, entity, id, null, true);
      return findings;
    });
    for (const f of gone) this.emit('change', { entity: 'finding', id: f });
    this.emit('change', { entity, id });
    await this.refreshStatus();
  }

  /**
   * @param {Tx} tx
   * @param {string} entity
   * @param {string} id
   * @param {Record<string, any> | null} fields
   * @param {boolean} del
   * @returns {Promise<Rec>}
   * @internal
   */
  async saveIn(tx, entity, id, fields, del) {
    await this.catchUpClock(tx);
    const hlc = this.clock.now().toString();
    /** @type {Record<string, string> | undefined} */
    let known;
    /** @type {StoredRecord} */
    // A record new to the phone starts with an empty base: the server has
    // none of it until a push is applied or a pull brings it.
    const r = (await tx.get('records', recKey(entity, id))) ?? { entity, id, county: '', fields: {}, deleted: '', gone: false, pending: {}, base: {} };
    r.pending ??= {};
    if (del) {
      if (HLC.compare(hlc, r.deleted) > 0) r.deleted = hlc;
      r.gone = true;
      r.pending._delete = hlc;
    } else {
      // The server's values the phone showed as they were changed (no
      // change of its own unsent in between): the server then logs no
      // conflict for them (sync.md §5.1) — an office's return answered,
      // a colleague's report followed.
      for (const name of Object.keys(fields ?? {})) {
        const b = r.base?.[name]?.hlc;
        if (b && !r.pending[name] && r.fields[name]?.hlc === b) (known ??= {})[name] = b;
      }
      for (const [name, value] of Object.entries(fields ?? {})) {
        r.fields[name] = { value: value === undefined ? null : value, hlc };
        r.pending[name] = hlc;
      }
      if (!r.county) r.county = await countyOf(tx, entity, r);
      if (entity === 'photo' && typeof fields?.content_type === 'string') await followContentType(tx, id, fields.content_type);
    }
    await tx.put('records', recKey(entity, id), r);
    const seq = ((await tx.get('meta', 'seq')) ?? 0) + 1;
    /** @type {OutboxEntry} */
    // A field given as undefined clears it, here as on the phone: JSON
    // would drop it from the push, and the server keep its value.
    const e = del ? { seq, entity, id, hlc, delete: true }
      : { seq, entity, id, hlc, fields: Object.fromEntries(Object.entries(fields ?? {}).map(([k, v]) => [k, v === undefined ? null : v])), ...(known ? { seen: known } : {}) };
    await tx.put('outbox', seqKey(seq), e);
    await tx.put('meta', 'seq', seq);
    await this.putClock(tx);
    return toRec(r);
  }

  /**
   * Keeps a photo: its bytes (untouched), SHA-256 and size, the photo
   * record, and an upload job, in one transaction. camera: true says the
   * app took it with the camera just now: the SDK then signs the capture
   * with the device key (capture_sig, capture_key_id; signed-captures.md),
   * where Web Crypto is available. A photo picked from the gallery is not
   * signed.
   * @param {{id?: string, blob: Blob | Uint8Array | ArrayBuffer, contentType: string, fields?: Record<string, any>, camera?: boolean}} p
   * @returns {Promise<Rec>}
   */
  async takePhoto({ id = uuidv7(this.nowFn()), blob, contentType, fields = {}, camera = false } = /** @type {any} */ ({})) {
    checkID(id);
    const isBytes = blob instanceof Uint8Array || blob instanceof ArrayBuffer || (typeof Blob !== 'undefined' && blob instanceof Blob);
    if (!isBytes) {
      throw new FieldsyncError('unencodable_value', { message: 'takePhoto 的 blob 应为照片的字节（Blob、Uint8Array 或 ArrayBuffer；应用程序错误）', details: { entity: 'photo', field: 'blob', value: blob == null ? String(blob) : typeof blob } });
    }
    if (!PHOTO_CONTENT_TYPES.includes(contentType)) {
      // Refused here, as the server would refuse the record and its
      // upload: a job that can never finish would hold signOut.
      throw new FieldsyncError('invalid_value', { message: `照片格式应为 JPEG、PNG 或 HEIC（contentType 为 ${PHOTO_CONTENT_TYPES.join('、')} 之一）`,
        field: 'content_type', details: { entity: 'photo', field: 'content_type', value: String(contentType) } });
    }
    const bytes = await bytesOf(blob);
    const sha256 = await sha256Hex(bytes);
    /** @type {Record<string, any>} */
    const all = { ...fields, sha256, content_type: contentType, size_bytes: bytes.byteLength };
    checkWritable('photo', all);
    if (camera) Object.assign(all, await this.signCapture(id, all));
    const stored = typeof Blob !== 'undefined' && blob instanceof Blob ? blob : bytes;
    const rec = await this.storage.transaction(['meta', 'records', 'outbox', 'blobs', 'uploads'], 'readwrite', async (tx) => {
      // A photo's bytes are fixed once taken (the server refuses another
      // sha256): the same id again is the same photo taken again (a retry
      // of a call whose answer was lost) or refused.
      /** @type {StoredRecord | undefined} */
      const had = await tx.get('records', recKey('photo', id));
      if (had) {
        const was = had.fields?.sha256?.value ?? had.base?.sha256?.value;
        if (was === sha256 && !had.gone) return toRec(had);
        throw new FieldsyncError('photo_exists', { details: { id } });
      }
      // A photo of a record the phone has never seen would be refused at
      // sync (unknown_reference) and its upload left with no record: said
      // now, nothing kept. Save the record first (the push then sends it
      // before the photo).
      if (parentsIn(all).length === 0) {
        // The server refuses a photo of no record (missing_field): said
        // now, as for an unknown one.
        throw new FieldsyncError('missing_field', {
          message: '照片须属于一条检查记录、发现问题或路检记录（inspection_id、finding_id 或 vehicle_check_id 之一），照片没有保存（应用程序错误）',
          field: 'inspection_id',
          details: { entity: 'photo', field: 'inspection_id' },
        });
      }
      const parent = await unknownParent(tx, all);
      if (parent) {
        const what = /** @type {Record<string, string>} */ (ENTITY_NAMES)[parent.entity] ?? parent.entity;
        throw new FieldsyncError('unknown_reference', {
          message: parent.deleted
            ? `照片所属的${what}已在手机上删除，照片没有保存（应用程序错误）`
            : `照片所属的${what}在手机上不存在（尚未保存，或编号有误），照片没有保存；请先保存${what}再拍照（应用程序错误）`,
          field: parent.field,
          details: { entity: 'photo', field: parent.field, parent: { entity: parent.entity, id: parent.id, state: parent.deleted ? 'deleted' : 'missing' } },
        });
      }
      // The same file again on the same record (and item): a double tap,
      // a gallery pick made twice. Refused, naming the photo kept: two
      // records of one file are one piece of evidence shown twice (the
      // 巡查 app refused it itself; an app on the SDK made two). After
      // the parent's checks: a deleted parent is said as such.
      const twin = await samePhoto(tx, sha256, all);
      if (twin) {
        throw new FieldsyncError('photo_duplicate', { field: 'sha256', details: { id, existing: twin } });
      }
      await tx.put('blobs', id, stored);
      await tx.put('uploads', id, {
        photoId: id,
        sha256,
        contentType,
        size: bytes.byteLength,
        offset: 0,
        url: null,
        state: 'queued',
        error: null,
      });
      return this.saveIn(tx, 'photo', id, all, false);
    });
    this.emit('change', { entity: 'photo', id });
    await this.refreshStatus();
    return rec;
  }

  // ---- signed captures ------------------------------------------------------

  /**
   * The device's capture key: made with Web Crypto (non-extractable) on
   * first use, and registered with the server when signed in. null where
   * Web Crypto is missing (a page not served over HTTPS or localhost).
   * Throws the registration's error (network …); the next sync retries.
   * @returns {Promise<{keyId: string, registered: boolean} | null>}
   */
  async captureKey() {
    const k = await currentKey(this);
    if (!k) return null;
    if (this.signedIn) await registerCaptureKeys(this);
    const all = await this.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'captureKeys'));
    const cur = await currentKey(this);
    if (!cur) return null;
    return { keyId: cur.keyId, registered: !!(all ?? []).find((/** @type {any} */ x) => x.keyId === cur.keyId)?.registered };
  }

  /**
   * The capture signature of photo id's fields (as they will be pushed):
   * {capture_sig, capture_key_id}, or null without Web Crypto. takePhoto
   * with camera: true calls it.
   * @param {string} id
   * @param {Record<string, any>} fields
   */
  async signCapture(id, fields) {
    return signCapture(this, id, fields);
  }

  /**
   * The local original of a photo, if the phone has it.
   * @param {string} id
   * @returns {Promise<Blob | Uint8Array | null>}
   */
  async photoBytes(id) {
    return (await this.storage.transaction('blobs', 'readonly', (tx) => tx.get('blobs', id))) ?? null;
  }

  /**
   * A photo to show: the local original while the phone has it, else the
   * server's thumbnail (256 px JPEG), kept on the phone once fetched so
   * that it shows offline too. A colleague's photo, or one whose original
   * purgeOriginals removed, thus shows as its thumbnail. Null when neither
   * is on the phone and the server cannot give the thumbnail now (no
   * network, not made yet, or never: a HEIC or unreadable file).
   * @param {string} id
   * @returns {Promise<{bytes: Blob | Uint8Array, contentType: string, original: boolean} | null>}
   */
  async photoImage(id) {
    const { original, thumb, rec, job } = await this.storage.transaction(['blobs', 'records', 'uploads'], 'readonly', async (tx) => ({
      original: await tx.get('blobs', id),
      thumb: await tx.get('blobs', THUMB + id),
      rec: await tx.get('records', `photo/${id}`),
      job: await tx.get('uploads', id),
    }));
    if (original) {
      // The record's type; else (its create refused, the record gone)
      // the one it was taken with.
      const contentType =
        rec?.fields?.content_type?.value || rec?.base?.content_type?.value || job?.contentType || (typeof Blob !== 'undefined' && original instanceof Blob ? original.type : '') || '';
      return { bytes: original, contentType, original: true };
    }
    if (thumb) return { bytes: thumb, contentType: 'image/jpeg', original: false };
    if (!this.signedIn || !thumbnailExpected(rec)) return null;
    const got = await this.fetchThumbnail(id).catch(() => null);
    if (!got) return null;
    await this.storage.transaction('blobs', 'readwrite', (tx) => tx.put('blobs', THUMB + id, got));
    return { bytes: got, contentType: 'image/jpeg', original: false };
  }

  /**
   * The server's thumbnail of photo id.
   * @param {string} id
   * @returns {Promise<Uint8Array>}
   * @internal
   */
  async fetchThumbnail(id) {
    const path = `/api/v1/photos/${encodeURIComponent(id)}/thumbnail`;
    const { bytes, contentType } = await this.authed((token) => requestBytes(this.transport, path, { token }));
    // The server's thumbnails are JPEGs: anything else came from a
    // network answering in its stead (a Wi-Fi's sign-in page), and kept,
    // it would be shown for the photo for good — or replace its original.
    if (!contentType.toLowerCase().startsWith('image/jpeg') || bytes.length < 3 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) {
      throw new FieldsyncError('network', { message: '收到的缩略图不是服务器发来的（网络可能需要先登录），稍后再试', details: { contentType } });
    }
    return bytes;
  }

  /**
   * Removes from the phone the originals of photos the server has had
   * for olderThan ms (default: the keepOriginalsFor option, 7 days), each
   * replaced by the server's thumbnail, which photoImage then shows. Only
   * a photo whose upload finished and whose record the server has marked
   * uploaded is touched, and only once the server gives its thumbnail: a
   * photo that has none (not made yet, or never: HEIC, unreadable) keeps
   * its original. sync() calls it after a sync without errors.
   * The clock of a photo starts when the phone learnt it was uploaded.
   * Returns how many originals left the phone.
   * @param {{olderThan?: number}} [opts]
   * @returns {Promise<number>}
   */
  async purgeOriginals({ olderThan = this.keepOriginalsFor } = {}) {
    if (!(olderThan >= 0) || olderThan === Infinity) return 0;
    const now = this.now(); // the server's time: a phone's clock fixed later does not purge at once
    /** @type {string[]} */
    const due = await this.storage.transaction(['uploads', 'records'], 'readwrite', async (tx) => {
      const out = [];
      for (const [id, j] of await tx.all('uploads')) {
        if (j.state !== 'done') continue;
        const r = await tx.get('records', `photo/${id}`);
        if (r?.fields?.uploaded?.value !== true) continue;
        let since = j.uploadedAt;
        if (typeof since !== 'number') {
          since = now;
          await tx.put('uploads', id, { ...j, uploadedAt: now });
        }
        if (since + olderThan <= now) out.push(id);
      }
      return out;
    });
    let purged = 0;
    for (const id of due) {
      /** @type {Uint8Array | null} */
      let thumb = null;
      try {
        thumb = await this.fetchThumbnail(id);
      } catch (err) {
        if (!(err instanceof FieldsyncError)) throw err;
        if (err.code === 'network' || err.code === 'signed_out' || err.code === 'session_lost') break;
        // No thumbnail (not made yet, or never: a HEIC or unreadable
        // file): the original stays, the phone's only picture of it.
        continue;
      }
      await this.storage.transaction(['uploads', 'blobs'], 'readwrite', async (tx) => {
        const j = await tx.get('uploads', id);
        if (!j || j.state !== 'done') return;
        if (thumb) await tx.put('blobs', THUMB + id, thumb);
        await tx.delete('blobs', id);
        await tx.delete('uploads', id);
      });
      purged++;
    }
    return purged;
  }

  /**
   * Upload jobs: [{photoId, sha256, contentType, size, offset, url, state, error}].
   * @returns {Promise<import('./upload.js').UploadJob[]>}
   */
  async uploads() {
    const all = await this.storage.transaction('uploads', 'readonly', (tx) => tx.all('uploads'));
    return all.map(([, v]) => v);
  }

  /**
   * Queues a failed upload again (state failed → queued, from its first
   * byte, as a new tus upload): e.g. once the server takes the file's
   * kind, or the cause was fixed. The next sync sends it.
   * @param {string} photoId
   */
  async retryUpload(photoId) {
    await this.failedUpload(photoId, (tx, j) => tx.put('uploads', photoId, { ...j, state: 'queued', offset: 0, url: null, error: null }));
  }

  /**
   * Gives up a failed upload: its job and the photo's bytes leave the
   * phone, so they no longer count as unsent nor hold a sign-out. The
   * photo record stays (evidence is never deleted, sync.md §10); the
   * server keeps it without its file.
   * @param {string} photoId
   */
  async discardUpload(photoId) {
    await this.failedUpload(photoId, async (tx) => {
      await tx.delete('uploads', photoId);
      await tx.delete('blobs', photoId);
    });
  }

  /**
   * Runs fn over photoId's upload job, which must have failed (only the
   * user's decision ends that state), then tells the status listeners.
   * @param {string} photoId
   * @param {(tx: Tx, job: import('./upload.js').UploadJob) => Promise<void>} fn
   * @internal
   */
  async failedUpload(photoId, fn) {
    await this.storage.transaction(['uploads', 'blobs'], 'readwrite', async (tx) => {
      /** @type {import('./upload.js').UploadJob | undefined} */
      const j = await tx.get('uploads', photoId);
      if (!j) throw new FieldsyncError('not_found', { details: { photoId } });
      if (j.state !== 'failed') throw new FieldsyncError('upload_not_failed', { details: { photoId, state: j.state } });
      await fn(tx, j);
    });
    await this.statusChanged();
  }

  /**
   * Mutations the server refused (the failed list, sync.md §6), oldest
   * first, until dismissed. Their values are no longer in the local
   * records; they are kept here.
   * @returns {Promise<RejectedEntry[]>}
   */
  async rejected() {
    /** @type {RejectedEntry[]} */
    const list = (await this.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'rejected'))) ?? [];
    // Oldest first by when the change was made (its HLC), not by when its
    // refusal came: a change kept for its parent is refused syncs later.
    return list.map((x) => ({ ...x, key: x.key ?? rejectedKey(x) })).sort((a, b) => HLC.compare(a.hlc ?? '', b.hlc ?? '') || a.at - b.at);
  }

  /**
   * Forgets failed-list entries (their values are then gone from the
   * phone), or all of them with no argument. An entry of a sync's result
   * (SyncResult.rejected), which has neither key nor hlc, stands for every
   * entry of its record.
   * @param {...(RejectedEntry | Rejected | string)} entries entries or their keys
   */
  async dismissRejected(...entries) {
    /** @type {Set<string>} */
    const keys = new Set();
    /** @type {Set<string>} */
    const records = new Set(); // entity/id of entries without key nor hlc (the SDK probe: they matched none, silently)
    for (const e of entries) {
      if (typeof e === 'string') keys.add(e);
      else if ('key' in e && e.key) keys.add(e.key);
      else if ('hlc' in e && e.hlc) keys.add(rejectedKey(e));
      else records.add(`${e.entity}/${e.id}`);
    }
    await this.storage.transaction(['meta', 'records', 'uploads', 'blobs'], 'readwrite', async (tx) => {
      /** @type {RejectedEntry[]} */
      const list = (await tx.get('meta', 'rejected')) ?? [];
      const dismissed = (/** @type {RejectedEntry} */ x) => !entries.length || keys.has(x.key ?? rejectedKey(x)) || records.has(`${x.entity}/${x.id}`);
      await tx.put('meta', 'rejected', list.filter((x) => !dismissed(x)));
      // A photo whose refused create took its record off the phone: its
      // bytes and their upload go with the entry (the SDK probe: they
      // stayed until a forced sign-out). A refused edit of a photo the
      // phone still has keeps them.
      for (const x of list.filter(dismissed)) {
        if (x.entity !== 'photo' || (await tx.get('records', recKey('photo', x.id)))) continue;
        await tx.delete('uploads', x.id);
        await tx.delete('blobs', x.id);
      }
    });
    await this.statusChanged();
  }

  /**
   * Makes a refused change again as a new local change (a new HLC, at the
   * end of the outbox) and takes it off the failed list: e.g. an edit
   * refused with record_locked, once the inspection was returned (sync.md
   * §6). A refused delete is made again as a delete. A change refused for
   * a value (invalid_field, invalid_value, missing_field: the entry's
   * field says which) would be refused again as it was: give the
   * correction, laid over the refused values — a refused create is so
   * made again whole, with its corrected value, which a save() of the
   * value alone (an update of a record the server does not have) is not.
   * @param {RejectedEntry | string} entry the entry or its key
   * @param {Record<string, any>} [corrections] values that replace (or
   *   add to, or with null clear) the refused change's
   * @returns {Promise<Rec | null>} the record as it is now
   */
  async reapply(entry, corrections) {
    const key = typeof entry === 'string' ? entry : entry.key ?? rejectedKey(entry);
    /** @type {RejectedEntry | undefined} */
    let found;
    await this.storage.transaction(['meta', 'records', 'outbox', 'uploads', 'blobs', 'superseded'], 'readwrite', async (tx) => {
      /** @type {RejectedEntry[]} */
      const list = (await tx.get('meta', 'rejected')) ?? [];
      found = list.find((x) => (x.key ?? rejectedKey(x)) === key);
      if (!found) throw new FieldsyncError('not_found', { details: { key } });
      if (corrections !== undefined && found.delete) {
        throw new FieldsyncError('unencodable_value', { message: '删除操作没有可更正的字段（应用程序错误）', details: { entity: found.entity, value: 'corrections' } });
      }
      if (corrections !== undefined) checkWritable(found.entity, corrections);
      // A value changed since the refusal (a later edit on the phone, or
      // pulled) is not taken back to the refused one: left out — on a
      // record the server has, which is made already.
      /** @type {Record<string, any>} */
      const kept = { ...found.fields };
      /** @type {StoredRecord | undefined} */
      const rec = await tx.get('records', recKey(found.entity, found.id));
      if (rec && found.hlc) {
        for (const name of Object.keys(kept)) {
          const cur = rec.fields?.[name];
          if (!cur || HLC.compare(cur.hlc, found.hlc) <= 0 || (corrections && name in corrections)) continue;
          // Not lost without a word: listed as superseded (superseded()),
          // as a value that lost to a later write is.
          /** @type {Superseded} */
          const sup = { key: `${found.entity}/${found.id}/${name}/${found.hlc}`, entity: found.entity, id: found.id, field: name,
            value: kept[name], hlc: found.hlc ?? '', by: HLC.tryParse(cur.hlc)?.node ?? null, code: 'stale', at: this.now() };
          await keepSuperseded(tx, sup);
          delete kept[name];
        }
      }
      const fields = { ...kept, ...corrections };
      // undefined leaves a field out of what is sent again: one the server
      // does not know (unknown_field), which null would send as a clear
      // (SDK probe: no way to take it out).
      for (const [name, v] of Object.entries(corrections ?? {})) if (v === undefined) delete fields[name];
      if (!found.delete) checkWritable(found.entity, fields);
      // Made again as a save of it now would be: with the server's values
      // the record shows now in seen (an office's return the phone pulled
      // since, answered by the change, is not a clash; SDK probe: the
      // conflict log took every reapplied field for one).
      if (found.delete || Object.keys(fields).length > 0) await this.saveIn(tx, found.entity, found.id, found.delete ? null : fields, !!found.delete);
      await tx.put('meta', 'rejected', list.filter((x) => x !== found));
      // A photo whose record was refused had its bytes sent before it
      // (bytes first): the server keeps such bytes only for its upload
      // grace, so they are sent again with the record, from the phone's
      // original, and the job is not done until they are.
      if (found.entity === 'photo' && !found.delete) await sendAgain(tx, found.id);
    });
    const f = /** @type {RejectedEntry} */ (/** @type {unknown} */ (found));
    this.emit('change', { entity: f.entity, id: f.id });
    await this.refreshStatus();
    return this.get(f.entity, f.id);
  }

  /**
   * Local edits that lost to a later write from elsewhere, newest first.
   * @returns {Promise<Superseded[]>}
   */
  async superseded() {
    const all = await this.storage.transaction('superseded', 'readonly', (tx) => tx.all('superseded'));
    return all.map(([, v]) => v).sort((a, b) => HLC.compare(b.hlc, a.hlc) || b.at - a.at);
  }

  /**
   * Forgets superseded entries (or all of them with no argument).
   * @param {...(Superseded | string)} entries entries or their keys
   */
  async dismiss(...entries) {
    await this.storage.transaction('superseded', 'readwrite', async (tx) => {
      const keys = entries.length ? entries.map((e) => (typeof e === 'string' ? e : e.key)) : (await tx.all('superseded')).map(([k]) => k);
      for (const k of keys) await tx.delete('superseded', k);
    });
  }

  /**
   * The outbox as this client has read it (outboxSeen), brought up to
   * date in tx: its keys listed, and of its entries only those not read
   * before. An entry's key (its seq) is never used again, and new ones
   * sort after the old, so after a save or a sync only the new entries,
   * or none, are read: a save's count does not read the whole outbox.
   * Keys that are not the ones read before plus new ones (a sync sent
   * some, another client reset the storage) are read again from the
   * start.
   * @param {Tx} tx
   * @internal
   */
  async seeOutbox(tx) {
    const keys = await keysOf(tx, 'outbox');
    let seen = this.outboxSeen;
    const old = seen.keys;
    let from = old.length;
    if (keys.length < old.length || old.some((k, i) => keys[i] !== k)) {
      seen = emptyOutboxSeen();
      from = 0;
    }
    // Counted in place; a read that fails leaves nothing half counted.
    this.outboxSeen = emptyOutboxSeen();
    const add = (/** @type {Map<string, number>} */ m, /** @type {string} */ k) => m.set(k, (m.get(k) ?? 0) + 1);
    for (let i = from; i < keys.length; i++) {
      /** @type {OutboxEntry | undefined} */
      const e = await tx.get('outbox', keys[i]);
      if (!e) continue; // not an entry (an adapter's stray key): skipped as tx.all would
      const key = recKey(e.entity, e.id);
      add(seen.records, key);
      if (e.delete) add(seen.deletes, key);
    }
    seen.keys = keys;
    this.outboxSeen = seen;
    return seen;
  }

  /** @returns {Status} */
  status() {
    return { ...this.cached, syncing: !!this.running };
  }

  /** Recomputes the pending counts from storage. @returns {Promise<Status>} */
  async refreshStatus() {
    const { seen, uploads, rejected, records } = await this.storage.transaction(['meta', 'records', 'outbox', 'uploads'], 'readonly', async (tx) => {
      const seen = await this.seeOutbox(tx);
      // The records of deletes waiting: a record the server never had,
      // created and deleted here, is no change to it.
      /** @type {Map<string, StoredRecord | undefined>} */
      const records = new Map();
      for (const key of seen.deletes.keys()) records.set(key, await tx.get('records', key));
      return { seen, records, uploads: await tx.all('uploads'), rejected: (await tx.get('meta', 'rejected')) ?? [] };
    });
    const jobs = uploads.map(([, j]) => j).filter((j) => j.state !== 'done');
    this.cached.pendingChanges = seen.keys.length;
    // The records those changes are to, as a user counts them: one edited
    // five times is one; a photo still to upload is counted as a photo,
    // not also as a record; one made and deleted before it was sent is
    // none.
    const left = new Set();
    for (const j of jobs) if (seen.records.has(recKey('photo', j.photoId))) left.add(recKey('photo', j.photoId));
    for (const [key, r] of records) if (r && r.gone && Object.keys(r.base ?? {}).length === 0) left.add(key);
    this.cached.pendingRecords = seen.records.size - left.size;
    this.cached.rejectedChanges = rejected.length;
    this.cached.pendingPhotos = jobs.length;
    // Of those, the ones that wait for the user (retryUpload, discardUpload).
    this.cached.failedPhotos = jobs.filter((j) => j.state === 'failed').length;
    // A failed upload is sent again from its first byte (retryUpload).
    this.cached.pendingBytes = jobs.reduce((n, j) => n + Math.max(0, j.size - (j.state === 'failed' ? 0 : j.offset || 0)), 0);
    return this.status();
  }

  // ---- sync ------------------------------------------------------------------

  /** @internal Reads the counts again and tells the listeners of "sync". */
  async statusChanged() {
    await this.refreshStatus();
    this.emit('sync', this.status());
  }

  /**
   * Pushes the outbox, pulls and merges every page, then uploads queued
   * photos. One sync at a time: a call while one runs gets the next, which
   * starts as the running one ends — that one may have pushed already,
   * before what was saved just before the call (a change reapplied
   * waited for the app's next sync, a minute) — and every call meanwhile
   * gets that same next one.
   * @param {{onProgress?: (p: Progress) => void}} [opts]
   * @returns {Promise<SyncResult>}
   */
  sync(opts = {}) {
    const onProgress = opts.onProgress;
    if (this.running) {
      if (!this.next) {
        /** @type {Array<(p: Progress) => void>} */
        const fns = [];
        this.next = {
          fns,
          promise: this.running.then(() => {
            this.next = null;
            return this.startSync(fns);
          }),
        };
      }
      if (onProgress) this.next.fns.push(onProgress);
      return this.next.promise;
    }
    return this.startSync(onProgress ? [onProgress] : []);
  }

  /**
   * Starts a sync that tells each of fns its progress. A callback that
   * throws is logged, as a listener is (emit): a progress bar's bug must
   * not stop the sync.
   * @internal
   * @param {Array<(p: Progress) => void>} fns
   * @returns {Promise<SyncResult>}
   */
  startSync(fns) {
    /** @param {Progress} p */
    const progress = (p) => {
      for (const f of fns) {
        try {
          f(p);
        } catch (err) {
          console.error('fieldsync: onProgress:', err);
        }
      }
    };
    this.running = this.exclusive('sync', () => this.runSync(progress))
      // Never rejected: whatever stopped it is the result's error.
      .catch((/** @type {unknown} */ err) => /** @type {SyncResult} */ ({ ok: false, pushed: 0, pulled: 0, uploaded: 0, uploadedBytes: 0, rejected: [], superseded: [], error: asSyncError(err) }))
      .finally(() => {
        this.running = null;
        this.emit('sync', this.status());
      });
    this.emit('sync', this.status());
    return this.running;
  }

  /** @internal @param {(p: Progress) => void} onProgress @returns {Promise<SyncResult>} */
  async runSync(onProgress) {
    /** @type {SyncTally} */
    const res = { ok: false, pushed: 0, pulled: 0, uploaded: 0, uploadedBytes: 0, rejected: [], superseded: [], error: null };
    try {
      if (!(await this.resumeSession())) throw new FieldsyncError('signed_out');
      // The counts as the storage has them now: another tab on it may
      // have sent or saved since this one last looked.
      await this.statusChanged();
      /** @type {unknown} */
      let first = null;
      try {
        await registerCaptureKeys(this); // before any photo signed with them
        await this.pushAll(res, onProgress);
        // The records are sent: say so now, not after the photos, which
        // can take minutes.
        await this.statusChanged();
        await this.pullAll(res, onProgress);
        if (this.requeued > 0) {
          // What a restored server lost of this phone's work, sent again
          // now, its photos' keys registered first.
          this.requeued = 0;
          await this.statusChanged();
          await registerCaptureKeys(this);
          await this.pushAll(res, onProgress);
        }
      } catch (err) {
        first = err;
      }
      // Uploads run whatever push and pull did (sync.md §10.2): bytes may
      // reach the server before their record. Not after a network
      // failure: the server was not reached, or stopped answering (a
      // timeout), and each upload would wait as long again.
      if (!(first instanceof FieldsyncError && first.code === 'network')) {
        try {
          await uploadAll(this, res, onProgress);
        } catch (err) {
          first ??= err;
        }
      }
      if (res.uploaded > 0 && !first) {
        // The photos just sent are marked uploaded on the server: pull
        // that now rather than at the next sync, so that the app does not
        // show them waiting.
        await this.pullAll(res, onProgress).catch((err) => {
          first = err;
        });
      }
      if (first) throw first;
      // Failures here are retried at the next sync; they are not the sync's.
      await this.purgeOriginals().catch(() => 0);
      if (res.rejected.some((r) => r.code === 'out_of_scope')) {
        // The scope may have changed (sync.md §6): learn it now.
        const me = await this.api('GET', PATH.me).catch(() => null);
        if (me) await this.setAuth({ ...this.auth, user: me });
      }
      res.ok = !res.error;
    } catch (err) {
      res.error = asSyncError(err);
    }
    // Sessions a sign-out made offline could not end (settleSessions):
    // after the sync's own work, which they must not hold up, and not
    // when the network just failed it.
    if (res.error?.code !== 'network') await this.settleSessions().catch(() => {});
    const at = this.now(); // by the server's clock, as the records' times are: the phone's may be a day off
    const prev = this.cached.lastSync;
    const lastSync = {
      at,
      ok: res.ok,
      // The last sync that succeeded, kept through failed ones (a phone
      // long out of reach says since when).
      okAt: res.ok ? at : (prev ? (prev.ok ? prev.at : prev.okAt ?? null) : null),
      error: res.error ? { code: res.error.code, message: res.error.message, ...(res.error.details ? { details: res.error.details } : {}) } : null,
    };
    this.cached.lastSync = lastSync;
    // A storage another client gave to another user is not this one's to write.
    // ok is set only when no error was: the union holds.
    const done = /** @type {SyncResult} */ (res);
    if (res.error?.code === 'storage_changed') return done;
    try {
      await this.storage.transaction('meta', 'readwrite', async (tx) => {
        await tx.put('meta', 'lastSync', lastSync);
        await this.putClock(tx);
      });
      await this.refreshStatus();
    } catch (err) {
      // The storage refused (closed by another client, full): a sync
      // resolves, as API.md promises, with the first error.
      if (!res.error) Object.assign(res, { ok: false, error: asSyncError(err) });
    }
    return done;
  }

  /**
   * Pushes batches until the outbox is empty or no batch makes progress.
   * @param {SyncTally} res
   * @param {(p: Progress) => void} onProgress
   * @internal
   */
  async pushAll(res, onProgress) {
    let limit = BATCH_MAX;
    let total = this.cached.pendingChanges;
    // The changes answered so far (taken, or refused): told after each
    // batch, the last time when the outbox is empty.
    let answered = 0;
    const report = () => {
      total = Math.max(total, answered); // saved while the sync ran
      onProgress({ phase: 'push', done: answered, total, bytesDone: 0, bytesTotal: 0 });
    };
    let told = res.rejected.length;
    const tell = () => {
      // The records a refusal took back changed locally: the app is told.
      for (const r of res.rejected.slice(told)) this.emit('change', { entity: r.entity, id: r.id });
      told = res.rejected.length;
    };
    for (let rounds = 0; rounds < 1000; rounds++) {
      tell();
      const batch = await this.storage.transaction(['outbox', 'batches', 'records'], 'readwrite', async (tx) => {
        const pending = await tx.get('batches', 'pending');
        if (pending) return pending;
        const entries = await parentsFirst(tx, (await tx.all('outbox')).slice(0, limit).map(([, e]) => /** @type {OutboxEntry} */ (e)));
        if (entries.length === 0) return null;
        const b = {
          batchId: uuidv7(this.nowFn()),
          seqs: entries.map((e) => e.seq),
          mutations: entries.map((e) => {
            /** @type {Record<string, any>} */
            const m = { entity: e.entity, id: e.id, hlc: e.hlc };
            if (e.delete) m.delete = true;
            else m.fields = e.fields;
            if (e.seen) m.seen = e.seen;
            return m;
          }),
        };
        await tx.put('batches', 'pending', b);
        return b;
      });
      if (!batch) return;
      if (rounds === 0) report();
      let resp;
      try {
        resp = await this.patient('POST', PATH.push, { device_id: this.deviceId, batch_id: batch.batchId, mutations: batch.mutations });
      } catch (err) {
        if (!(err instanceof FieldsyncError)) throw err;
        if (err.code === 'batch_mismatch') {
          await this.dropBatch();
          continue;
        }
        if (err.code === 'body_too_large' && batch.seqs.length > 1) {
          limit = Math.max(1, Math.floor(batch.seqs.length / 2));
          await this.dropBatch();
          continue;
        }
        if (err.code === 'body_too_large') {
          // One mutation larger than any request the server takes: no
          // retry can send it. To the failed list (its values kept), so
          // that it no longer holds every change after it, naming its
          // largest field: the server's answer (send smaller batches)
          // cannot, as it read no field.
          await this.failOne(batch, 0, tooLarge(batch.mutations[0], err), res);
          answered++;
          report();
          continue;
        }
        // The server names the mutation in field (mutations[3].fields.plate);
        // a server older than that field named it in the message only.
        const bad = /^mutations\[(\d+)\]/.exec(err.field) ?? /mutations\[(\d+)\]/.exec(err.message);
        if (err.status === 400 && bad && Number(bad[1]) < batch.seqs.length) {
          // The whole batch was refused for one mutation: move it to the
          // failed list and send the rest as a new batch (sync.md §11).
          await this.failOne(batch, Number(bad[1]), err, res);
          answered++;
          report();
          continue;
        }
        throw err;
      }
      const progressed = await this.applyResults(batch, resp, res);
      answered += batch.seqs.length;
      report();
      tell();
      if (!progressed) return;
    }
  }

  /** @internal */
  async dropBatch() {
    await this.storage.transaction('batches', 'readwrite', (tx) => tx.delete('batches', 'pending'));
  }

  /**
   * @param {{seqs: number[], mutations: any[]}} batch
   * @param {number} i
   * @param {FieldsyncError} err
   * @param {SyncTally} res
   * @internal
   */
  async failOne(batch, i, err, res) {
    await this.storage.transaction(['meta', 'records', 'outbox', 'batches'], 'readwrite', async (tx) => {
      const e = await tx.get('outbox', seqKey(batch.seqs[i]));
      const field = /^mutations\[\d+\]\.fields\.(.+)$/.exec(err.field)?.[1] ?? '';
      if (e) await this.reject(tx, e, err.code, err.message, res, field);
      await tx.delete('batches', 'pending');
    });
  }

  /**
   * Moves an outbox entry to the failed list, where its values are kept,
   * and takes it back from the local record: nothing of it was stored, so
   * the record shows what the server has again (sync.md §6).
   * @param {Tx} tx
   * @param {OutboxEntry} e
   * @param {string} code
   * @param {string} message
   * @param {SyncTally} res
   * @param {string} [field] the record's field the refusal is for, when the server named one
   * @internal
   */
  async reject(tx, e, code, message, res, field = '') {
    /** @type {RejectedEntry[]} */
    const list = (await tx.get('meta', 'rejected')) ?? [];
    /** @type {RejectedEntry} */
    const entry = { key: rejectedKey(e), entity: e.entity, id: e.id, code, message, ...(field ? { field } : {}), hlc: e.hlc, fields: e.fields, delete: e.delete, at: this.now() };
    if (code === 'unknown_reference') {
      const parent = await missingParent(tx, e, list);
      if (parent) entry.parent = parent;
    }
    list.push(entry);
    // The list is evidence the user has not seen yet: it is never cut;
    // the user dismisses entries (dismissRejected).
    await tx.put('meta', 'rejected', list);
    res.rejected.push({ entity: e.entity, id: e.id, code, message, ...(field ? { field } : {}) });
    await this.settle(tx, e);
    await this.unapply(tx, e);
  }

  /**
   * Takes a refused mutation back from its local record (already out of
   * the outbox): each field still showing its value returns to the newest
   * of the server's value (the base) and the record's other unsent edits
   * of that field; a refused delete brings the record back. A record the
   * server never had and no unsent edit keeps leaves the local records.
   * @param {Tx} tx
   * @param {OutboxEntry} e
   * @internal
   */
  async unapply(tx, e) {
    const k = recKey(e.entity, e.id);
    /** @type {StoredRecord | undefined} */
    const r = await tx.get('records', k);
    if (!r) return;
    r.pending ??= {};
    /** @type {OutboxEntry[]} */
    const others = (await tx.all('outbox')).map(([, o]) => o).filter((o) => o.entity === e.entity && o.id === e.id);
    if (!r.base) {
      // Stored by an SDK that kept no base: the server's values are not
      // known here. Let the next pull's values win, and pull from the
      // start so that it brings them (sync.md §8.3: always safe).
      for (const name of Object.keys(e.fields ?? {})) {
        if (r.fields[name]?.hlc === e.hlc && !others.some((o) => o.fields && name in o.fields)) r.fields[name].hlc = '';
      }
      if (e.delete && r.deleted === e.hlc && !others.some((o) => o.delete)) {
        r.deleted = '';
        r.gone = false;
      }
      await tx.put('records', k, r);
      await tx.put('meta', 'cursor', '');
      return;
    }
    if (e.delete) {
      if (r.deleted === e.hlc) {
        let d = r.baseDeleted ?? '';
        for (const o of others) {
          if (o.delete && HLC.compare(o.hlc, d) > 0) d = o.hlc;
        }
        r.deleted = d;
        r.gone = d !== '';
      }
    } else {
      for (const name of Object.keys(e.fields ?? {})) {
        if (r.fields[name]?.hlc !== e.hlc) continue; // a later value shows
        let best = r.base[name];
        let unsent = '';
        for (const o of others) {
          if (!o.fields || !(name in o.fields) || (best && HLC.compare(o.hlc, best.hlc) <= 0)) continue;
          best = { value: o.fields[name], hlc: o.hlc };
          unsent = o.hlc;
        }
        if (best) r.fields[name] = { ...best };
        else delete r.fields[name];
        if (unsent) r.pending[name] = unsent;
      }
    }
    if (Object.keys(r.fields).length === 0 && others.length === 0 && !r.baseDeleted) {
      await tx.delete('records', k); // created here, and refused
      return;
    }
    await tx.put('records', k, r);
  }

  /**
   * Records what the server now has after an applied push of e: the
   * fields it stored (not those in lost) and an applied delete.
   * @param {Tx} tx
   * @param {OutboxEntry} e
   * @param {string[]} lost
   * @internal
   */
  async applied(tx, e, lost) {
    const k = recKey(e.entity, e.id);
    /** @type {StoredRecord | undefined} */
    const r = await tx.get('records', k);
    if (!r?.base) return; // no base yet: the next pull makes it whole
    if (e.delete) {
      if (HLC.compare(e.hlc, r.baseDeleted ?? '') > 0) r.baseDeleted = e.hlc;
    } else {
      for (const [name, value] of Object.entries(e.fields ?? {})) {
        if (lost.includes(name)) continue;
        const b = r.base[name];
        if (!b || HLC.compare(e.hlc, b.hlc) >= 0) r.base[name] = { value, hlc: e.hlc };
      }
    }
    await tx.put('records', k, r);
  }

  /**
   * Removes an answered entry from the outbox and its pending marks.
   * @param {Tx} tx
   * @param {OutboxEntry} e
   * @internal
   */
  async settle(tx, e) {
    await tx.delete('outbox', seqKey(e.seq));
    const k = recKey(e.entity, e.id);
    /** @type {StoredRecord | undefined} */
    const r = await tx.get('records', k);
    if (!r) return;
    r.pending ??= {};
    for (const name of e.delete ? ['_delete'] : Object.keys(e.fields ?? {})) {
      if (r.pending[name] === e.hlc) delete r.pending[name];
    }
    await tx.put('records', k, r);
  }

  /**
   * Acts on a push answer in one transaction (sync.md §6, §7). Returns
   * whether the outbox shrank or was re-stamped (worth another batch).
   * @param {{seqs: number[], mutations: any[]}} batch
   * @param {{results: Array<{status: string, code?: string, message?: string, field?: string, lost_fields?: string[]}>, server_hlc?: string}} resp
   * @param {SyncTally} res
   * @returns {Promise<boolean>}
   * @internal
   */
  async applyResults(batch, resp, res) {
    const skewed = new Set();
    let settled = 0;
    await this.storage.transaction(['meta', 'records', 'outbox', 'batches', 'superseded'], 'readwrite', async (tx) => {
      for (let i = 0; i < batch.seqs.length; i++) {
        const result = resp.results[i];
        /** @type {OutboxEntry | undefined} */
        const e = await tx.get('outbox', seqKey(batch.seqs[i]));
        if (!e || !result) continue;
        const code = result.code ?? '';
        if (result.status === 'rejected') {
          if (code === 'clock_skew') {
            skewed.add(e.seq);
          } else if (code === 'not_found' && e.delete) {
            await this.settle(tx, e);
            settled++;
          } else if (code === 'unknown_reference' && (await parentPending(tx, e))) {
            // The parent is still in the outbox: retry after it is applied.
          } else if (!KEEP_CODES.has(code) || code === 'unknown_reference') {
            await this.reject(tx, e, code, result.message ?? '', res, result.field ?? '');
            settled++;
          }
          continue;
        }
        let lost = result.lost_fields ?? [];
        if (code === 'record_deleted' && lost.length === 0) lost = Object.keys(e.fields ?? {});
        if (result.status === 'applied' || result.status === 'duplicate') await this.applied(tx, e, lost);
        for (const field of lost) {
          if (!e.fields || !(field in e.fields)) continue;
          /** @type {Superseded} */
          const s = { key: `${e.entity}/${e.id}/${field}/${e.hlc}`, entity: e.entity, id: e.id, field, value: e.fields[field], hlc: e.hlc, by: null, code: code || result.status, at: this.now() };
          const cur = /** @type {StoredRecord | undefined} */ (await tx.get('records', recKey(e.entity, e.id)))?.fields[field];
          if (cur && HLC.compare(cur.hlc, e.hlc) > 0) s.by = HLC.tryParse(cur.hlc)?.node ?? null;
          // The user's own later value of the field stands (typed again
          // after this one): nothing of theirs is lost (verification
          // probe: a1 listed as overwritten while their a2 stood).
          if (s.by === this.deviceId) continue;
          await keepSuperseded(tx, s, res);
        }
        await this.settle(tx, e);
        settled++;
        res.pushed++;
      }
      await tx.delete('batches', 'pending');
      if (skewed.size > 0 && resp.server_hlc) {
        this.clock.correct(resp.server_hlc);
        await this.restamp(tx, skewed);
      }
      await this.putClock(tx);
    });
    return settled > 0 || skewed.size > 0;
  }

  /**
   * Re-stamps, in outbox order, the mutations refused for clock_skew and
   * every later one whose HLC is now in the future (sync.md §7).
   * @param {Tx} tx
   * @param {Set<number>} skewed
   * @internal
   */
  async restamp(tx, skewed) {
    const first = Math.min(...skewed);
    const pt = this.clock.physical();
    for (const [key, e] of await tx.all('outbox')) {
      if (e.seq < first) continue;
      if (!skewed.has(e.seq) && (HLC.tryParse(e.hlc)?.wall ?? 0) <= pt) continue;
      const old = e.hlc;
      e.hlc = this.clock.now().toString();
      await tx.put('outbox', key, e);
      const k = recKey(e.entity, e.id);
      /** @type {StoredRecord | undefined} */
      const r = await tx.get('records', k);
      if (!r) continue;
      for (const name of e.delete ? [] : Object.keys(e.fields ?? {})) {
        if (r.fields[name]?.hlc === old) r.fields[name].hlc = e.hlc;
        if (r.pending?.[name] === old) r.pending[name] = e.hlc;
      }
      if (e.delete && r.deleted === old) r.deleted = e.hlc;
      if (e.delete && r.pending?._delete === old) r.pending._delete = e.hlc;
      await tx.put('records', k, r);
    }
  }

  /**
   * Keeps in r.own each value of this device's (before) that a pulled
   * change replaced (taken) with another's newer write, the server's
   * decisions included: an inspection's submission the office approved.
   * A server restored from a backup made before both holds neither, and
   * afterResync sends the device's own value again.
   * @param {StoredRecord} r
   * @param {Record<string, {value: any, hlc: string}>} before
   * @param {string[]} taken
   * @internal
   */
  keepOwn(r, before, taken) {
    for (const field of taken) {
      const old = before[field];
      const now = r.fields[field];
      if (!old || !now || HLC.compare(now.hlc, old.hlc) <= 0 || HLC.tryParse(old.hlc)?.node !== this.deviceId) continue;
      if (HLC.compare(old.hlc, r.own?.[field]?.hlc ?? '') <= 0) continue;
      r.own ??= {};
      r.own[field] = { value: old.value, hlc: old.hlc };
    }
  }

  /**
   * The values this device wrote that a pulled change replaced with a
   * later write of another phone (not the server's own decisions): they
   * were applied, and then lost, so the inspector is told as for a push
   * answered stale.
   * @param {{entity: string, id: string}} ch
   * @param {Record<string, {value: any, hlc: string}>} before
   * @param {StoredRecord} after
   * @param {string[]} taken
   * @returns {Superseded[]}
   * @internal
   */
  overwritten(ch, before, after, taken) {
    /** @type {Superseded[]} */
    const out = [];
    for (const field of taken) {
      const old = before[field];
      const now = after.fields[field];
      if (!old || !now || old.hlc === now.hlc) continue;
      const mine = HLC.tryParse(old.hlc)?.node === this.deviceId;
      const by = HLC.tryParse(now.hlc)?.node ?? null;
      if (!mine || by === null || by === this.deviceId || by === SERVER_NODE) continue;
      if (canonicalJSON(old.value) === canonicalJSON(now.value)) continue;
      out.push({ key: `${ch.entity}/${ch.id}/${field}/${old.hlc}`, entity: ch.entity, id: ch.id, field, value: old.value, hlc: old.hlc, by, code: 'overwritten', at: this.now() });
    }
    return out;
  }

  /**
   * The values this device wrote after the time of a pulled deletion
   * (its HLC), which went with the record: applied, and then lost to the
   * delete, as a push answered record_deleted is (the other order of the
   * same two writes). Values written before it the deleting phone could
   * have seen, and those still to send (the push answers them), are not.
   * @param {{entity: string, id: string, deleted_hlc?: string}} ch
   * @param {Record<string, {value: any, hlc: string}>} before
   * @param {StoredRecord} r
   * @returns {Superseded[]}
   * @internal
   */
  lostToDelete(ch, before, r) {
    const del = ch.deleted_hlc ?? '';
    const by = HLC.tryParse(del)?.node ?? null;
    if (!del || by === this.deviceId) return [];
    /** @type {Superseded[]} */
    const out = [];
    for (const [field, f] of Object.entries(before)) {
      if (HLC.tryParse(f.hlc)?.node !== this.deviceId || r.pending?.[field] || HLC.compare(f.hlc, del) <= 0) continue;
      out.push({ key: `${ch.entity}/${ch.id}/${field}/${f.hlc}`, entity: ch.entity, id: ch.id, field, value: f.value, hlc: f.hlc, by, code: 'record_deleted', at: this.now() });
    }
    return out;
  }

  /**
   * Pulls every page from the stored cursor, merging each page and storing
   * the cursor in one transaction; on 410 starts again from the empty
   * cursor, keeping the outbox (sync.md §8). The next page is asked for
   * as soon as a page with has_more arrives, and is on its way while this
   * one is stored: a page's cursor is stored only with the page, so a
   * page fetched ahead and never stored (the sync ended) is simply asked
   * for again by the next sync.
   * @param {SyncTally} res
   * @param {(p: Progress) => void} onProgress
   * @internal
   */
  async pullAll(res, onProgress) {
    const stored = await this.storage.transaction('meta', 'readonly', async (tx) => ({
      cursor: (await tx.get('meta', 'cursor')) ?? '',
      resync: !!(await tx.get('meta', 'resync')),
    }));
    let cursor = stored.cursor;
    let resynced = false;
    /**
     * The records a pull from the start after a 410 brought. A sync that
     * stopped during that pull starts it again (meta resync): only a whole
     * pass tells what is no longer the user's.
     * @type {Set<string> | null}
     */
    let seen = null;
    if (stored.resync) {
      cursor = '';
      seen = new Set();
    }
    /** @param {string} c the page's cursor */
    const pagePath = (c) => {
      const q = new URLSearchParams({ limit: String(this.pageLimit) });
      if (this.pullForm === 'grouped') q.set('hlcs', 'grouped');
      else q.set('form', 'compact');
      if (c) q.set('cursor', c);
      return `${PATH.pull}?${q}`;
    };
    /** @type {{path: string, answer: Promise<any>} | null} the next page, asked for while this one is stored */
    let ahead = null;
    // Told before the first page and after each page stored: the last
    // time with every record pulled.
    onProgress({ phase: 'pull', done: res.pulled, total: 0, bytesDone: 0, bytesTotal: 0 });
    for (;;) {
      const path = pagePath(cursor);
      const answer = ahead?.path === path ? ahead.answer : this.patient('GET', path);
      ahead = null;
      let page;
      try {
        page = await answer;
      } catch (err) {
        // A cursor spoilt in storage (damaged, edited): pulling from the
        // start is always safe (sync.md §8.3), as after resync_required.
        const spoilt = err instanceof FieldsyncError && err.code === 'bad_request' && err.field === 'cursor' && cursor !== '';
        if (err instanceof FieldsyncError && err.code === 'bad_request' && !spoilt) {
          if (this.pullForm === 'compact') {
            // A server older than the compact form refuses the parameter:
            // ask this page, and the rest, in the grouped form.
            this.pullForm = 'grouped';
            continue;
          }
          this.pullForm = 'compact'; // refused for its own sake, not the form
        }
        if (err instanceof FieldsyncError && (err.code === 'resync_required' || spoilt) && !resynced) {
          resynced = true;
          seen = new Set();
          await this.storage.transaction('meta', 'readwrite', (tx) => tx.put('meta', 'resync', true));
          const me = await this.api('GET', PATH.me);
          if (me) await this.setAuth({ ...this.auth, user: me });
          cursor = '';
          continue;
        }
        throw err;
      }
      if (page.has_more && page.cursor) {
        const next = pagePath(page.cursor);
        ahead = { path: next, answer: this.patient('GET', next) };
        // Awaited, and its error handled, when its turn comes; if storing
        // this page fails first, it is dropped without an unhandled
        // rejection.
        ahead.answer.catch(() => {});
      }
      // A compact page (sync.md §8.4), or changes with grouped HLCs from a
      // server older than the compact form.
      const changes = page.records ? expandCompactPage(page) : (page.changes ?? []).map(expandChange);
      for (const ch of changes) {
        for (const h of Object.values(ch.hlcs ?? {})) if (h) this.clock.observe(h);
        if (ch.deleted_hlc) this.clock.observe(ch.deleted_hlc);
      }
      /** @type {Array<{entity: string, id: string}>} */
      const changed = [];
      await this.storage.transaction(['meta', 'records', 'uploads', 'superseded'], 'readwrite', async (tx) => {
        const open = (await tx.all('superseded')).filter(([, s]) => s.by === null);
        for (const ch of changes) {
          const k = recKey(ch.entity, ch.id);
          seen?.add(k);
          /** @type {StoredRecord} */
          const r = (await tx.get('records', k)) ?? { entity: ch.entity, id: ch.id, county: '', fields: {}, deleted: '', gone: false, pending: {} };
          const before = { ...r.fields };
          const wasGone = r.gone;
          const m = mergeChange(r, ch);
          this.keepOwn(r, before, m.taken);
          keepBase(r, ch, !!seen);
          const lost = this.overwritten(ch, before, r, m.taken);
          if (m.deleted && !wasGone) lost.push(...this.lostToDelete(ch, before, r));
          for (const s of lost) {
            if (await tx.get('superseded', s.key)) continue; // lost at push already (stale)
            await keepSuperseded(tx, s, res);
          }
          if (m.deleted) r.gone = true;
          else if (ch.county || !r.county) r.county = ch.county ?? '';
          await tx.put('records', k, r);
          changed.push({ entity: ch.entity, id: ch.id });
          for (const [sk, s] of open) {
            if (s.entity === ch.entity && s.id === ch.id && m.taken.includes(s.field) && HLC.compare(r.fields[s.field].hlc, s.hlc) > 0 &&
              (await tx.get('superseded', sk))) { // not one a later loss of the field replaced
              s.by = HLC.tryParse(r.fields[s.field].hlc)?.node ?? null;
              await tx.put('superseded', sk, s);
            }
          }
          if (ch.entity === 'photo' && ch.fields?.uploaded === true) {
            const job = await tx.get('uploads', ch.id);
            if (job && job.state !== 'done') await tx.put('uploads', ch.id, { ...job, state: 'done', offset: job.size });
          }
        }
        await tx.put('meta', 'cursor', page.cursor ?? cursor);
        await this.putClock(tx);
      });
      res.pulled += changes.length;
      onProgress({ phase: 'pull', done: res.pulled, total: 0, bytesDone: 0, bytesTotal: 0 });
      for (const c of changed) this.emit('change', c);
      cursor = page.cursor ?? cursor;
      if (!page.has_more) {
        if (seen) this.requeued += await this.afterResync(seen, res);
        return;
      }
    }
  }

  /**
   * After a pull from the start that a 410 asked for (the user's scope
   * changed, or the server's database was restored from a backup: sync.md
   * §8.3), puts right what the pull did not bring back:
   * - values this device wrote and the server had taken, that the server
   *   no longer has (a restore to a backup made before they were pushed):
   *   they go back into the outbox, at their own HLCs, in the order
   *   records refer to each other, and the photos whose originals are
   *   still here are uploaded again. Pushing them is safe whatever the
   *   server holds (a later write wins as always); they used to be
   *   forgotten, the phone showing work the office never got;
   * - values others wrote (another device, the office's review, the
   *   server) that the server no longer has: the server's state as the
   *   pull brought it replaces them (a field it lacks is removed, a
   *   deletion it lacks undone). The pull's merge kept them, their HLCs
   *   being newer than the restored server's, and the phone showed an
   *   approval the office must give again. Without a restore the phone
   *   holds nothing newer than the server of what others wrote, and
   *   nothing changes;
   * - records the pull did not bring that are outside the user's counties
   *   now, or were not this device's to send: dropped. A record with unsent
   *   changes, or a photo whose bytes are not sent, stays; its push gets
   *   out_of_scope and goes to the failed list, as any refusal.
   * A change refused before the 410 for what the restored server lacked
   * (unknown_reference, missing_field: a photo of an inspection made after
   * the backup, pushed before the phone learned of the restore) of a record
   * the server does not hold is taken off the failed list (and res's
   * rejected) and sent again with the rest, at its own HLC.
   * Returns how many changes went back into the outbox.
   * @param {Set<string>} seen
   * @param {SyncTally} [res]
   * @returns {Promise<number>}
   * @internal
   */
  async afterResync(seen, res) {
    /** @type {Array<{entity: string, id: string}>} */
    const dropped = [];
    /** @type {Array<{entity: string, id: string}>} */
    const reset = [];
    let requeued = 0;
    const user = this.auth.user;
    const inScope = (/** @type {string} */ county) =>
      !!county && (ALL_COUNTIES.has(user?.role ?? '') || (user?.counties ?? []).includes(county));
    const own = (/** @type {string} */ hlc) => HLC.tryParse(hlc)?.node === this.deviceId;
    await this.storage.transaction(['meta', 'records', 'outbox', 'batches', 'uploads', 'blobs'], 'readwrite', async (tx) => {
      await tx.delete('meta', 'resync');
      // A restored server may lack the capture keys registered after its
      // backup: registered again before the photos signed with them go.
      await registerAgain(tx);
      await this.unreject(tx, seen, own, inScope, res);
      const unsent = new Set((await tx.all('outbox')).map(([, e]) => recKey(e.entity, e.id)));
      const pending = await tx.get('batches', 'pending');
      for (const m of pending?.mutations ?? []) unsent.add(recKey(m.entity, m.id));
      /** @type {Array<{r: StoredRecord, hlc: string, fields?: Record<string, any>, delete?: boolean}>} */
      const lost = [];
      for (const [k, r] of /** @type {Array<[string, StoredRecord]>} */ (await tx.all('records'))) {
        const writable = DEVICE_ORDER.includes(r.entity) && inScope(r.county);
        // This device's values the server does not hold (as it answered the pull).
        /** @type {Map<string, Record<string, any>>} */
        const byHLC = new Map();
        // The server's state, as the pull from the start brought it: none
        // for a record it did not bring.
        const base = seen.has(k) ? (r.base ?? {}) : {};
        if (writable && this.ownAgain(r, base, seen.has(k), own)) {
          await tx.put('records', k, r);
          reset.push({ entity: r.entity, id: r.id });
        }
        if (writable) {
          for (const [name, f] of Object.entries(r.fields)) {
            if (!own(f.hlc) || r.pending?.[name] || HLC.compare(f.hlc, base[name]?.hlc ?? '') <= 0) continue;
            if (!byHLC.has(f.hlc)) byHLC.set(f.hlc, {});
            /** @type {Record<string, any>} */ (byHLC.get(f.hlc))[name] = f.value;
          }
        }
        if (!seen.has(k) && byHLC.size > 1) {
          // A record the server lacks is created by its earliest group: a
          // create must carry every required field, and one written again
          // later (a finding's description edited after it was made) is
          // in a later group only. The earliest carries it too, with its
          // current value; the later group follows at its own HLC and wins
          // in the same push, so the server ends with each value at its
          // own HLC. Only required fields move: a status sent earlier
          // than it was written (submitted) would lock the record against
          // the changes made before it.
          const first = /** @type {string} */ ([...byHLC.keys()].sort(HLC.compare)[0]);
          const create = /** @type {Record<string, any>} */ (byHLC.get(first));
          const required = /** @type {Record<string, string[]>} */ (REQUIRED)[r.entity] ?? [];
          for (const fields of byHLC.values()) {
            for (const name of required) if (name in fields && !(name in create)) create[name] = fields[name];
          }
        }
        const lostDelete = writable && r.gone && own(r.deleted) && !r.pending?._delete &&
          HLC.compare(r.deleted, seen.has(k) ? (r.baseDeleted ?? '') : '') > 0;
        if (seen.has(k) && this.takeServers(r, own)) {
          await tx.put('records', k, r);
          reset.push({ entity: r.entity, id: r.id });
        }
        // A photo of this device's the server holds without its bytes
        // (they came after the backup it was restored from): its bytes
        // are sent again if the phone still has them.
        if (writable && seen.has(k) && r.entity === 'photo' && !r.gone && own(r.fields.sha256?.hlc ?? '') && base.uploaded?.value !== true) {
          await sendAgain(tx, r.id);
        }
        if (byHLC.size === 0 && !lostDelete) {
          if (seen.has(k) || unsent.has(k)) continue;
          if (r.entity === 'photo') {
            const job = await tx.get('uploads', r.id);
            if (job && job.state !== 'done') continue;
            await tx.delete('uploads', r.id);
            await tx.delete('blobs', r.id);
            await tx.delete('blobs', THUMB + r.id);
          }
          await tx.delete('records', k);
          dropped.push({ entity: r.entity, id: r.id });
          continue;
        }
        for (const [hlc, fields] of byHLC) lost.push({ r, hlc, fields });
        if (lostDelete) lost.push({ r, hlc: r.deleted, delete: true });
      }
      // References first (an inspection before its findings and photos),
      // then as they were written.
      lost.sort((a, b) => DEVICE_ORDER.indexOf(a.r.entity) - DEVICE_ORDER.indexOf(b.r.entity) || HLC.compare(a.hlc, b.hlc));
      let seq = (await tx.get('meta', 'seq')) ?? 0;
      for (const l of lost) {
        seq++;
        /** @type {OutboxEntry} */
        const e = l.delete ? { seq, entity: l.r.entity, id: l.r.id, hlc: l.hlc, delete: true } : { seq, entity: l.r.entity, id: l.r.id, hlc: l.hlc, fields: l.fields };
        await tx.put('outbox', seqKey(seq), e);
        l.r.pending ??= {};
        if (l.delete) l.r.pending._delete = l.hlc;
        else for (const name of Object.keys(l.fields ?? {})) l.r.pending[name] = l.hlc;
        await tx.put('records', recKey(l.r.entity, l.r.id), l.r);
        requeued++;
        // Its bytes, sent before the restore, are sent again if the phone still has them.
        if (l.r.entity === 'photo' && l.fields?.sha256) await sendAgain(tx, l.r.id);
      }
      await tx.put('meta', 'seq', seq);
    });
    for (const c of [...reset, ...dropped]) this.emit('change', c);
    return requeued;
  }

  /**
   * Puts back on their records, at their own HLC, the changes of this
   * device refused for what a restored server lacked — unknown_reference
   * (its parent was pushed after the backup) and missing_field (an edit
   * of a record made after it) — of records the pull from the start did
   * not bring (seen), and takes them off the failed list and res's
   * rejected: afterResync then sends them again with the rest, references
   * first. A refusal that was not the restore's comes back as it was; one
   * of a record outside the user's counties (inScope) is left as it is:
   * its county was taken away (out_of_scope, and its dependents refused
   * for want of it), which reapply() makes good once it is back.
   * @param {Tx} tx
   * @param {Set<string>} seen
   * @param {(hlc: string) => boolean} own
   * @param {(county: string) => boolean} inScope
   * @param {SyncTally} [res]
   * @internal
   */
  async unreject(tx, seen, own, inScope, res) {
    /** @type {RejectedEntry[]} */
    const list = (await tx.get('meta', 'rejected')) ?? [];
    /** @type {RejectedEntry[]} */
    const back = [];
    for (const x of list) {
      if (!RESTORE_REFUSALS.has(x.code) || x.delete || !x.fields || !x.hlc || !own(x.hlc) || seen.has(recKey(x.entity, x.id))) continue;
      /** @type {StoredRecord} */
      const r = (await tx.get('records', recKey(x.entity, x.id))) ?? { entity: x.entity, id: x.id, county: '', fields: {}, deleted: '', gone: false, pending: {}, base: {} };
      for (const [name, value] of Object.entries(x.fields)) {
        if (HLC.compare(r.fields[name]?.hlc ?? '', x.hlc) < 0) r.fields[name] = { value, hlc: x.hlc };
      }
      if (!r.county) r.county = await countyOf(tx, x.entity, r);
      if (!inScope(r.county)) continue;
      await tx.put('records', recKey(x.entity, x.id), r);
      back.push(x);
    }
    if (!back.length) return;
    await tx.put('meta', 'rejected', list.filter((x) => !back.includes(x)));
    if (res) res.rejected = res.rejected.filter((x) => !back.some((b) => b.entity === x.entity && b.id === x.id && b.code === x.code));
  }

  /**
   * Makes r, after a pull from the start, what the restored server holds
   * of it (base) and this device's own writes the server lacks: a value
   * of this device's that another's newer write replaced (r.own) comes
   * back when the server holds neither — the office's approval of a
   * submission made after the backup, lost with it, leaves the submission
   * to send again, not the approval on the phone and a draft on the
   * server — and of a record the server does not hold at all (seen
   * false) the values the server itself wrote (an office's review), and
   * its deletion, are removed: they are gone with the server's state,
   * where another phone's may come back from it. Fields waiting to be
   * sent are left as they are. Returns whether r changed.
   * @param {StoredRecord} r
   * @param {Record<string, {value: any, hlc: string}>} base
   * @param {boolean} seen
   * @param {(hlc: string) => boolean} own
   * @internal
   */
  ownAgain(r, base, seen, own) {
    let changed = false;
    for (const [name, o] of Object.entries(r.own ?? {})) {
      const f = r.fields[name];
      if (f && own(f.hlc) && HLC.compare(f.hlc, o.hlc) >= 0) continue;
      if (r.pending?.[name] || HLC.compare(o.hlc, base[name]?.hlc ?? '') <= 0) continue;
      r.fields[name] = { value: o.value, hlc: o.hlc };
      changed = true;
    }
    if (seen) return changed;
    const server = (/** @type {string} */ hlc) => HLC.tryParse(hlc)?.node === SERVER_NODE;
    for (const [name, f] of Object.entries(r.fields)) {
      if (server(f.hlc) && !r.pending?.[name]) {
        delete r.fields[name];
        changed = true;
      }
    }
    if (r.gone && server(r.deleted) && !r.pending?._delete) {
      r.deleted = '';
      r.gone = false;
      changed = true;
    }
    return changed;
  }

  /**
   * Gives r, which a pull from the start brought, the server's state (its
   * base) of every value not this device's and not waiting to be sent:
   * what others wrote that the server no longer has (a restored backup)
   * is replaced by what it has, a field it lacks removed and a deletion
   * it lacks undone. Returns whether anything changed.
   * @param {StoredRecord} r
   * @param {(hlc: string) => boolean} own
   * @internal
   */
  takeServers(r, own) {
    const base = r.base ?? {};
    let changed = false;
    for (const [name, f] of Object.entries(r.fields)) {
      if (own(f.hlc) || r.pending?.[name]) continue;
      const b = base[name];
      if (!b) {
        delete r.fields[name];
        changed = true;
      } else if (b.hlc !== f.hlc) {
        r.fields[name] = { ...b };
        changed = true;
      }
    }
    if (r.gone && !own(r.deleted) && !r.pending?._delete && HLC.compare(r.deleted, r.baseDeleted ?? '') > 0) {
      r.deleted = r.baseDeleted ?? '';
      r.gone = r.deleted !== '';
      changed = true;
    }
    return changed;
  }
}

/** The entities a device writes, references before the records that use them. */
const DEVICE_ORDER = ['site', 'inspection', 'finding', 'vehicle_check', 'photo'];
/** Roles that see every county (the server's Role.AllCounties). */
const ALL_COUNTIES = new Set(['admin', 'city_office']);

/**
 * A username as the server matches it at sign-in: full-width letters as
 * ASCII (a Chinese keyboard in full-width mode), without the spaces around
 * it, in any (ASCII) letter case.
 * @param {string} name
 */
const foldUsername = (name) =>
  name
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .trim()
    .toLowerCase();

/**
 * @param {StoredRecord} r
 * @returns {Rec}
 */
function toRec(r) {
  /** @type {Record<string, any>} */
  const fields = {};
  /** @type {Record<string, string>} */
  const hlcs = {};
  for (const [k, v] of Object.entries(r.fields)) {
    fields[k] = v.value;
    hlcs[k] = v.hlc;
  }
  return { entity: r.entity, id: r.id, county: r.county, fields, hlcs, deleted: !!r.gone, pending: Object.keys(r.pending ?? {}).filter((k) => k !== '_delete') };
}

/**
 * Adds a session to those owed the server's logout (settleSessions), in tx.
 * @param {Tx} tx
 * @param {{access: string, refresh: string}} session
 */
async function oweSession(tx, session) {
  if (!session.access && !session.refresh) return;
  /** @type {Array<{access: string, refresh: string}>} */
  const owed = (await tx.get('meta', 'sessionsOwed')) ?? [];
  if (owed.some((o) => o.refresh === session.refresh && o.access === session.access)) return;
  await tx.put('meta', 'sessionsOwed', [...owed, { access: session.access, refresh: session.refresh }]);
}

/**
 * What stopped a sync, as its result's error: a FieldsyncError as it is,
 * anything else (a bug, a storage's own error) as internal.
 * @param {unknown} err
 * @returns {FieldsyncError}
 */
function asSyncError(err) {
  return err instanceof FieldsyncError ? err : new FieldsyncError('internal', { message: String(err), cause: err });
}

/** A record id as the server takes it: a UUID in lower case, not the nil or max one. */
const RECORD_ID = /^(?!00000000-0000-0000-0000-000000000000$)(?!ffffffff-ffff-ffff-ffff-ffffffffffff$)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Refuses, at save, an id the server would refuse at sync (invalid_id):
 * there the change would only fail, after the app had shown it saved.
 * @param {string} id
 */
function checkID(id) {
  if (typeof id !== 'string' || !RECORD_ID.test(id)) {
    throw new FieldsyncError('invalid_id', { message: '记录 id 应为小写 UUID（如 uuidv7() 所生成）', details: { id } });
  }
}

/**
 * Refuses writes a device may never make (sync.md §13), and values that
 * cannot be sent as JSON.
 * @param {string} entity
 * @param {Record<string, any>} fields
 */
function checkWritable(entity, fields) {
  checkEntity(entity);
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new FieldsyncError('unencodable_value', { message: 'save() 的 fields 应为对象（应用程序错误）', details: { entity, value: fields === null ? 'null' : Array.isArray(fields) ? 'array' : typeof fields } });
  }
  const owned = [...(/** @type {Record<string, string[]>} */ (SERVER_OWNED)[entity] ?? []), 'created_by', 'received_at'];
  for (const name of Object.keys(fields)) {
    // The server's code for the same refusal (SDK probe: two codes for one thing).
    if (owned.includes(name)) throw new FieldsyncError('server_owned_field', { field: name, details: { entity, field: name } });
  }
  for (const [name, value] of Object.entries(fields)) {
    const kind = unencodable(value, new Set());
    if (kind) throw new FieldsyncError('unencodable_value', { field: name, message: unencodableMessage(name, kind), details: { entity, field: name, value: kind } });
  }
  // Text the server would refuse (an invisible control character or
  // direction override, pasted from a chat), and the record with it: the
  // form can still say so and take it out (cleanText).
  for (const [name, value] of Object.entries(fields)) {
    const char = hiddenIn(value);
    if (char) {
      throw new FieldsyncError('invalid_field', {
        field: name,
        message: `“${name}”含有看不见的控制字符（${char}，多为从聊天或网页粘贴而来），服务器不接受；请删去后再保存`,
        details: { entity, field: name, char },
      });
    }
  }
}

/**
 * followContentType makes a photo's corrected content_type its upload
 * job's too, queued again from the start: the server refuses bytes of
 * another type than declared (bad_image), sync.md §10.4 says to correct
 * the record and upload again, and a job left with the old type was
 * refused for good (invalid_upload) — discarding it lost the photo (SDK
 * probe). A done upload is left alone.
 * @param {Tx} tx a readwrite transaction on uploads
 * @param {string} id
 * @param {string} contentType
 */
async function followContentType(tx, id, contentType) {
  /** @type {import('./upload.js').UploadJob | undefined} */
  const j = await tx.get('uploads', id);
  if (!j || j.state === 'done' || j.contentType === contentType) return;
  await tx.put('uploads', id, { ...j, contentType, offset: 0, url: null, state: 'queued', error: null });
}

/**
 * underDeleted says whether r is a finding whose inspection is deleted
 * here (sync.md §8.2: such a finding stays a live record on the server,
 * locked, and is hidden). deleted caches the answer by inspection id.
 * @param {Tx} tx
 * @param {StoredRecord} r
 * @param {Map<string, boolean>} deleted
 */
async function underDeleted(tx, r, deleted) {
  const insp = r.entity === 'finding' ? r.fields.inspection_id?.value : null;
  if (typeof insp !== 'string') return false;
  let gone = deleted.get(insp);
  if (gone === undefined) {
    /** @type {StoredRecord | undefined} */
    const i = await tx.get('records', recKey('inspection', insp));
    gone = !!i?.gone;
    deleted.set(insp, gone);
  }
  return gone;
}

/**
 * liveFindingsOf gives the ids of the live findings of inspection id.
 * @param {Tx} tx
 * @param {string} id
 * @returns {Promise<string[]>}
 */
async function liveFindingsOf(tx, id) {
  const prefix = 'finding/';
  /** @type {string[]} */
  const out = [];
  for (const [k, r] of await tx.all('records', prefix)) {
    if (k.startsWith(prefix) && !r.gone && r.fields.inspection_id?.value === id) out.push(r.id);
  }
  return out;
}

/**
 * checkKnown refuses a name of no entity (a typo: list('sites')), which
 * would read as nothing at all (unknown_entity).
 * @param {string} entity
 */
function checkKnown(entity) {
  if (!READ_ONLY.has(entity) && !WRITABLE.has(entity)) throw new FieldsyncError('unknown_entity', { details: { entity } });
}

/**
 * Refuses a write to an entity a device only reads (read_only_entity) or
 * that does not exist (unknown_entity: refused here, not after the app
 * showed it saved).
 * @param {string} entity
 */
function checkEntity(entity) {
  if (READ_ONLY.has(entity)) throw new FieldsyncError('read_only_entity', { details: { entity } });
  checkKnown(entity);
}

/**
 * What unencodable found, said by the field's name (SDK probe: a Date was
 * said to be NaN or infinity).
 * @param {string} name
 * @param {string} kind
 */
function unencodableMessage(name, kind) {
  switch (kind) {
    case 'NaN':
    case 'Infinity':
    case '-Infinity':
      return `“${name}”的值是 ${kind}，不是有效的数字，无法保存（应用程序错误）`;
    case 'Date':
      return `“${name}”的值是 Date 对象，不能直接保存：请先转换为文本，如 date.toISOString()（应用程序错误）`;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return `“${name}”含有 ${kind} 类型的值，无法保存为 JSON（应用程序错误）`;
    case 'cycle':
      return `“${name}”的值引用了自身（循环引用），无法保存为 JSON（应用程序错误）`;
  }
  return `“${name}”的值是 ${kind} 对象，不能直接保存：请先转换为普通对象、数组或文本（应用程序错误）`;
}

/**
 * What in v JSON cannot carry as it is ('' if nothing): a BigInt (the
 * push's JSON.stringify throws), NaN or ±Infinity (sent as null), a
 * function or symbol (dropped), a cycle, undefined inside an object or
 * array (dropped, or null), an object other than a plain one or an array
 * (a Date, Map, Set, typed array: JSON changes it; named by its class). Refused at save, such a value
 * never reaches the outbox, where it would hold every later push.
 * @param {unknown} v
 * @param {Set<object>} path the objects v is inside of
 * @returns {string}
 */
function unencodable(v, path) {
  switch (typeof v) {
    case 'bigint':
    case 'function':
    case 'symbol':
      return typeof v;
    case 'number':
      return Number.isFinite(v) ? '' : String(v);
    case 'object': {
      if (v === null) return '';
      if (path.has(v)) return 'cycle';
      // A Date, Map, Set, typed array, RegExp … is changed by JSON (a Map
      // becomes {}, a Date a string): the app converts it first.
      const proto = Object.getPrototypeOf(v);
      if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return proto?.constructor?.name || 'object';
      path.add(v);
      for (const x of Object.values(v)) {
        // Dropped from an object, null in an array.
        if (x === undefined) return 'undefined';
        const kind = unencodable(x, path);
        if (kind) return kind;
      }
      path.delete(v);
      return '';
    }
    default:
      return '';
  }
}

/**
 * The county of a record made on the phone: its own county field, or its
 * parent's (an inspection's site, a finding's or photo's inspection).
 * @param {Tx} tx
 * @param {string} entity
 * @param {StoredRecord} r
 * @returns {Promise<string>}
 */
async function countyOf(tx, entity, r) {
  const v = (/** @type {string} */ name) => r.fields[name]?.value;
  if (typeof v('county') === 'string' && (entity === 'site' || entity === 'vehicle_check')) return v('county');
  const parents = [['site_id', 'site'], ['inspection_id', 'inspection'], ['finding_id', 'finding'], ['vehicle_check_id', 'vehicle_check']];
  for (const [field, ent] of parents) {
    const id = v(field);
    if (typeof id !== 'string') continue;
    const p = await tx.get('records', recKey(ent, id));
    if (p?.county) return p.county;
  }
  return '';
}

/**
 * Records a pulled change as the server's state in r.base (the whole
 * record: a change carries every field), whatever the merge kept locally.
 * @param {StoredRecord} r
 * @param {import('./merge.js').Change} ch expanded (hlcs per field)
 */
function keepBase(r, ch, exact = false) {
  r.base ??= {};
  if (exact) {
    // A pull from the start: the server's state as it is now, which may
    // be older than what this phone learnt of it (a restored backup).
    r.base = {};
    delete r.baseDeleted;
  }
  if (ch.deleted) {
    const h = ch.deleted_hlc ?? '';
    if (HLC.compare(h, r.baseDeleted ?? '') > 0) r.baseDeleted = h;
    return;
  }
  const hlcs = ch.hlcs ?? {};
  for (const [name, value] of Object.entries(ch.fields ?? {})) {
    const h = hlcs[name] ?? '';
    const b = r.base[name];
    if (!b || HLC.compare(h, b.hlc) >= 0) r.base[name] = { value, hlc: h };
  }
}

/**
 * Queues photo id's bytes to be sent again (from the first byte) if its
 * upload was done and the phone still has the original: a record the
 * server did not take when the bytes came (refused, or lost to a restored
 * backup) needs them sent again once it takes it.
 * @param {Tx} tx a transaction over uploads and blobs
 * @param {string} id
 */
async function sendAgain(tx, id) {
  const job = await tx.get('uploads', id);
  if (job?.state === 'done' && (await tx.get('blobs', id))) await tx.put('uploads', id, { ...job, state: 'queued', offset: 0, url: null, error: null });
}

/**
 * The key of a failed-list entry: its record and HLC (one mutation).
 * @param {{entity: string, id: string, hlc: string}} e
 */
export const rejectedKey = (e) => `${e.entity}/${e.id}/${e.hlc}`;

/** Refusals a restored server gives a change of a record made after its
 *  backup, before the phone learns of the restore (afterResync). */
const RESTORE_REFUSALS = new Set(['unknown_reference', 'missing_field']);

/** The Chinese names of the records a photo or finding belongs to, for messages. */
const ENTITY_NAMES = { site: '点位', inspection: '检查记录', finding: '问题', vehicle_check: '路检记录' };

/** Fields that name a record this one belongs to, and its entity. */
const PARENT_FIELDS = [['site_id', 'site'], ['inspection_id', 'inspection'], ['finding_id', 'finding'], ['vehicle_check_id', 'vehicle_check']];

/**
 * For a mutation refused with unknown_reference (its parent still in the
 * outbox is kept, not refused): the record it refers to and what became of
 * it here — deleted (a tombstone was pulled), rejected (its own create is
 * in the failed list), or missing (neither: deleted on the server and not
 * pulled yet, or never sent).
 * @param {Tx} tx
 * @param {OutboxEntry} e
 * @param {RejectedEntry[]} list the failed list so far
 * @returns {Promise<MissingParent | null>}
 */
async function missingParent(tx, e, list) {
  /** @type {StoredRecord | undefined} */
  const own = await tx.get('records', recKey(e.entity, e.id));
  /** @type {MissingParent | null} */
  let found = null;
  let rank = 0;
  for (const [field, entity] of PARENT_FIELDS) {
    const id = e.fields?.[field] ?? own?.base?.[field]?.value ?? own?.fields?.[field]?.value;
    if (typeof id !== 'string') continue;
    /** @type {StoredRecord | undefined} */
    const p = await tx.get('records', recKey(entity, id));
    /** @type {[MissingParent['state'], number]} */
    let [state, r] = ['missing', 2];
    if (p?.gone || p?.baseDeleted) [state, r] = ['deleted', 3];
    else if (list.some((x) => x.entity === entity && x.id === id)) [state, r] = ['rejected', 3];
    // The server had it, and now does not know it: deleted there since.
    else if (p?.base && Object.keys(p.base).length > 0) [state, r] = ['deleted', 1];
    if (r > rank) [found, rank] = [{ entity, id, state }, r];
  }
  return found;
}

/**
 * Whether a record this entry refers to still has unsent changes (in
 * the outbox, made before or after it: a batch cut at BATCH_MAX may have
 * left a parent saved after its child for the next one).
 * @param {Tx} tx
 * @param {OutboxEntry} e
 */
async function parentPending(tx, e) {
  const refs = PARENT_FIELDS
    .map(([f, entity]) => [entity, e.fields?.[f]])
    .filter(([, x]) => typeof x === 'string');
  if (refs.length === 0) {
    const r = await tx.get('records', recKey(e.entity, e.id));
    for (const [f, entity] of PARENT_FIELDS) {
      const x = r?.fields?.[f]?.value;
      if (typeof x === 'string') refs.push([entity, x]);
    }
  }
  for (const [, o] of await tx.all('outbox')) {
    if (o.seq !== e.seq && refs.some(([entity, id]) => o.entity === entity && o.id === id)) return true;
  }
  return false;
}

/**
 * The records fields refer to (PARENT_FIELDS), as {field, entity, id}.
 * @param {Record<string, any> | undefined} fields
 */
function parentsIn(fields) {
  return PARENT_FIELDS.filter(([f]) => typeof fields?.[f] === 'string').map(([field, entity]) => ({ field, entity, id: /** @type {string} */ (fields?.[field]) }));
}

/**
 * The id of a live photo on the phone of the same file (sha256) and the
 * same record (the parent fields of fields, and item_key): the photo
 * taken again, or null.
 * @param {Tx} tx
 * @param {string} sha256
 * @param {Record<string, any>} fields
 * @returns {Promise<string | null>}
 */
async function samePhoto(tx, sha256, fields) {
  const keys = [...PARENT_FIELDS.map(([f]) => f), 'item_key'];
  for (const [k, r] of await tx.all('records', 'photo/')) {
    if (!k.startsWith('photo/') || r.gone || r.fields?.sha256?.value !== sha256) continue;
    if (keys.every((f) => (r.fields?.[f]?.value ?? null) === (fields[f] ?? null))) return r.id;
  }
  return null;
}

/**
 * The first record fields refer to that the phone does not have live —
 * none of its records, pulled or saved here (a record saved here is
 * stored with its outbox entry), or one deleted (deleted: true; a finding
 * of a deleted inspection too, as get() has neither) — or null. A change
 * referring to it would be refused at sync (unknown_reference), after the
 * app showed it saved.
 * @param {Tx} tx
 * @param {Record<string, any>} fields
 * @returns {Promise<{field: string, entity: string, id: string, deleted: boolean} | null>}
 */
async function unknownParent(tx, fields) {
  for (const p of parentsIn(fields)) {
    /** @type {StoredRecord | undefined} */
    const r = await tx.get('records', recKey(p.entity, p.id));
    if (!r) return { ...p, deleted: false };
    if (r.gone || (await underDeleted(tx, r, new Map()))) return { ...p, deleted: true };
  }
  return null;
}

/**
 * A push batch's entries (in outbox order) ordered so that no change goes
 * before the record it refers to when the server does not have that
 * record yet (a photo taken, or a finding saved, before its inspection's
 * first save reached the outbox): the server checks references in batch
 * order, and would refuse the child (unknown_reference). Otherwise the
 * outbox order stays — a record's own changes keep their order, and a
 * child is not moved behind its parent's later edits (a status
 * "submitted" would lock the inspection against it): each entry waits
 * only for its record's previous entry and for the first entry of each
 * parent the server lacks, and of the entries ready the earliest goes
 * first.
 * @param {Tx} tx
 * @param {OutboxEntry[]} entries
 * @returns {Promise<OutboxEntry[]>}
 */
async function parentsFirst(tx, entries) {
  /** @type {Map<string, number>} the first entry of each record in the batch */
  const first = new Map();
  entries.forEach((e, i) => {
    if (!first.has(recKey(e.entity, e.id))) first.set(recKey(e.entity, e.id), i);
  });
  /** @type {Map<string, boolean>} whether the server lacks a record (made here, never applied) */
  const lacking = new Map();
  /** @type {number[][]} the entries each one waits for */
  const after = entries.map(() => []);
  /** @type {Map<string, number>} */
  const last = new Map();
  let moved = false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const k = recKey(e.entity, e.id);
    const prev = last.get(k);
    if (prev !== undefined) after[i].push(prev);
    last.set(k, i);
    for (const p of parentsIn(e.fields)) {
      const pk = recKey(p.entity, p.id);
      const j = first.get(pk);
      // Also a parent whose first entry is earlier: it may be moved later (waiting for its own parent).
      if (j === undefined || j === i || pk === k) continue;
      if (!lacking.has(pk)) {
        /** @type {StoredRecord | undefined} */
        const r = await tx.get('records', pk);
        lacking.set(pk, !!r?.base && Object.keys(r.base).length === 0 && !r.baseDeleted);
      }
      if (lacking.get(pk)) {
        after[i].push(j);
        if (j > i) moved = true;
      }
    }
  }
  if (!moved) return entries;
  /** @type {OutboxEntry[]} */
  const out = [];
  const done = new Array(entries.length).fill(false);
  while (out.length < entries.length) {
    let next = -1;
    for (let i = 0; i < entries.length && next < 0; i++) {
      if (!done[i] && after[i].every((j) => done[j])) next = i;
    }
    // A cycle (records that refer to each other): outbox order.
    if (next < 0) next = done.indexOf(false);
    done[next] = true;
    out.push(entries[next]);
  }
  return out;
}

/**
 * Whether the server has, or will make, a thumbnail of the photo record
 * rec (a stored record): its bytes are uploaded, and it is not a HEIC or
 * an unreadable file, which have none (sync.md §10.8).
 * @param {any} rec
 * @returns {boolean}
 */
function thumbnailExpected(rec) {
  const f = rec?.fields ?? {};
  if (f.uploaded?.value !== true || f.content_type?.value === 'image/heic') return false;
  const flags = f.flags?.value;
  return !(flags && typeof flags === 'object' && 'unreadable' in flags);
}

/** Causes of a failed request that mean it never reached the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

/**
 * Whether a network error certainly left the request unsent: the browser
 * says it is offline, or the connection was never made (Node's fetch
 * gives the system error as its cause's cause).
 * @param {FieldsyncError} err
 * @returns {boolean}
 */
export function neverSent(err) {
  if (/** @type {any} */ (globalThis).navigator?.onLine === false) return true;
  for (let c = /** @type {any} */ (err).cause, i = 0; c && i < 4; c = c.cause, i++) {
    if (NOT_SENT.has(c.code) || c.errors?.some?.((/** @type {any} */ e) => NOT_SENT.has(e?.code))) return true;
  }
  return false;
}

/**
 * What a client has read of the outbox: its keys in order, and of its
 * entries the count by record (entity/id) and of deletes by record.
 * @typedef {{keys: string[], records: Map<string, number>, deletes: Map<string, number>}} OutboxSeen
 */

/** @returns {OutboxSeen} */
function emptyOutboxSeen() {
  return { keys: [], records: new Map(), deletes: new Map() };
}

/**
 * storage with every transaction checked to be on the storage of device
 * id(): another client of the same storage (a tab) that signed in as
 * another user gave it a new device id and reset it, and this client's
 * reads and writes would mix the two users' data (storage_changed: the
 * app opens the client again). A storage out of space is storage_full.
 * @param {Storage} storage
 * @param {() => string} id
 * @returns {Storage}
 */
function owned(storage, id) {
  return {
    get name() {
      return storage.name;
    },
    close: () => storage.close(),
    compact: async () => {
      await storage.compact?.();
    },
    transaction(stores, mode, fn) {
      const names = Array.isArray(stores) ? stores : [stores];
      /** @type {import('./storage/storage.js').StoreName[]} */
      const all = names.includes('meta') ? names : [...names, 'meta'];
      return storage
        .transaction(all, mode, async (tx) => {
          const device = await tx.get('meta', 'device');
          if (device?.id !== id()) throw new FieldsyncError('storage_changed', { details: { deviceId: device?.id ?? null } });
          return fn(tx);
        })
        .catch((err) => {
          throw storageError(err);
        });
    },
  };
}

/**
 * err as the app is told it: a storage that is full (a disk's ENOSPC,
 * IndexedDB's QuotaExceededError) is storage_full; anything else as it is.
 * @param {unknown} err
 */
function storageError(err) {
  if (err instanceof FieldsyncError) return err;
  const e = /** @type {{code?: string, name?: string}} */ (err ?? {});
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.name === 'QuotaExceededError') return new FieldsyncError('storage_full', { cause: err });
  return err;
}
