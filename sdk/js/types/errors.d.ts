/**
 * The Chinese message for a code (a generic one for codes added later).
 * @param {string} code
 * @returns {string}
 */
export function messageFor(code: string): string;
export namespace MESSAGES {
    let network: string;
    let unsent_changes: string;
    let signed_out: string;
    let unencodable_value: string;
    let upload_not_failed: string;
    let session_lost: string;
    let storage_full: string;
    let storage_changed: string;
    let storage_locked: string;
    let storage_closed: string;
    let upload_failed: string;
    let photo_exists: string;
    let photo_duplicate: string;
    let bad_request: string;
    let invalid_field: string;
    let unknown_field: string;
    let missing_field: string;
    let body_too_large: string;
    let request_timeout: string;
    let unauthorized: string;
    let token_invalid: string;
    let token_expired: string;
    let invalid_credentials: string;
    let too_many_attempts: string;
    let device_revoked: string;
    let user_disabled: string;
    let device_mismatch: string;
    let forbidden: string;
    let out_of_scope: string;
    let not_found: string;
    let method_not_allowed: string;
    let conflict: string;
    let batch_mismatch: string;
    let resync_required: string;
    let unsupported_media_type: string;
    let hash_mismatch: string;
    let bad_image: string;
    let upload_offset_mismatch: string;
    let invalid_upload: string;
    let not_ready: string;
    let quota_exceeded: string;
    let internal: string;
    let unavailable: string;
    let server_busy: string;
    let unknown_entity: string;
    let invalid_id: string;
    let invalid_hlc: string;
    let clock_skew: string;
    let server_owned_field: string;
    let read_only_entity: string;
    let record_locked: string;
    let immutable_field: string;
    let unknown_reference: string;
    let not_deletable: string;
    let record_deleted: string;
    let invalid_value: string;
    let overwritten: string;
    let applied: string;
    let stale: string;
}
/** An error from the server or the SDK. */
export class FieldsyncError extends Error {
    /**
     * @param {string} code the server's stable code or the SDK's
     * @param {{status?: number, message?: string, details?: any, requestId?: string, field?: string, cause?: unknown}} [opts]
     */
    constructor(code: string, opts?: {
        status?: number;
        message?: string;
        details?: any;
        requestId?: string;
        field?: string;
        cause?: unknown;
    });
    code: string;
    status: number;
    /** What the code's documentation says it carries; always an object ({} when nothing), so that err.details.timeout never throws. @type {Record<string, any>} */
    details: Record<string, any>;
    requestId: string;
    /** Where in the request the fault is, when the server named one place: a JSON path (`mutations[3].fields.plate`). */
    field: string;
    /** Whether repeating the same request later may succeed (network, 5xx, 429). */
    get temporary(): boolean;
}
