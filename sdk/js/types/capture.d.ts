/** @returns {SubtleCrypto | undefined} Web Crypto, where the page has it */
export function subtleCrypto(): SubtleCrypto | undefined;
/**
 * A field value's text in the message: a string as it is, a number as
 * String(n) (its shortest round-trip text, as JSON.stringify writes it),
 * '' for null or absent.
 * @param {any} v
 * @returns {string}
 */
export function captureText(v: any): string;
/**
 * The message a capture signature signs (signed-captures.md §2).
 * @param {string} deviceId
 * @param {string} photoId
 * @param {Record<string, any>} fields the photo's fields as sent
 * @returns {string}
 */
export function captureMessage(deviceId: string, photoId: string, fields: Record<string, any>): string;
/**
 * The message a key registration's proof signs (signed-captures.md §1):
 * the key's signature of it proves that the registering device holds the
 * private key.
 * @param {string} deviceId the registering device
 * @param {string} keyId the key's id
 * @returns {string}
 */
export function keyProofMessage(deviceId: string, keyId: string): string;
/** @param {ArrayBuffer | Uint8Array} buf @returns {string} base64url without padding */
export function base64url(buf: ArrayBuffer | Uint8Array): string;
/**
 * A device's capture key as the client keeps it (the private key is a
 * non-extractable CryptoKey, kept by structured clone).
 * @typedef {object} CaptureKey
 * @property {CryptoKey} privateKey
 * @property {string} spki base64 of the DER SubjectPublicKeyInfo
 * @property {string} keyId lower-case hex SHA-256 of the SPKI
 * @property {string} deviceId the device it was made for
 * @property {boolean} registered whether the server has it
 */
/**
 * Makes a new capture key for a device.
 * @param {string} deviceId
 * @param {SubtleCrypto} [subtle]
 * @returns {Promise<CaptureKey>}
 */
export function generateCaptureKey(deviceId: string, subtle?: SubtleCrypto): Promise<CaptureKey>;
/**
 * Signs a capture message: base64url of the IEEE P1363 r||s signature.
 * @param {CryptoKey} privateKey
 * @param {string} message
 * @param {SubtleCrypto} [subtle]
 * @returns {Promise<string>}
 */
export function signCaptureMessage(privateKey: CryptoKey, message: string, subtle?: SubtleCrypto): Promise<string>;
/**
 * @typedef {{privateKey: CryptoKey, keyId: string, spki: string, deviceId: string}} CurrentKey
 * @typedef {{keyId: string, spki: string, registered: boolean}} PublicKey
 * @typedef {import('./client.js').FieldsyncClient} FieldsyncClient
 */
/**
 * The client's current capture key, made and stored if it has none (or
 * its private key did not survive the storage). null without Web Crypto.
 * Concurrent calls share one key.
 * @param {FieldsyncClient} c
 * @returns {Promise<CurrentKey | null>}
 */
export function currentKey(c: FieldsyncClient): Promise<CurrentKey | null>;
/**
 * Marks every key of the device as one to register again: after a sign-in
 * and after a resync (sync.md §8.3), the server may be a restored one that
 * lacks a key registered after its backup, and would mark each photo
 * signed with it unknown_key. Registering a key the server has answers
 * the same, so this costs one request per key.
 * @param {import('./storage/storage.js').Tx} tx a readwrite transaction on meta
 */
export function registerAgain(tx: import("./storage/storage.js").Tx): Promise<void>;
/**
 * Registers every key of the device the server does not have yet. A key
 * the server refuses for good is forgotten (a new one is made for the next
 * capture); other errors (network, server busy) are thrown, so that no
 * photo signed with an unregistered key is pushed.
 * @param {FieldsyncClient} c
 */
export function registerCaptureKeys(c: FieldsyncClient): Promise<void>;
/**
 * The capture fields of a photo taken with the camera: capture_sig and
 * capture_key_id over its fields, or null without Web Crypto.
 * @param {FieldsyncClient} c
 * @param {string} photoId
 * @param {Record<string, any>} fields the photo's fields as they will be sent
 * @returns {Promise<{capture_sig: string, capture_key_id: string} | null>}
 */
export function signCapture(c: FieldsyncClient, photoId: string, fields: Record<string, any>): Promise<{
    capture_sig: string;
    capture_key_id: string;
} | null>;
/** The first line of every capture message. */
export const CAPTURE_VERSION: "fieldsync-capture-v1";
/** The first line of a key registration's proof (signed-captures.md §1). */
export const KEY_PROOF_VERSION: "fieldsync-capture-key-v1";
/** The photo fields a capture signature covers, in message order. */
export const CAPTURE_FIELDS: readonly ["sha256", "captured_at", "lon", "lat", "accuracy_m", "crs", "inspection_id", "finding_id", "vehicle_check_id", "item_key"];
/** The capture key endpoint. */
export const PATH_CAPTURE_KEY: "/api/v1/devices/key";
/**
 * A device's capture key as the client keeps it (the private key is a
 * non-extractable CryptoKey, kept by structured clone).
 */
export type CaptureKey = {
    privateKey: CryptoKey;
    /**
     * base64 of the DER SubjectPublicKeyInfo
     */
    spki: string;
    /**
     * lower-case hex SHA-256 of the SPKI
     */
    keyId: string;
    /**
     * the device it was made for
     */
    deviceId: string;
    /**
     * whether the server has it
     */
    registered: boolean;
};
export type CurrentKey = {
    privateKey: CryptoKey;
    keyId: string;
    spki: string;
    deviceId: string;
};
export type PublicKey = {
    keyId: string;
    spki: string;
    registered: boolean;
};
export type FieldsyncClient = import("./client.js").FieldsyncClient;
