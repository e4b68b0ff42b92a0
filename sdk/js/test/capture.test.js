// Signed captures (mobile-api-docs/signed-captures.md): the message, the
// key and the signature with Node's Web Crypto, the vector shared with Go
// (syncproto/testdata/capture_vector.json), and a camera capture signed,
// registered and checked by the real fieldsync binary.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { uuidv7, MemoryStorage } from '../src/index.js';
import { captureMessage, captureText, generateCaptureKey, keyProofMessage, signCaptureMessage, CAPTURE_FIELDS } from '../src/capture.js';
import { sha256Hex } from '../src/upload.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

const vector = JSON.parse(fs.readFileSync(new URL('../../../syncproto/testdata/capture_vector.json', import.meta.url), 'utf8'));
const subtle = globalThis.crypto.subtle;
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };

/** @param {string} s base64 or base64url */
const bytes = (s) => new Uint8Array(Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));

test('the shared vector: the same message as Go, and Web Crypto verifies its signature', async () => {
  assert.equal(captureMessage(vector.device_id, vector.photo_id, vector.fields), vector.message);
  assert.equal(await sha256Hex(bytes(vector.public_key_spki)), vector.key_id);
  const pub = await subtle.importKey('spki', bytes(vector.public_key_spki), ECDSA, false, ['verify']);
  const msg = new TextEncoder().encode(vector.message);
  assert.ok(await subtle.verify(SIGN, pub, bytes(vector.capture_sig), msg));
  const tampered = new TextEncoder().encode(vector.message.replace('lat=38.4161', 'lat=38.4162'));
  assert.equal(await subtle.verify(SIGN, pub, bytes(vector.capture_sig), tampered), false);
  // A signature made now with the vector's private key verifies too.
  const priv = await subtle.importKey('pkcs8', bytes(vector.private_key_pkcs8), ECDSA, false, ['sign']);
  assert.ok(await subtle.verify(SIGN, pub, bytes(await signCaptureMessage(priv, vector.message)), msg));
});

test("the shared vector's key proof: the same message as Go, and Web Crypto verifies it", async () => {
  assert.equal(keyProofMessage(vector.device_id, vector.key_id), vector.key_proof_message);
  const pub = await subtle.importKey('spki', bytes(vector.public_key_spki), ECDSA, false, ['verify']);
  const verify = (/** @type {string} */ m) => subtle.verify(SIGN, pub, bytes(vector.key_proof), new TextEncoder().encode(m));
  assert.ok(await verify(vector.key_proof_message));
  assert.equal(await verify(keyProofMessage(vector.photo_id, vector.key_id)), false, 'another device');
});

test('numbers are written as Go writes them (canonical JSON)', () => {
  for (const [json, want] of vector.numbers) assert.equal(captureText(JSON.parse(json)), want, json);
  assert.equal(captureText(-0), '0');
  assert.equal(captureText(null), '');
  assert.equal(captureText(undefined), '');
  assert.throws(() => captureText({}), TypeError);
  assert.throws(() => captureMessage('d', 'p', { item_key: 'a\nb' }), TypeError);
  const m = captureMessage('d', 'p', {});
  assert.deepEqual(
    m.split('\n').slice(3, -1).map((l) => l.split('=')[0]),
    CAPTURE_FIELDS.slice(),
    'every field has its line, in order, empty when absent',
  );
});

test('a capture key is P-256 with a non-extractable private key, and signs P1363 signatures', async () => {
  const k = await generateCaptureKey('dev');
  assert.equal(k.privateKey.extractable, false);
  await assert.rejects(subtle.exportKey('pkcs8', k.privateKey));
  assert.match(k.keyId, /^[0-9a-f]{64}$/);
  assert.equal(k.keyId, await sha256Hex(bytes(k.spki)));
  const sig = await signCaptureMessage(k.privateKey, 'hello');
  assert.match(sig, /^[A-Za-z0-9_-]{86}$/, '64 bytes r||s, base64url');
  const pub = await subtle.importKey('spki', bytes(k.spki), ECDSA, false, ['verify']);
  assert.ok(await subtle.verify(SIGN, pub, bytes(sig), new TextEncoder().encode('hello')));
});

test('a camera capture is signed and the server says so; a gallery pick is not_in_app', async () => {
  const srv = await startServer({ dataDir: tempDir('capture') });
  const storage = new MemoryStorage();
  const c = await device(srv.url, { storage });
  const key = await c.captureKey();
  assert.ok(key?.registered, 'the key is registered at sign-in');
  const stored = await storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'captureKey'));
  assert.ok(stored.privateKey instanceof CryptoKey && !stored.privateKey.extractable, 'the private key is kept as a non-extractable CryptoKey');
  await syncOK(c);
  const insp = uuidv7();
  await c.save('inspection', insp, { site_id: await demoSite(c), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const fields = { inspection_id: insp, item_key: 'cover', captured_at: '2026-11-30T10:15:04+08:00', lon: 112.745, lat: 38.433, crs: 'wgs84', accuracy_m: 8.5 };
  const camera = await c.takePhoto({ blob: new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]), contentType: 'image/jpeg', fields, camera: true });
  assert.equal(camera.fields.capture_key_id, key.keyId);
  assert.match(camera.fields.capture_sig, /^[A-Za-z0-9_-]{86}$/);
  const gallery = await c.takePhoto({ blob: new Uint8Array([0xff, 0xd8, 0xff, 4, 5, 6]), contentType: 'image/jpeg', fields });
  assert.equal(gallery.fields.capture_sig, undefined);
  await c.sync(); // the uploads of these stand-in bytes fail as bad_image; the records arrive
  assert.deepEqual((await c.get('photo', camera.id))?.fields.capture?.status, 'signed');
  assert.deepEqual((await c.get('photo', gallery.id))?.fields.capture?.status, 'not_in_app');
  await assert.rejects(c.save('photo', camera.id, { capture: { status: 'signed' } }), { code: 'server_owned_field', field: 'capture' });
});

test('a key made while offline is registered by the next sync, before the photos it signed', async () => {
  const srv = await startServer({ dataDir: tempDir('capture-offline') });
  const storage = new MemoryStorage();
  const c = await device(srv.url, { storage });
  // Forget the key made at sign-in, as a storage that cannot keep a
  // CryptoKey would: the next capture makes a new one, offline.
  await storage.transaction('meta', 'readwrite', (tx) => tx.delete('meta', 'captureKey'));
  await syncOK(c);
  const insp = uuidv7();
  await c.save('inspection', insp, { site_id: await demoSite(c), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const p = await c.takePhoto({ blob: new Uint8Array([0xff, 0xd8, 0xff, 7]), contentType: 'image/jpeg', fields: { inspection_id: insp }, camera: true });
  const keys = await storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'captureKeys'));
  assert.equal(keys.length, 2);
  assert.equal(keys.find((/** @type {any} */ k) => k.keyId === p.fields.capture_key_id)?.registered, false);
  await c.sync();
  assert.equal((await c.get('photo', p.id))?.fields.capture?.status, 'signed');
  const after = await storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'captureKeys'));
  assert.ok(after.every((/** @type {any} */ k) => k.registered), 'both keys registered');
});
