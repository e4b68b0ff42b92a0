// Signed captures (mobile-api-docs/signed-captures.md): the device's capture
// key (ECDSA P-256, made by Web Crypto with a non-extractable private key),
// the canonical message of a photo's evidence fields, and its signature.
// Web Crypto exists only in secure contexts (HTTPS or localhost): without
// it the client makes no key and its photos arrive unsigned (not_in_app).

import { sha256Hex } from './upload.js';

/** The first line of every capture message. */
export const CAPTURE_VERSION = 'fieldsync-capture-v1';

/** The first line of a key registration's proof (signed-captures.md §1). */
export const KEY_PROOF_VERSION = 'fieldsync-capture-key-v1';

/** The photo fields a capture signature covers, in message order. */
export const CAPTURE_FIELDS = /** @type {const} */ ([
  'sha256',
  'captured_at',
  'lon',
  'lat',
  'accuracy_m',
  'crs',
  'inspection_id',
  'finding_id',
  'vehicle_check_id',
  'item_key',
]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };

/** @returns {SubtleCrypto | undefined} Web Crypto, where the page has it */
export function subtleCrypto() {
  return globalThis.crypto?.subtle;
}

/**
 * A field value's text in the message: a string as it is, a number as
 * String(n) (its shortest round-trip text, as JSON.stringify writes it),
 * '' for null or absent.
 * @param {any} v
 * @returns {string}
 */
export function captureText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return Object.is(v, -0) ? '0' : String(v);
  throw new TypeError(`capture field of type ${typeof v} cannot be signed`);
}

/**
 * The message a capture signature signs (signed-captures.md §2).
 * @param {string} deviceId
 * @param {string} photoId
 * @param {Record<string, any>} fields the photo's fields as sent
 * @returns {string}
 */
export function captureMessage(deviceId, photoId, fields) {
  /** @type {Array<[string, string]>} */
  const lines = [
    ['device_id', deviceId],
    ['photo_id', photoId],
    ...CAPTURE_FIELDS.map((f) => /** @type {[string, string]} */ ([f, captureText(fields[f])])),
  ];
  let out = CAPTURE_VERSION + '\n';
  for (const [name, v] of lines) {
    if (/[\r\n]/.test(v)) throw new TypeError(`capture field ${name} contains a line break`);
    out += `${name}=${v}\n`;
  }
  return out;
}

/**
 * The message a key registration's proof signs (signed-captures.md §1):
 * the key's signature of it proves that the registering device holds the
 * private key.
 * @param {string} deviceId the registering device
 * @param {string} keyId the key's id
 * @returns {string}
 */
export function keyProofMessage(deviceId, keyId) {
  return `${KEY_PROOF_VERSION}\ndevice_id=${deviceId}\nkey_id=${keyId}\n`;
}

/** @param {ArrayBuffer | Uint8Array} buf @returns {string} */
function base64(buf) {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** @param {ArrayBuffer | Uint8Array} buf @returns {string} base64url without padding */
export function base64url(buf) {
  return base64(buf).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

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
export async function generateCaptureKey(deviceId, subtle = subtleCrypto()) {
  if (!subtle) throw new Error('Web Crypto is not available');
  const pair = /** @type {CryptoKeyPair} */ (await subtle.generateKey(ALG, false, ['sign', 'verify']));
  const spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey));
  return { privateKey: pair.privateKey, spki: base64(spki), keyId: await sha256Hex(spki), deviceId, registered: false };
}

/**
 * Signs a capture message: base64url of the IEEE P1363 r||s signature.
 * @param {CryptoKey} privateKey
 * @param {string} message
 * @param {SubtleCrypto} [subtle]
 * @returns {Promise<string>}
 */
export async function signCaptureMessage(privateKey, message, subtle = subtleCrypto()) {
  if (!subtle) throw new Error('Web Crypto is not available');
  const sig = await subtle.sign(SIGN, privateKey, new TextEncoder().encode(message));
  return base64url(sig);
}

// ---- the client's key ---------------------------------------------------------
//
// meta "captureKey" holds the current key ({privateKey, keyId, spki,
// deviceId}); meta "captureKeys" the public half of every key the device
// made ({keyId, spki, registered}), so that a key whose photos are still in
// the outbox is registered even after the private key is gone (a storage
// that cannot keep a CryptoKey, like FileStorage, makes a new key per run:
// the server keeps verifying the old ones).

/** The capture key endpoint. */
export const PATH_CAPTURE_KEY = '/api/v1/devices/key';

/** Answers after which a key is not sent again (it can never be accepted). */
const REFUSED = new Set([400, 404, 409, 413, 415]);

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
export function currentKey(c) {
  if (!subtleCrypto()) return Promise.resolve(null);
  if (!c.keying) {
    c.keying = loadOrMake(c).finally(() => {
      c.keying = null;
    });
  }
  return c.keying;
}

/** @param {FieldsyncClient} c @returns {Promise<CurrentKey>} */
async function loadOrMake(c) {
  const stored = await c.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'captureKey'));
  if (stored && stored.deviceId === c.deviceId && isCryptoKey(stored.privateKey)) return stored;
  const k = await generateCaptureKey(c.deviceId);
  /** @type {CurrentKey} */
  const cur = { privateKey: k.privateKey, keyId: k.keyId, spki: k.spki, deviceId: c.deviceId };
  await c.storage.transaction('meta', 'readwrite', async (tx) => {
    /** @type {PublicKey[]} */
    const all = (await tx.get('meta', 'captureKeys')) ?? [];
    all.push({ keyId: k.keyId, spki: k.spki, registered: false });
    await tx.put('meta', 'captureKeys', all);
    await tx.put('meta', 'captureKey', cur);
  });
  return cur;
}

/** @param {any} k */
function isCryptoKey(k) {
  return typeof CryptoKey !== 'undefined' && k instanceof CryptoKey;
}

/**
 * Marks every key of the device as one to register again: after a sign-in
 * and after a resync (sync.md §8.3), the server may be a restored one that
 * lacks a key registered after its backup, and would mark each photo
 * signed with it unknown_key. Registering a key the server has answers
 * the same, so this costs one request per key.
 * @param {import('./storage/storage.js').Tx} tx a readwrite transaction on meta
 */
export async function registerAgain(tx) {
  /** @type {PublicKey[]} */
  const all = (await tx.get('meta', 'captureKeys')) ?? [];
  if (all.some((k) => k.registered)) await tx.put('meta', 'captureKeys', all.map((k) => ({ ...k, registered: false })));
}

/**
 * Registers every key of the device the server does not have yet. A key
 * the server refuses for good is forgotten (a new one is made for the next
 * capture); other errors (network, server busy) are thrown, so that no
 * photo signed with an unregistered key is pushed.
 * @param {FieldsyncClient} c
 */
export async function registerCaptureKeys(c) {
  /** @type {PublicKey[]} */
  const all = (await c.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'captureKeys'))) ?? [];
  const cur = await c.storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'captureKey'));
  for (const k of all.filter((x) => !x.registered)) {
    let ok = true;
    try {
      /** @type {{public_key: string, proof?: string}} */
      const body = { public_key: k.spki };
      // The proof takes the key back from another device that registered
      // its public half first; only the current key's private half is kept.
      if (cur?.keyId === k.keyId && isCryptoKey(cur.privateKey) && cur.deviceId === c.deviceId) {
        body.proof = await signCaptureMessage(cur.privateKey, keyProofMessage(c.deviceId, k.keyId));
      }
      const r = await c.api('POST', PATH_CAPTURE_KEY, body);
      ok = r?.key_id === k.keyId;
    } catch (err) {
      if (!(err instanceof Error && 'status' in err && REFUSED.has(/** @type {any} */ (err).status))) throw err;
      ok = false;
    }
    await c.storage.transaction('meta', 'readwrite', async (tx) => {
      /** @type {PublicKey[]} */
      const now = (await tx.get('meta', 'captureKeys')) ?? [];
      const i = now.findIndex((x) => x.keyId === k.keyId);
      if (i >= 0 && ok) now[i] = { ...now[i], registered: true };
      if (i >= 0 && !ok) now.splice(i, 1);
      await tx.put('meta', 'captureKeys', now);
      const cur = await tx.get('meta', 'captureKey');
      if (!ok && cur?.keyId === k.keyId) await tx.delete('meta', 'captureKey');
    });
  }
}

/**
 * The capture fields of a photo taken with the camera: capture_sig and
 * capture_key_id over its fields, or null without Web Crypto.
 * @param {FieldsyncClient} c
 * @param {string} photoId
 * @param {Record<string, any>} fields the photo's fields as they will be sent
 * @returns {Promise<{capture_sig: string, capture_key_id: string} | null>}
 */
export async function signCapture(c, photoId, fields) {
  const k = await currentKey(c);
  if (!k) return null;
  const sig = await signCaptureMessage(k.privateKey, captureMessage(c.deviceId, photoId, fields));
  return { capture_sig: sig, capture_key_id: k.keyId };
}
