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
export function requestJSON(t: Transport, method: string, path: string, opts?: {
    body?: any;
    token?: string;
}): Promise<any>;
/**
 * Fetches path's bytes with GET (a photo's thumbnail, say) and returns
 * them with their Content-Type. Errors as requestJSON's.
 * @param {Transport} t
 * @param {string} path
 * @param {{token?: string}} [opts]
 * @returns {Promise<{bytes: Uint8Array, contentType: string}>}
 */
export function requestBytes(t: Transport, path: string, opts?: {
    token?: string;
}): Promise<{
    bytes: Uint8Array;
    contentType: string;
}>;
/**
 * @param {number} status
 * @param {any} body the decoded error body, if any
 * @param {string | null} [retryAfter]
 * @param {string | null} [date] the answer's Date header
 * @returns {FieldsyncError}
 */
export function errorFromResponse(status: number, body: any, retryAfter?: string | null, date?: string | null): FieldsyncError;
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
export function retryAfterSeconds(header: string | null | undefined, date?: string | null): number | undefined;
export type Transport = {
    baseURL: string;
    fetch: typeof fetch;
    /**
     * called with every server HLC seen
     */
    observe: (h: string) => void;
    /**
     * the device clock (ms), read around each request
     */
    now?: (() => number) | undefined;
    /**
     * called with the
     * server's time by an answer's Date header and the device's time then
     */
    calibrate?: ((serverMs: number, deviceMs: number) => void) | undefined;
    /**
     * ms a request may take, answer read included,
     * before it is given up as "network" (details.timeout); 0 or absent: no limit
     */
    timeout?: number | undefined;
};
import { FieldsyncError } from './errors.js';
