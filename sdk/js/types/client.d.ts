/**
 * Whether a network error certainly left the request unsent: the browser
 * says it is offline, or the connection was never made (Node's fetch
 * gives the system error as its cause's cause).
 * @param {FieldsyncError} err
 * @returns {boolean}
 */
export function neverSent(err: FieldsyncError): boolean;
export namespace ENTITY_RULES {
    export let writable: string[];
    export let readOnly: string[];
    export let notDeletable: string[];
    export { KEPT_ONCE as keptOnce };
    export { SERVER_OWNED as serverOwned };
    export { REQUIRED as required };
}
/** Upload errors that end a job until the user decides (sync.md §10.4). */
export const PERMANENT_UPLOAD_CODES: Set<string>;
/** The photo formats the server takes (photo.content_type, sync.md §10). */
export const PHOTO_CONTENT_TYPES: readonly string[];
/** A device's connection to fieldsync, with its local data in a Storage. */
export class FieldsyncClient {
    /**
     * Opens the client over storage, making the device id the first time.
     * @param {{baseURL?: string, storage: Storage, deviceName?: string, fetch?: typeof fetch,
     *   now?: () => number, chunkSize?: number, pageLimit?: number, keepOriginalsFor?: number,
     *   requestTimeout?: number, sleep?: (ms: number) => Promise<void>}} opts
     * @returns {Promise<FieldsyncClient>}
     */
    static open(opts: {
        baseURL?: string;
        storage: Storage;
        deviceName?: string;
        fetch?: typeof fetch;
        now?: () => number;
        chunkSize?: number;
        pageLimit?: number;
        keepOriginalsFor?: number;
        requestTimeout?: number;
        sleep?: (ms: number) => Promise<void>;
    }): Promise<FieldsyncClient>;
    /**
     * @param {{baseURL: string, storage: Storage, deviceName: string, fetch: typeof fetch,
     *   now: () => number, deviceId: string, auth: any, clock: Clock, lastSync: any, chunkSize: number,
     *   pageLimit: number, keepOriginalsFor: number, requestTimeout: number, sleep: (ms: number) => Promise<void>}} o
     * @private open() makes a client: it reads what the storage holds first.
     */
    private constructor();
    /** The device id (UUIDv7, made once per storage). */
    deviceId: string;
    /** @returns {User | null} the signed-in user (kept while offline) */
    get user(): User | null;
    /** @returns {boolean} whether a refresh token is held */
    get signedIn(): boolean;
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
    now(): number;
    /**
     * Subscribes to an event: "change" ({entity, id}), "sync" (the status),
     * "auth" ({signedIn}). Returns the unsubscribe function.
     * @template {keyof Events} K
     * @param {K} event
     * @param {(arg: Events[K]) => void} cb
     * @returns {() => void}
     */
    on<K extends keyof Events>(event: K, cb: (arg: Events[K]) => void): () => void;
    /**
     * Takes the session another client of this storage (another tab of the
     * app) signed in with after this one's ended: the same user, on the same
     * device id. An app calls it when a tab comes back into view; sync()
     * calls it before giving up as signed_out. Emits "auth" when it signs
     * this client in.
     * @returns {Promise<boolean>} whether this client is signed in now
     */
    resumeSession(): Promise<boolean>;
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
    signIn(username: string, password: string, { force }?: {
        force?: boolean;
    }): Promise<User>;
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
    changePassword(current: string, next: string): Promise<User>;
    /** Closes the storage; the client must not be used afterwards. */
    close(): Promise<void>;
    /**
     * Signs out: syncs first; with unsaved work (unsent changes or photos,
     * refused changes not dismissed) and neither force nor keep throws
     * unsent_changes ({changes, records, photos, rejected}); with force
     * drops this user's data; with keep keeps it all on the phone — the
     * outbox, the photos, the refusals — for this user's next sign-in,
     * which sends it (another user's sign-in asks first: unsent_changes).
     * @param {{force?: boolean, keep?: boolean}} [opts]
     */
    signOut({ force, keep }?: {
        force?: boolean;
        keep?: boolean;
    }): Promise<void>;
    /**
     * Ends on the server the sessions this storage gave up (setAuth's
     * ending: a sign-out, another user's sign-in): POST /auth/logout with
     * each one's access token, refreshed first if it expired. One the
     * server already refuses (401, 403) is ended. One that cannot be ended
     * now (no network, a server error) stays owed in the storage and is
     * ended by the next sync or sign-in: a sign-out made offline must not
     * leave tokens working for their lifetime on a phone handed on.
     */
    settleSessions(): Promise<void>;
    /**
     * How many sessions this storage gave up (a sign-out, another user's
     * sign-in) the server has not been told of yet (settleSessions): a
     * sign-out made offline leaves one until the next sync or sign-in on
     * this storage, or settleSessions.
     * @returns {Promise<number>}
     */
    sessionsOwed(): Promise<number>;
    /**
     * @param {string} entity
     * @param {string} id
     * @returns {Promise<Rec | null>}
     */
    get(entity: string, id: string): Promise<Rec | null>;
    /**
     * Live records of entity, optionally filtered.
     * @param {string} entity
     * @param {(rec: Rec) => boolean} [filter]
     * @returns {Promise<Rec[]>}
     */
    list(entity: string, filter?: (rec: Rec) => boolean): Promise<Rec[]>;
    /**
     * A local change: fields stamped with one new HLC and written with the
     * outbox entry in one transaction. Never touches the network.
     * @param {string} entity
     * @param {string} id
     * @param {Record<string, any>} fields flat field names → values (null clears)
     * @returns {Promise<Rec>}
     */
    save(entity: string, id: string, fields: Record<string, any>): Promise<Rec>;
    /**
     * Deletes a record (a tombstone), the same way as save.
     * @param {string} entity
     * @param {string} id
     */
    remove(entity: string, id: string): Promise<void>;
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
    takePhoto({ id, blob, contentType, fields, camera }?: {
        id?: string;
        blob: Blob | Uint8Array | ArrayBuffer;
        contentType: string;
        fields?: Record<string, any>;
        camera?: boolean;
    }): Promise<Rec>;
    /**
     * The device's capture key: made with Web Crypto (non-extractable) on
     * first use, and registered with the server when signed in. null where
     * Web Crypto is missing (a page not served over HTTPS or localhost).
     * Throws the registration's error (network …); the next sync retries.
     * @returns {Promise<{keyId: string, registered: boolean} | null>}
     */
    captureKey(): Promise<{
        keyId: string;
        registered: boolean;
    } | null>;
    /**
     * The capture signature of photo id's fields (as they will be pushed):
     * {capture_sig, capture_key_id}, or null without Web Crypto. takePhoto
     * with camera: true calls it.
     * @param {string} id
     * @param {Record<string, any>} fields
     */
    signCapture(id: string, fields: Record<string, any>): Promise<{
        capture_sig: string;
        capture_key_id: string;
    } | null>;
    /**
     * The local original of a photo, if the phone has it.
     * @param {string} id
     * @returns {Promise<Blob | Uint8Array | null>}
     */
    photoBytes(id: string): Promise<Blob | Uint8Array | null>;
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
    photoImage(id: string): Promise<{
        bytes: Blob | Uint8Array;
        contentType: string;
        original: boolean;
    } | null>;
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
    purgeOriginals({ olderThan }?: {
        olderThan?: number;
    }): Promise<number>;
    /**
     * Upload jobs: [{photoId, sha256, contentType, size, offset, url, state, error}].
     * @returns {Promise<import('./upload.js').UploadJob[]>}
     */
    uploads(): Promise<import("./upload.js").UploadJob[]>;
    /**
     * Queues a failed upload again (state failed → queued, from its first
     * byte, as a new tus upload): e.g. once the server takes the file's
     * kind, or the cause was fixed. The next sync sends it.
     * @param {string} photoId
     */
    retryUpload(photoId: string): Promise<void>;
    /**
     * Gives up a failed upload: its job and the photo's bytes leave the
     * phone, so they no longer count as unsent nor hold a sign-out. The
     * photo record stays (evidence is never deleted, sync.md §10); the
     * server keeps it without its file.
     * @param {string} photoId
     */
    discardUpload(photoId: string): Promise<void>;
    /**
     * Mutations the server refused (the failed list, sync.md §6), oldest
     * first, until dismissed. Their values are no longer in the local
     * records; they are kept here.
     * @returns {Promise<RejectedEntry[]>}
     */
    rejected(): Promise<RejectedEntry[]>;
    /**
     * Forgets failed-list entries (their values are then gone from the
     * phone), or all of them with no argument. An entry of a sync's result
     * (SyncResult.rejected), which has neither key nor hlc, stands for every
     * entry of its record.
     * @param {...(RejectedEntry | Rejected | string)} entries entries or their keys
     */
    dismissRejected(...entries: (RejectedEntry | Rejected | string)[]): Promise<void>;
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
    reapply(entry: RejectedEntry | string, corrections?: Record<string, any>): Promise<Rec | null>;
    /**
     * Local edits that lost to a later write from elsewhere, newest first.
     * @returns {Promise<Superseded[]>}
     */
    superseded(): Promise<Superseded[]>;
    /**
     * Forgets superseded entries (or all of them with no argument).
     * @param {...(Superseded | string)} entries entries or their keys
     */
    dismiss(...entries: (Superseded | string)[]): Promise<void>;
    /** @returns {Status} */
    status(): Status;
    /** Recomputes the pending counts from storage. @returns {Promise<Status>} */
    refreshStatus(): Promise<Status>;
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
    sync(opts?: {
        onProgress?: (p: Progress) => void;
    }): Promise<SyncResult>;
}
export function rejectedKey(e: {
    entity: string;
    id: string;
    hlc: string;
}): string;
/**
 * What a client has read of the outbox: its keys in order, and of its
 * entries the count by record (entity/id) and of deletes by record.
 */
export type OutboxSeen = {
    keys: string[];
    records: Map<string, number>;
    deletes: Map<string, number>;
};
export type Storage = import("./storage/storage.js").Storage;
export type Tx = import("./storage/storage.js").Tx;
export type User = {
    id: string;
    username: string;
    display_name: string;
    role: string;
    counties: string[];
    device_id?: string;
};
export type Auth = {
    access: string;
    refresh: string;
    user: User | null;
    gen: number;
};
export type Rec = {
    entity: string;
    id: string;
    county: string;
    fields: Record<string, any>;
    hlcs: Record<string, string>;
    deleted: boolean;
    pending: string[];
};
/**
 * fields: what the phone shows (the server's state merged with local edits);
 * base: the server's state as this phone last learnt it, per field (from
 * pulls and applied pushes), so that a refused edit can be taken back;
 * baseDeleted: the server's tombstone HLC, if any. A record stored by an
 * SDK older than base has none until its next pull;
 * own: per field, this device's latest value that another's newer write
 * replaced (keptOwn): a server restored from a backup made before both
 * holds neither, and the device sends its own again (afterResync).
 */
export type StoredRecord = {
    entity: string;
    id: string;
    county: string;
    fields: Record<string, {
        value: any;
        hlc: string;
    }>;
    deleted: string;
    gone: boolean;
    pending: Record<string, string>;
    base?: Record<string, {
        value: any;
        hlc: string;
    }>;
    baseDeleted?: string;
    own?: Record<string, {
        value: any;
        hlc: string;
    }>;
};
/**
 * seen: per field, the HLC of the server's value the phone showed when
 * the change was made (sync.md §5.1), sent with it
 */
export type OutboxEntry = {
    seq: number;
    entity: string;
    id: string;
    hlc: string;
    fields?: Record<string, any>;
    delete?: boolean;
    seen?: Record<string, string>;
};
export type Rejected = {
    entity: string;
    id: string;
    code: string;
    message: string;
    field?: string;
};
/**
 * unknown_reference: the record referred to, and what the phone knows of it
 */
export type MissingParent = {
    entity: string;
    id: string;
    state: "deleted" | "rejected" | "missing";
};
export type RejectedEntry = Rejected & {
    key: string;
    hlc: string;
    fields?: Record<string, any>;
    delete?: boolean;
    at: number;
    parent?: MissingParent;
};
export type Superseded = {
    key: string;
    entity: string;
    id: string;
    field: string;
    value: any;
    hlc: string;
    by: string | null;
    code: string;
    at: number;
};
/**
 * what a sync did, whether it ended well or not
 */
export type SyncCounts = {
    pushed: number;
    pulled: number;
    uploaded: number;
    uploadedBytes: number;
    rejected: Rejected[];
    superseded: Superseded[];
};
/**
 * a sync's answer: ok, or its error (narrowed by ok: `if (!r.ok) r.error.code`)
 */
export type SyncResult = (SyncCounts & {
    ok: true;
    error: null;
}) | (SyncCounts & {
    ok: false;
    error: FieldsyncError;
});
/**
 * a SyncResult while its sync runs
 */
export type SyncTally = SyncCounts & {
    ok: boolean;
    error: FieldsyncError | null;
};
export type Progress = {
    phase: "push" | "pull" | "upload";
    done: number;
    total: number;
    bytesDone: number;
    bytesTotal: number;
};
export type Events = {
    change: {
        entity: string;
        id: string;
    };
    sync: Status;
    auth: {
        signedIn: boolean;
    };
};
export type Status = {
    pendingChanges: number;
    pendingRecords: number;
    pendingPhotos: number;
    failedPhotos: number;
    pendingBytes: number;
    rejectedChanges: number;
    lastSync: {
        at: number;
        ok: boolean;
        okAt: number | null;
        error: {
            code: string;
            message: string;
            details?: any;
        } | null;
    } | null;
    syncing: boolean;
};
/**
 * an option of FieldsyncClient.open: its kind, and for a number its
 * range (is: what it must be, for the error)
 */
export type OptionSpec = {
    type: "string" | "object" | "function";
} | {
    type: "number";
    min: number;
    max?: number;
    integer?: boolean;
    infinity?: boolean;
    is: string;
};
import { FieldsyncError } from './errors.js';
declare namespace KEPT_ONCE {
    let inspection: string;
}
declare namespace SERVER_OWNED {
    export let site: string[];
    let inspection_1: string[];
    export { inspection_1 as inspection };
    export let finding: string[];
    export let vehicle_check: string[];
    export let photo: string[];
}
declare namespace REQUIRED {
    let site_1: string[];
    export { site_1 as site };
    let inspection_2: string[];
    export { inspection_2 as inspection };
    let finding_1: string[];
    export { finding_1 as finding };
    let vehicle_check_1: string[];
    export { vehicle_check_1 as vehicle_check };
    let photo_1: string[];
    export { photo_1 as photo };
}
import { Clock } from './hlc.js';
export {};
