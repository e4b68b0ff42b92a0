// HTTP for the client: JSON requests with the access token, observing the
// server's HLC on every answer, errors as FieldsyncError (sync.md §11).

import { FieldsyncError, messageFor } from './errors.js';

/**
 * @typedef {object} Transport
 * @property {string} baseURL
 * @property {typeof fetch} fetch
 * @property {(h: string) => void} observe called with every server HLC seen
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
  let resp;
  try {
    resp = await t.fetch(t.baseURL + path, { method, headers, body });
  } catch (err) {
    throw new FieldsyncError('network', { cause: err });
  }
  const h = resp.headers.get('X-Server-HLC');
  if (h) t.observe(h);
  let text = '';
  try {
    text = await resp.text();
  } catch (err) {
    throw new FieldsyncError('network', { cause: err });
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (data && typeof data.server_hlc === 'string') t.observe(data.server_hlc);
  if (resp.status >= 300) throw errorFromResponse(resp.status, data, resp.headers.get('Retry-After'));
  return data;
}

/**
 * @param {number} status
 * @param {any} body the decoded error body, if any
 * @param {string | null} [retryAfter]
 * @returns {FieldsyncError}
 */
export function errorFromResponse(status, body, retryAfter) {
  const code = body && typeof body.code === 'string' && body.code ? body.code : statusCodes[status] ?? 'internal';
  const message = body && typeof body.message === 'string' && body.message ? body.message : messageFor(code);
  /** @type {Record<string, any>} */
  const details = {};
  const ra = Number(retryAfter);
  if (retryAfter && Number.isFinite(ra)) details.retryAfter = ra;
  return new FieldsyncError(code, { status, message, requestId: body?.request_id ?? '', details });
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
