/**
 * checkUploadRuntime refuses the browser build (dist/fieldsync-sdk.js)
 * where its photo uploads could never run: it sends them with
 * XMLHttpRequest, which Node has not. Refused when the client opens, not
 * when the first photo is found unsendable days later.
 */
export function checkUploadRuntime(): void;
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
export function bytesOf(b: Blob | Uint8Array | ArrayBuffer): Promise<Uint8Array>;
/**
 * The lower-case hex SHA-256 of bytes: Web Crypto where the page has it
 * (secure contexts), else the JavaScript implementation (sha256.js).
 * @param {Uint8Array} bytes
 * @param {{webCrypto?: boolean}} [opts] webCrypto false forces the fallback (tests)
 * @returns {Promise<string>}
 */
export function sha256Hex(bytes: Uint8Array, opts?: {
    webCrypto?: boolean;
}): Promise<string>;
/**
 * The upload URL u at base's scheme, host and port (its path kept); u
 * itself if either is not an absolute URL.
 * @param {string} u @param {string} base
 */
export function sameOrigin(u: string, base: string): string;
/**
 * Works every unfinished upload job, one at a time. A failing job never
 * stops the others; its error is kept on the job and in res.error.
 * @param {import('./client.js').FieldsyncClient} c
 * @param {import('./client.js').SyncTally} res
 * @param {(p: import('./client.js').Progress) => void} onProgress
 */
export function uploadAll(c: import("./client.js").FieldsyncClient, res: import("./client.js").SyncTally, onProgress: (p: import("./client.js").Progress) => void): Promise<void>;
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
    constructor(storage: import("./storage/storage.js").Storage, baseURL?: string);
    storage: import("./storage/storage.js").Storage;
    baseURL: string;
    /** @returns {Promise<any[]>} */
    findAllUploads(): Promise<any[]>;
    /** @param {string} fingerprint */
    findUploadsByFingerprint(fingerprint: string): Promise<{
        size: number;
        metadata: {
            photo_id: string;
            sha256: string;
            content_type: string;
        };
        creationTime: string;
        urlStorageKey: string;
        uploadUrl: string;
        parallelUploadUrls: null;
    }[]>;
    /** @param {string} key */
    removeUpload(key: string): Promise<void>;
    /**
     * @param {string} fingerprint
     * @param {{uploadUrl?: string | null, creationTime?: string}} upload
     * @returns {Promise<string>}
     */
    addUpload(fingerprint: string, upload: {
        uploadUrl?: string | null;
        creationTime?: string;
    }): Promise<string>;
}
export type UploadJob = {
    photoId: string;
    sha256: string;
    contentType: string;
    size: number;
    offset: number;
    url: string | null;
    state: "queued" | "uploading" | "failed" | "done";
    error: {
        code: string;
        message: string;
    } | null;
    uploadedAt?: number;
    creationTime?: string;
};
