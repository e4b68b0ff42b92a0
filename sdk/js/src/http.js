// HTTP for the client: JSON requests with the access token, observing the
// server's HLC on every answer, errors as FieldsyncError (sync.md §11).

import { FieldsyncError, messageFor } from './errors.js';

/**
 * @typedef {object} Transport
 * @property {string} baseURL
 * @property {typeof fetch} fetch
 * @property {(h: string) => void} observe called with every server HLC seen
 * @property {() => number} [now] the device clock (ms), read around each request
 * @property {(serverMs: number, deviceMs: number) => void} [calibrate] called with the
 *   server's time by an answer's Date header and the device's time then
 * @property {number} [timeout] ms a request may take, answer read included,
 *   before it is given up as "network" (details.timeout); 0 or absent: no limit
 */

/**
 * Sends one JSON request and returns the decoded answer (null for 204).
 * Throws FieldsyncError: code "network" when no answer came,
 * "unencodable_value" (nothing sent) when the body cannot be JSON.
 * @param {Transport} t
 * @param {string} method
 * @param {string} path
 * @param {{body?: any, token?: string}} [opts]
 * @returns {Promise<any>}
 */
export async function requestJSON(t, method, path, opts = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  // Encoded before the request: a body JSON cannot carry is the app's
  // error, not the network's, and sending it again will not help.
  let body;
  try {
    body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  } catch (err) {
    throw new FieldsyncError('unencodable_value', { cause: err });
  }
  return withDeadline(t, async (signal) => {
    const resp = await send(t, method, path, headers, body, signal, true);
    const text = await readText(resp);
    const data = parseJSON(text);
    if (data && typeof data.server_hlc === 'string') t.observe(data.server_hlc);
    if (resp.status >= 300) throw errorFromResponse(resp.status, data, resp.headers.get('Retry-After'), resp.headers.get('Date'));
    if (resp.status !== 204 && !isServerAnswer(path, data)) {
      // A network that answers for the server (a hotel's or a public
      // Wi-Fi's sign-in page, a proxy): nothing reached the server; try
      // again later, as for no network.
      throw new FieldsyncError('network', { message: NOT_THE_SERVER, details: { status: resp.status } });
    }
    return data;
  });
}

/** What a network answering in the server's stead is said to be. */
const NOT_THE_SERVER = '收到的回应不是服务器发来的（网络可能需要先登录，如酒店或公共 Wi-Fi），数据已保存在手机上，请稍后再同步';

/** The member each of these answers has, by the path's beginning. */
const ANSWER_MEMBERS = [
  ['/api/v1/auth/login', 'access_token'],
  ['/api/v1/auth/refresh', 'access_token'],
  ['/api/v1/sync/push', 'results'],
  ['/api/v1/sync/pull', 'has_more'],
];

/**
 * Whether data, a successful answer to path, is one the server makes: a
 * JSON object, with the member its path's answers have.
 * @param {string} path
 * @param {any} data
 */
function isServerAnswer(path, data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const m = ANSWER_MEMBERS.find(([p]) => path.startsWith(p));
  return !m || m[1] in data;
}

/**
 * Runs one request (fn, given the signal to pass to fetch) within the
 * transport's timeout: past it the request is aborted and fn's promise
 * settled with a "network" error whose details say timeout — whether the
 * answer's headers or its body stalled, and whether or not the fetch
 * honours the signal. A stalled connection (a phone between cells, a
 * proxy that holds the request) would otherwise hold a sync, and a
 * sign-out waiting for it, for as long as the operating system keeps the
 * socket: minutes to hours.
 * @template T
 * @param {Transport} t
 * @param {(signal: AbortSignal | undefined) => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function withDeadline(t, fn) {
  const ms = t.timeout ?? 0;
  if (!(ms > 0) || !Number.isFinite(ms)) return fn(undefined);
  const ctl = new AbortController();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const err = new FieldsyncError('network', {
        details: { timeout: ms },
        message: `服务器超过 ${Math.round(ms / 1000)} 秒没有响应，请稍后再试；数据保存在设备上`,
      });
      ctl.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(ctl.signal), /** @type {Promise<never>} */ (expired)]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Fetches path's bytes with GET (a photo's thumbnail, say) and returns
 * them with their Content-Type. Errors as requestJSON's.
 * @param {Transport} t
 * @param {string} path
 * @param {{token?: string}} [opts]
 * @returns {Promise<{bytes: Uint8Array, contentType: string}>}
 */
export async function requestBytes(t, path, opts = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  return withDeadline(t, async (signal) => {
    const resp = await send(t, 'GET', path, headers, undefined, signal);
    if (resp.status >= 300) {
      throw errorFromResponse(resp.status, parseJSON(await readText(resp)), resp.headers.get('Retry-After'), resp.headers.get('Date'));
    }
    let buf;
    try {
      buf = await resp.arrayBuffer();
    } catch (err) {
      throw new FieldsyncError('network', { cause: err });
    }
    return { bytes: new Uint8Array(buf), contentType: resp.headers.get('Content-Type') ?? '' };
  });
}

/**
 * Sends one request and observes the server's HLC header of its answer.
 * @param {Transport} t
 * @param {string} method
 * @param {string} path
 * @param {Record<string, string>} headers
 * @param {string | undefined} body
 * @param {AbortSignal | undefined} signal
 * @param {boolean} [calibrate] whether the answer's Date may correct the clock
 * @returns {Promise<Response>}
 */
async function send(t, method, path, headers, body, signal, calibrate = false) {
  let sent = t.now?.();
  let resp;
  for (let again = idempotent.has(method); ; again = false) {
    try {
      resp = await t.fetch(t.baseURL + path, signal ? { method, headers, body, signal } : { method, headers, body });
      break;
    } catch (err) {
      if (signal?.aborted && signal.reason instanceof FieldsyncError) throw signal.reason;
      // A kept-alive connection the server closed meanwhile (it restarted)
      // fails the next request on it at once. A browser sends a GET again
      // by itself on a new connection; Node's fetch does not: sent once
      // more here. (A push is sent again by the sync, with its batch_id.)
      if (!again) throw new FieldsyncError('network', { cause: err });
      sent = t.now?.();
    }
  }
  const date = Date.parse(resp.headers.get('Date') ?? '');
  const back = t.now?.();
  // Only an answer made for this request (an API answer, never stored by
  // a cache: a photo's may be a year old) and that came back quickly: the
  // header has whole seconds, and the server's time was within the second
  // after it, at some moment while the request was out.
  if (calibrate && t.calibrate && sent !== undefined && back !== undefined && Number.isFinite(date) && back - sent <= MAX_CALIBRATION_RTT) {
    t.calibrate(date + 500, (sent + back) / 2);
  }
  // The server's HLC after the calibration: observed with the device's
  // clock still uncorrected, a fast clock's time would become the HLC's
  // last, which never goes back — every record after the sign-in would
  // be stamped ahead, and win over later edits made elsewhere.
  const h = resp.headers.get('X-Server-HLC');
  if (h) t.observe(h);
  return resp;
}

/** The methods a failed request is sent once more by (send). */
const idempotent = new Set(['GET', 'HEAD']);

/**
 * The longest round trip (ms) whose answer calibrates the clock: its Date
 * is then within about 2.5 s of the moment the device reads it for.
 */
const MAX_CALIBRATION_RTT = 4000;

/** @param {Response} resp @returns {Promise<string>} */
async function readText(resp) {
  try {
    return await resp.text();
  } catch (err) {
    throw new FieldsyncError('network', { cause: err });
  }
}

/** @param {string} text @returns {any} the JSON value, or null */
function parseJSON(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * @param {number} status
 * @param {any} body the decoded error body, if any
 * @param {string | null} [retryAfter]
 * @param {string | null} [date] the answer's Date header
 * @returns {FieldsyncError}
 */
export function errorFromResponse(status, body, retryAfter, date) {
  const code = body && typeof body.code === 'string' && body.code ? body.code : statusCodes[status] ?? 'internal';
  const message = body && typeof body.message === 'string' && body.message ? body.message : messageFor(code);
  /** @type {Record<string, any>} */
  const details = {};
  const ra = retryAfterSeconds(retryAfter, date);
  if (ra !== undefined) details.retryAfter = ra;
  const field = body && typeof body.field === 'string' ? body.field : '';
  return new FieldsyncError(code, { status, message, requestId: body?.request_id ?? '', field, details });
}

/**
 * The seconds a Retry-After header asks to wait: its delay in decimal
 * digits, or the time to its HTTP date (RFC 9110 allows both, and a proxy
 * in front of the server may send the date) from the answer's own Date —
 * both the server's clock — or, without one, from the device's, which may
 * be wrong: within an hour then; undefined if it says neither.
 * @param {string | null | undefined} header
 * @param {string | null} [date] the answer's Date header
 * @returns {number | undefined}
 */
export function retryAfterSeconds(header, date) {
  if (!header || !header.trim()) return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header);
  // An HTTP date begins with its day's name (Sun, 06 Nov 1994 …).
  const at = /^\s*[A-Za-z]/.test(header) ? Date.parse(header) : NaN;
  if (!Number.isFinite(at)) return undefined;
  const from = date ? Date.parse(date) : NaN;
  const s = Math.max(0, Math.ceil((at - (Number.isFinite(from) ? from : Date.now())) / 1000));
  return Number.isFinite(from) ? s : Math.min(3600, s);
}

/** Codes for answers without a body (HEAD), by status. */
/** @type {Record<number, string>} */
const statusCodes = {
  400: 'bad_request',
  401: 'token_expired',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'resync_required',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  422: 'bad_image',
  429: 'too_many_attempts',
  503: 'unavailable',
  507: 'quota_exceeded',
};
