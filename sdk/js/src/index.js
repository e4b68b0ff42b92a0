// @fieldsync/sdk: fieldsync's sync protocol (mobile-api-docs/sync.md) for
// browsers and Node. API.md is the contract. FileStorage (Node only) is
// imported from './storage/file.js' and is not part of the bundle.

export { FieldsyncClient, PHOTO_CONTENT_TYPES } from './client.js';
export { FieldsyncError, messageFor } from './errors.js';
export { HLC, Clock, MAX_COUNTER, SERVER_NODE } from './hlc.js';
export { mergeField, mergeMutation, mergeChange, expandChange, expandCompactPage, canonicalJSON } from './merge.js';
export { MemoryStorage } from './storage/memory.js';
export { IndexedDBStorage } from './storage/indexeddb.js';
export { STORES } from './storage/storage.js';
export { StorageUrlStorage, sha256Hex } from './upload.js';
export { uuidv7 } from './uuid.js';
export { isFreeText, cleanText, isOneLine, cleanLine, hiddenChar } from './text.js';
export { captureMessage, captureText, keyProofMessage, CAPTURE_VERSION, CAPTURE_FIELDS, KEY_PROOF_VERSION } from './capture.js';

// The types the API speaks of (API.md), for TypeScript apps:
// `import type { Rec, SyncResult } from '@fieldsync/sdk'`.
/**
 * @typedef {import('./client.js').Rec} Rec
 * @typedef {import('./client.js').User} User
 * @typedef {import('./client.js').Status} Status
 * @typedef {import('./client.js').Events} Events
 * @typedef {import('./client.js').SyncResult} SyncResult
 * @typedef {import('./client.js').Progress} Progress
 * @typedef {import('./client.js').Rejected} Rejected
 * @typedef {import('./client.js').RejectedEntry} RejectedEntry
 * @typedef {import('./client.js').MissingParent} MissingParent
 * @typedef {import('./client.js').Superseded} Superseded
 * @typedef {import('./upload.js').UploadJob} UploadJob
 * @typedef {import('./storage/storage.js').Storage} Storage
 * @typedef {import('./storage/storage.js').Tx} Tx
 * @typedef {import('./storage/storage.js').StoreName} StoreName
 * @typedef {import('./storage/storage.js').TxMode} TxMode
 */
