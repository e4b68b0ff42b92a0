// An uploaded photo's original leaves the phone after keepOriginalsFor,
// its server thumbnail kept in its place; a photo not on the server never
// does. Against the real fieldsync binary (FIELDSYNC_BIN).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { FileStorage } from '../src/storage/file.js';
import { demoSite, device, startServer, syncOK, tempDir, testJPEG } from './helpers.js';

const DAY = 24 * 3600 * 1000;

/** @param {FieldsyncClient} c @returns {Promise<string>} a new photo of a new draft inspection */
async function photo(c) {
  const insp = uuidv7();
  await c.save('inspection', insp, { site_id: await demoSite(c), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const p = await c.takePhoto({
    blob: testJPEG(),
    contentType: 'image/jpeg',
    fields: { inspection_id: insp, item_key: 'cover', captured_at: new Date(c.now()).toISOString(), lon: 112.745, lat: 38.433, crs: 'wgs84', accuracy_m: 8 },
  });
  return p.id;
}

/**
 * Syncs c until the server has made photo id's thumbnail, for at most a
 * minute. The server processes a photo in the background once devices
 * have been quiet for a second (or 30 s after the upload): the syncs are
 * that far apart.
 * @param {FieldsyncClient} c @param {string} id
 */
async function syncUntilProcessed(c, id) {
  for (const end = Date.now() + 60_000; ; ) {
    await syncOK(c);
    if (typeof (await c.get('photo', id))?.fields.processed_at === 'string') return;
    assert.ok(Date.now() < end, 'the server processed the photo within a minute');
    await pause(1500);
  }
}

/** @param {FieldsyncClient} c @param {string} id the size of the photo's original on the phone, or -1 */
async function originalSize(c, id) {
  const b = await c.photoBytes(id);
  return b ? (await bytesOf(b)).length : -1;
}

/** @param {Blob | Uint8Array} b */
async function bytesOf(b) {
  return b instanceof Uint8Array ? b : new Uint8Array(await b.arrayBuffer());
}

test('an uploaded original leaves the phone after keepOriginalsFor; its thumbnail shows in its place, offline too', async () => {
  const srv = await startServer({ dataDir: tempDir('originals') });
  const dir = tempDir('originals-phone');
  const a = await device(srv.url, { storage: await FileStorage.open(dir) });
  await syncOK(a);
  const id = await photo(a);
  await syncUntilProcessed(a, id);
  assert.equal((await a.get('photo', id))?.fields.uploaded, true);

  // Within the week the original stays, and is what photoImage gives.
  assert.equal(await originalSize(a, id), testJPEG().length);
  const shown = await a.photoImage(id);
  assert.equal(shown?.original, true);
  assert.equal(shown?.contentType, 'image/jpeg');
  assert.equal((await a.uploads()).length, 1);

  // The week is counted by the server's clock (a phone's own clock, set
  // forward, would not purge): the photo is made to have been uploaded
  // that long ago.
  /** @param {number} ago */
  const uploadedAgo = (ago) =>
    a.storage.transaction('uploads', 'readwrite', async (tx) => {
      const job = await tx.get('uploads', id);
      await tx.put('uploads', id, { ...job, uploadedAt: a.now() - ago });
    });
  await uploadedAgo(7 * DAY - 60_000);
  await syncOK(a);
  assert.ok(await a.photoBytes(id), 'kept a minute short of 7 days');

  await uploadedAgo(7 * DAY + 60_000);
  await syncOK(a);
  assert.equal(await a.photoBytes(id), null, 'the original left the phone after 7 days');
  assert.deepEqual(await a.uploads(), [], 'no upload job is left');
  assert.equal(a.status().pendingPhotos, 0);
  const resp = await fetch(`${srv.url}/api/v1/photos/${id}/thumbnail`, { headers: { Authorization: `Bearer ${a.auth.access}` } });
  assert.equal(resp.status, 200);
  const served = new Uint8Array(await resp.arrayBuffer());

  // Offline, on the same storage after a restart, the server's thumbnail
  // shows in the original's place: the sync kept it.
  await a.storage.close();
  const offline = await FieldsyncClient.open({
    baseURL: srv.url,
    storage: await FileStorage.open(dir),
    fetch: () => Promise.reject(new TypeError('offline')),
  });
  const thumb = await offline.photoImage(id);
  assert.equal(thumb?.original, false);
  assert.equal(thumb?.contentType, 'image/jpeg');
  assert.deepEqual(await bytesOf(/** @type {Blob | Uint8Array} */ (thumb?.bytes)), served, "the server's thumbnail is kept");
  await offline.storage.close();
});

test('an original the server does not have stays, whatever its age; keepOriginalsFor is checked', async () => {
  const srv = await startServer({ dataDir: tempDir('originals-kept') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const id = await photo(a);
  // Not sent yet: purging now, or a sync that cannot reach the server, keeps it.
  assert.equal(await a.purgeOriginals({ olderThan: 0 }), 0);
  assert.equal(await originalSize(a, id), testJPEG().length);
  const down = await FieldsyncClient.open({ baseURL: srv.url, storage, fetch: () => Promise.reject(new TypeError('offline')), keepOriginalsFor: 0 });
  assert.equal((await down.sync()).error?.code, 'network');
  assert.ok(await down.photoBytes(id));

  for (const bad of [-1, NaN]) {
    await assert.rejects(FieldsyncClient.open({ baseURL: srv.url, storage: new MemoryStorage(), keepOriginalsFor: bad }), RangeError);
  }
  // Infinity keeps originals for good, even once the server has them.
  const keeper = await FieldsyncClient.open({ baseURL: srv.url, storage, keepOriginalsFor: Infinity });
  await syncUntilProcessed(keeper, id);
  assert.equal(await keeper.purgeOriginals(), 0);
  assert.ok(await keeper.photoBytes(id));
  // With 0, the next sync removes it.
  const eager = await FieldsyncClient.open({ baseURL: srv.url, storage, keepOriginalsFor: 0 });
  await syncOK(eager);
  assert.equal(await eager.photoBytes(id), null);
  assert.equal((await eager.photoImage(id))?.original, false);
});

test("a colleague's photo shows as the server's thumbnail, fetched once and kept", async () => {
  const srv = await startServer({ dataDir: tempDir('originals-colleague') });
  const a = await device(srv.url);
  await syncOK(a);
  const id = await photo(a);
  await syncUntilProcessed(a, id);

  let thumbs = 0;
  /** @type {typeof fetch} */
  const counting = (input, init) => {
    if (String(input).endsWith('/thumbnail')) thumbs++;
    return fetch(input, init);
  };
  const b = await device(srv.url, { fetch: counting });
  await syncOK(b);
  assert.equal((await b.get('photo', id))?.fields.uploaded, true);
  assert.equal(await b.photoBytes(id), null, 'the original is on the phone that took it only');
  const first = await b.photoImage(id);
  assert.equal(first?.original, false);
  const second = await b.photoImage(id);
  assert.deepEqual(await bytesOf(/** @type {any} */ (second?.bytes)), await bytesOf(/** @type {any} */ (first?.bytes)));
  assert.equal(thumbs, 1, 'the thumbnail is fetched once, then read from the phone');
  // Signed out, nothing is fetched.
  const c = await FieldsyncClient.open({ baseURL: srv.url, storage: new MemoryStorage() });
  assert.equal(await c.photoImage(id), null);

  // A network answering in the server's stead (a Wi-Fi's sign-in page):
  // its page is not kept as the thumbnail, which comes once the server
  // answers again; a push answered so keeps its batch for later.
  let portal = false;
  /** @type {typeof fetch} */
  const wifi = (input, init) =>
    portal && !String(input).includes('/auth/') ? Promise.resolve(new Response('<html>请先登录 Wi-Fi</html>', { status: 200, headers: { 'Content-Type': 'text/html' } })) : fetch(input, init);
  const d = await device(srv.url, { fetch: wifi });
  await syncOK(d);
  const site = await demoSite(d);
  portal = true;
  assert.equal(await d.photoImage(id), null, 'a sign-in page is not a thumbnail');
  await d.save('inspection', uuidv7(), { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const r = await d.sync();
  assert.equal(r.error?.code, 'network', `a sync answered by the sign-in page: ${r.error?.code} ${r.error?.message}`);
  assert.match(r.error?.message ?? '', /不是服务器/);
  assert.equal(d.status().pendingChanges, 1, 'the change waits');
  portal = false;
  const image = await d.photoImage(id);
  assert.equal(image?.original, false);
  const got = await bytesOf(/** @type {any} */ (image?.bytes));
  assert.deepEqual([got[0], got[1]], [0xff, 0xd8], 'the server\'s JPEG thumbnail');
  await syncOK(d);
  assert.equal(d.status().pendingChanges, 0);
});

test('an original whose photo has no thumbnail (a HEIC, an unreadable file) stays on the phone; no thumbnail is asked for a photo without one', async () => {
  const srv = await startServer({ dataDir: tempDir('originals-none') });
  let thumbs = 0;
  /** @type {typeof fetch} */
  const noThumbnail = (input, init) => {
    if (String(input).endsWith('/thumbnail')) {
      thumbs++;
      // As the server answers for a HEIC or an unreadable photo, processed.
      return Promise.resolve(new Response(JSON.stringify({ code: 'not_ready', message: '没有缩略图' }), { status: 404, headers: { 'Content-Type': 'application/json' } }));
    }
    return fetch(input, init);
  };
  const a = await device(srv.url, { fetch: noThumbnail, keepOriginalsFor: 0 });
  await syncOK(a);
  const id = await photo(a);
  await syncUntilProcessed(a, id);
  assert.ok(thumbs > 0, 'the purge asked for the thumbnail');
  assert.equal(await originalSize(a, id), testJPEG().length, 'the original stays: it is the only picture of it on the phone');
  assert.equal((await a.photoImage(id))?.original, true);

  // A colleague's photo record whose bytes are not on the server: nothing to fetch.
  const b = await device(srv.url);
  await syncOK(b);
  const unsent = uuidv7();
  const insp = uuidv7();
  await b.save('inspection', insp, { site_id: await demoSite(b), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await b.save('photo', unsent, { inspection_id: insp, sha256: 'ab'.repeat(32), content_type: 'image/jpeg' });
  await syncOK(b);
  await syncOK(a);
  assert.equal((await a.get('photo', unsent))?.fields.uploaded ?? false, false);
  const before = thumbs;
  assert.equal(await a.photoImage(unsent), null);
  assert.equal(thumbs, before, 'no thumbnail is asked for a photo whose bytes the server has not');
});
