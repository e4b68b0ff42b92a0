// Photo uploads with tus-js-client (sync.md §10): one job per photo record
// in the storage's uploads store; the tus upload URL lives in the job
// (tus-js-client's urlStorage interface over the adapter) and the offset is
// written after every chunk, so an upload resumes across restarts, always
// from the offset the server reports (HEAD).

import * as tusModule from 'tus-js-client';
import { FieldsyncError, messageFor } from './errors.js';
import { errorFromResponse } from './http.js';
import { sha256 } from './sha256.js';

/** @type {typeof import('tus-js-client')} */
const tus = /** @type {any} */ (tusModule).Upload ? tusModule : /** @type {any} */ (tusModule).default;

const PATH_UPLOADS = '/api/v1/uploads/';
const FINGERPRINT = 'fieldsync-photo:';

/**
 * The slowest pace (bytes a second) at which an upload's bytes in flight
 * are waited for: the server's own least body rate (a poor 2G link).
 */
const MIN_RATE = 4096;

/** Upload errors that end a job until the user decides (sync.md §10.4). */
/**
 * Whether this is the browser bundle (dist/, built with esbuild's
 * --define): its tus-js-client is the browser build, which reads Blobs
 * only, whatever globals the platform adds (a Buffer polyfilled in React
 * Native); the sources in Node read Buffers.
 */
const BROWSER_BUILD = /** @type {any} */ (globalThis).FIELDSYNC_BROWSER_BUILD === true;

/**
 * checkUploadRuntime refuses the browser build (dist/fieldsync-sdk.js)
 * where its photo uploads could never run: it sends them with
 * XMLHttpRequest, which Node has not. Refused when the client opens, not
 * when the first photo is found unsendable days later.
 */
export function checkUploadRuntime() {
  if (BROWSER_BUILD && typeof XMLHttpRequest === 'undefined') {
    throw new TypeError('dist/fieldsync-sdk.js is the browser build: its photo uploads need XMLHttpRequest. In Node, import the package itself (@fieldsync/sdk, src/index.js)');
  }
}
/** Whether tus-js-client here reads Node Buffers (the Node build) rather than Blobs. */
const NODE_TUS = !BROWSER_BUILD && !!(/** @type {any} */ (globalThis).Buffer);

const PERMANENT = new Set(['upload_failed', 'hash_mismatch', 'bad_image', 'body_too_large', 'invalid_upload', 'unsupported_media_type', 'forbidden', 'conflict']);

/**
 * @typedef {{photoId: string, sha256: string, contentType: string, size: number, offset: number,
 *   url: string | null, state: 'queued'|'uploading'|'failed'|'done', error: {code: string, message: string} | null,
 *   uploadedAt?: number, creationTime?: string}} UploadJob
 */

/**
 * The bytes of a Blob or Uint8Array.
 * @param {Blob | Uint8Array | ArrayBuffer} b
 * @returns {Promise<Uint8Array>}
 */
export async function bytesOf(b) {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  return new Uint8Array(await b.arrayBuffer());
}

/**
 * The lower-case hex SHA-256 of bytes: Web Crypto where the page has it
 * (secure contexts), else the JavaScript implementation (sha256.js).
 * @param {Uint8Array} bytes
 * @param {{webCrypto?: boolean}} [opts] webCrypto false forces the fallback (tests)
 * @returns {Promise<string>}
 */
export async function sha256Hex(bytes, opts = {}) {
  const subtle = opts.webCrypto === false ? undefined : globalThis.crypto?.subtle;
  const d = subtle ? new Uint8Array(await subtle.digest('SHA-256', /** @type {Uint8Array<ArrayBuffer>} */ (bytes))) : sha256(bytes);
  return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * tus-js-client's urlStorage over the adapter's uploads store: the key of a
 * stored upload is its photo id, and the URL is kept in the photo's job.
 */
export class StorageUrlStorage {
  /**
   * @param {import('./storage/storage.js').Storage} storage
   * @param {string} [baseURL] the server's address now: an upload begun at
   *   another (the app pointed at a new one) is asked for at this one,
   *   which shares the uploads or answers 404 (started again) — the old
   *   address may never answer again.
   */
  constructor(storage, baseURL = '') {
    this.storage = storage;
    this.baseURL = baseURL;
  }

  /** @returns {Promise<any[]>} */
  async findAllUploads() {
    const all = await this.storage.transaction('uploads', 'readonly', (tx) => tx.all('uploads'));
    return all.map(([, j]) => previous(j, this.baseURL)).filter((p) => p !== null);
  }

  /** @param {string} fingerprint */
  async findUploadsByFingerprint(fingerprint) {
    if (!fingerprint.startsWith(FINGERPRINT)) return [];
    const id = fingerprint.slice(FINGERPRINT.length);
    const j = await this.storage.transaction('uploads', 'readonly', (tx) => tx.get('uploads', id));
    const p = j ? previous(j, this.baseURL) : null;
    return p ? [p] : [];
  }

  /** @param {string} key */
  async removeUpload(key) {
    await this.storage.transaction('uploads', 'readwrite', async (tx) => {
      const j = await tx.get('uploads', key);
      if (j) await tx.put('uploads', key, { ...j, url: null, offset: j.state === 'done' ? j.size : 0 });
    });
  }

  /**
   * @param {string} fingerprint
   * @param {{uploadUrl?: string | null, creationTime?: string}} upload
   * @returns {Promise<string>}
   */
  async addUpload(fingerprint, upload) {
    const id = fingerprint.slice(FINGERPRINT.length);
    await this.storage.transaction('uploads', 'readwrite', async (tx) => {
      const j = await tx.get('uploads', id);
      if (j) await tx.put('uploads', id, { ...j, url: upload.uploadUrl ?? null, creationTime: upload.creationTime });
    });
    return id;
  }
}

/** @param {UploadJob} j @param {string} baseURL */
function previous(j, baseURL) {
  if (!j.url || j.state === 'done') return null;
  return {
    size: j.size,
    metadata: { photo_id: j.photoId, sha256: j.sha256, content_type: j.contentType },
    creationTime: j.creationTime ?? '',
    urlStorageKey: j.photoId,
    uploadUrl: sameOrigin(j.url, baseURL),
    parallelUploadUrls: null,
  };
}

/**
 * The upload URL u at base's scheme, host and port (its path kept); u
 * itself if either is not an absolute URL.
 * @param {string} u @param {string} base
 */
export function sameOrigin(u, base) {
  try {
    const pu = new URL(u);
    const pb = new URL(base);
    return pb.origin + pu.pathname + pu.search;
  } catch {
    return u;
  }
}

/**
 * Works every unfinished upload job, one at a time. A failing job never
 * stops the others; its error is kept on the job and in res.error.
 * @param {import('./client.js').FieldsyncClient} c
 * @param {import('./client.js').SyncTally} res
 * @param {(p: import('./client.js').Progress) => void} onProgress
 */
export async function uploadAll(c, res, onProgress) {
  const all = await c.storage.transaction(['uploads', 'records'], 'readonly', async (tx) => {
    /** @type {UploadJob[]} */
    const jobs = [];
    for (const [, j] of await tx.all('uploads')) {
      if (j.state === 'done' || j.state === 'failed') continue;
      const r = await tx.get('records', `photo/${j.photoId}`);
      // A pull already showed the record uploaded: nothing to send (§10.5).
      jobs.push(r?.fields?.uploaded?.value === true ? { ...j, state: 'done' } : j);
    }
    return jobs;
  });
  const bytesTotal = all.reduce((n, j) => n + j.size, 0);
  // done: the photos on the server; bytesDone: their bytes, and what was
  // sent of the one being sent. A photo refused, or broken off (resumed
  // by a later sync, which tells its bytes), counts in neither: the last
  // report of a sync that did not send everything is short of its totals.
  let done = 0, bytesDone = 0;
  const tell = (/** @type {number} */ sent) => onProgress({ phase: 'upload', done, total: all.length, bytesDone: bytesDone + sent, bytesTotal });
  for (const job of all) {
    if (job.state === 'done') {
      await putJob(c, { ...job, offset: job.size });
      done++;
      bytesDone += job.size;
      continue;
    }
    try {
      await uploadOne(c, job, res, tell);
      res.uploaded++;
      done++;
      bytesDone += job.size;
      await c.statusChanged(); // one photo fewer waits
    } catch (err) {
      const e = err instanceof FieldsyncError ? err : new FieldsyncError('internal', { message: String(err), cause: err });
      const permanent = PERMANENT.has(e.code);
      await updateJob(c, job.photoId, { state: permanent ? 'failed' : 'queued', error: { code: e.code, message: e.message } });
      res.error ??= e;
      if (e.code === 'network' || e.code === 'signed_out' || e.code === 'session_lost') break;
    }
  }
  tell(0);
}

/** @param {import('./client.js').FieldsyncClient} c @param {UploadJob} job */
async function putJob(c, job) {
  await c.storage.transaction('uploads', 'readwrite', (tx) => tx.put('uploads', job.photoId, job));
}

/**
 * @param {import('./client.js').FieldsyncClient} c
 * @param {string} id
 * @param {Partial<UploadJob>} patch
 */
async function updateJob(c, id, patch) {
  await c.storage.transaction('uploads', 'readwrite', async (tx) => {
    const j = await tx.get('uploads', id);
    if (j) await tx.put('uploads', id, { ...j, ...patch });
  });
}

/**
 * Uploads one job's bytes, refreshing the access token once if it expired.
 * @param {import('./client.js').FieldsyncClient} c
 * @param {UploadJob} job
 * @param {import('./client.js').SyncTally} res
 * @param {(sent: number) => void} progress
 */
async function uploadOne(c, job, res, progress) {
  let data = await c.photoBytes(job.photoId);
  if (!data) throw new FieldsyncError('not_found', { message: '手机上找不到这张照片的原始文件' });
  // tus-js-client reads Buffers in Node, not Blobs (a Blob kept by
  // MemoryStorage): the bytes, which runTus makes a Buffer.
  if (NODE_TUS && typeof Blob !== 'undefined' && data instanceof Blob) data = new Uint8Array(await data.arrayBuffer());
  for (let attempt = 0; ; attempt++) {
    if (!c.signedIn) throw new FieldsyncError('signed_out');
    const sent = c.auth.access;
    try {
      await runTus(c, job, data, res, progress);
      await updateJob(c, job.photoId, { state: 'done', offset: job.size, url: null, error: null });
      return;
    } catch (err) {
      if (err instanceof FieldsyncError && err.code === 'token_expired' && attempt === 0) {
        await c.refreshAfter(sent);
        continue;
      }
      // The server has another offset (an earlier chunk arrived after
      // all, or another request of this upload ended this one): resume
      // from its offset (HEAD), as sync.md §10 says.
      if (err instanceof FieldsyncError && err.code === 'upload_offset_mismatch' && attempt < 3) continue;
      throw c.authFailed(err);
    }
  }
}

/**
 * One tus-js-client run: resumes from the stored URL (HEAD) or creates the
 * upload, then sends chunks, persisting the offset after each.
 * @param {import('./client.js').FieldsyncClient} c
 * @param {UploadJob} job
 * @param {Blob | Uint8Array} data
 * @param {import('./client.js').SyncTally} res
 * @param {(sent: number) => void} progress
 * @returns {Promise<void>}
 */
function runTus(c, job, data, res, progress) {
  // tus-js-client reads Blobs in browsers and Buffers in Node.
  const NodeBuffer = /** @type {any} */ (globalThis).Buffer;
  const file = !(data instanceof Uint8Array) ? data
    : NODE_TUS ? NodeBuffer.from(data.buffer, data.byteOffset, data.byteLength)
      : new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (data)]);
  const urlStorage = new StorageUrlStorage(c.storage, c.baseURL);
  /** @type {Promise<void>} */
  let saving = Promise.resolve();
  return new Promise((resolve, reject) => {
    // A stall watchdog (tus-js-client has no timeout): an upload that
    // moves no byte and gets no answer for the client's requestTimeout is
    // aborted as network (details.timeout); the next sync resumes it from
    // the server's offset. Bytes handed to the connection and not yet
    // accepted get the time they take at the slowest pace the server
    // keeps a body for (MIN_RATE) on top: Node reports a chunk sent when
    // it is handed to the socket, long before a slow link has carried it.
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let stall;
    const ms = c.requestTimeout;
    let sentBytes = job.offset || 0;
    let acceptedBytes = job.offset || 0;
    const alive = () => {
      clearTimeout(stall);
      if (!(ms > 0) || !Number.isFinite(ms)) return;
      const inFlight = Math.max(0, sentBytes - acceptedBytes);
      stall = setTimeout(() => {
        upload.abort().catch(() => {});
        saving.then(() => reject(new FieldsyncError('network', {
          details: { timeout: ms },
          message: `照片上传超过 ${Math.round(ms / 1000)} 秒没有进展，下次同步时从中断处继续`,
        })));
      }, ms + (inFlight / MIN_RATE) * 1000);
    };
    const settle = () => clearTimeout(stall);
    /**
     * The offset the PATCH in flight was sent from: a PATCH answered
     * without moving it while bytes remain (a chunk of no bytes, whatever
     * the cause) ends the attempt as a failure, instead of being sent
     * again and again, each answered 204, flooding the server and never
     * ending the sync (the stall watchdog sees answers, so it never fires).
     * @type {number | null}
     */
    let patchFrom = null;
    /** Whether the attempt was ended (fail): what tus still reports of it is not kept. */
    let stopped = false;
    /** @param {FieldsyncError} err */
    const fail = (err) => {
      stopped = true;
      settle();
      upload.abort().catch(() => {});
      saving.then(() => reject(err));
    };
    const upload = new tus.Upload(/** @type {any} */ (file), {
      endpoint: c.baseURL + PATH_UPLOADS,
      chunkSize: c.chunkSize,
      retryDelays: null, // the sync retries later, from the server's offset
      metadata: { photo_id: job.photoId, sha256: job.sha256, content_type: job.contentType },
      fingerprint: async () => FINGERPRINT + job.photoId,
      urlStorage,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: false,
      onBeforeRequest: (req) => {
        alive();
        req.setHeader('Authorization', `Bearer ${c.auth.access}`);
        patchFrom = isPatch(req) ? Number.parseInt(req.getHeader('Upload-Offset') ?? '', 10) : null;
      },
      onAfterResponse: (req, resp) => {
        alive();
        const h = resp.getHeader('X-Server-HLC');
        if (h) c.clock.observe(h);
        const status = resp.getStatus();
        if (!isPatch(req) || patchFrom === null || status < 200 || status >= 300) return;
        const offset = Number.parseInt(resp.getHeader('Upload-Offset') ?? '', 10);
        if (offset > patchFrom || !(offset < job.size)) return;
        fail(new FieldsyncError('upload_failed', {
          message: `${messageFor('upload_failed')}（上传一段照片后服务器进度没有前进，停在第 ${offset} 字节）`,
          details: { photoId: job.photoId, offset, size: job.size },
        }));
      },
      onProgress: (sent) => {
        sentBytes = Math.max(sentBytes, sent);
        alive();
        progress(sent);
      },
      onChunkComplete: (chunk, accepted) => {
        if (stopped) return;
        acceptedBytes = Math.max(acceptedBytes, accepted);
        alive();
        res.uploadedBytes += chunk;
        saving = saving.then(() => updateJob(c, job.photoId, { offset: accepted, state: 'uploading' })).catch(() => {});
      },
      onSuccess: () => {
        settle();
        saving.then(() => resolve());
      },
      onError: (err) => {
        settle();
        saving.then(() => reject(tusError(err)));
      },
    });
    upload
      .findPreviousUploads()
      .then((prev) => {
        if (prev.length > 0) upload.resumeFromPreviousUpload(prev[0]);
        upload.start();
      })
      .catch((err) => {
        settle();
        reject(tusError(err));
      });
  });
}

/**
 * Whether req is one of tus's PATCHes (sending bytes), also when sent as
 * a POST with X-HTTP-Method-Override.
 * @param {any} req
 */
function isPatch(req) {
  return req.getMethod() === 'PATCH' || req.getHeader?.('X-HTTP-Method-Override') === 'PATCH';
}

/**
 * A tus-js-client error as a FieldsyncError.
 * @param {any} err
 * @returns {FieldsyncError}
 */
function tusError(err) {
  const resp = err?.originalResponse;
  if (resp && typeof resp.getStatus === 'function' && resp.getStatus() > 0) {
    let body = null;
    try {
      body = JSON.parse(resp.getBody() || 'null');
    } catch {
      body = null;
    }
    return errorFromResponse(resp.getStatus(), body, resp.getHeader('Retry-After'));
  }
  // No request was made (tus-js-client's errors of a request carry it):
  // the photo's bytes could not be read or sent as they are. Waiting for
  // the network will not help; the job fails and says why.
  if (!err?.originalRequest) {
    return new FieldsyncError('upload_failed', { message: `${messageFor('upload_failed')}（${err?.message ?? err}）`, cause: err });
  }
  return new FieldsyncError('network', { message: messageFor('network'), cause: err });
}
