// A photo upload the server refuses for good (bad_image, sync.md §10.4)
// waits for the user's decision, against the real fieldsync binary:
// retryUpload queues it again, discardUpload gives it up so that it no
// longer holds a sign-out.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, startServer, syncOK, tempDir, testJPEG } from './helpers.js';

test('a failed upload: counted until the user retries or discards it; discarded, it no longer holds the sign-out', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const photo = await a.takePhoto({ blob: new TextEncoder().encode('不是图片'), contentType: 'image/jpeg', fields: { inspection_id: insp } });

  let r = await a.sync();
  assert.equal(r.error?.code, 'bad_image');
  const job = async () => (await a.uploads()).find((j) => j.photoId === photo.id);
  assert.equal((await job())?.state, 'failed');
  assert.deepEqual([a.status().pendingPhotos, a.status().failedPhotos], [1, 1]);
  await assert.rejects(a.signOut(), (e) => /** @type {any} */ (e).code === 'unsent_changes' && /** @type {any} */ (e).details.photos === 1);

  // Retried: queued again, and the next sync sends it (refused again: the
  // bytes are still no image).
  await a.retryUpload(photo.id);
  assert.deepEqual([(await job())?.state, (await job())?.error], ['queued', null]);
  assert.deepEqual([a.status().pendingPhotos, a.status().failedPhotos], [1, 0]);
  r = await a.sync();
  assert.equal(r.error?.code, 'bad_image', 'sent again');
  assert.equal((await job())?.state, 'failed');

  // Only a failed job waits for a decision.
  await assert.rejects(a.retryUpload(uuidv7()), (e) => /** @type {any} */ (e).code === 'not_found');

  await a.discardUpload(photo.id);
  assert.equal(await job(), undefined);
  assert.equal(await a.photoBytes(photo.id), null);
  assert.deepEqual([a.status().pendingPhotos, a.status().failedPhotos], [0, 0]);
  assert.ok(await a.get('photo', photo.id), 'the record stays');
  await syncOK(a);
  await a.signOut();
  assert.equal(a.signedIn, false);
});

test("a photo saved with the wrong type is uploaded once its record's content_type is corrected: the job follows the record (SDK probe: refused for good, lost if discarded)", async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const photo = await a.takePhoto({ blob: testJPEG(), contentType: 'image/png', fields: { inspection_id: insp } });
  const r = await a.sync();
  assert.equal(r.error?.code, 'bad_image', 'a JPEG declared PNG');
  const job = async () => (await a.uploads()).find((j) => j.photoId === photo.id);
  assert.equal((await job())?.state, 'failed');
  // sync.md §10.4: correct the record, and upload again with the right type.
  await a.save('photo', photo.id, { content_type: 'image/jpeg' });
  assert.deepEqual([(await job())?.state, (await job())?.contentType], ['queued', 'image/jpeg']);
  await syncOK(a);
  assert.equal((await job())?.state, 'done');
  assert.equal((await a.get('photo', photo.id))?.fields.uploaded, true, 'the server has the photo');
});

test('retryUpload and discardUpload refuse a job that has not failed', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const photo = await a.takePhoto({ blob: new TextEncoder().encode('还没上传'), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  await assert.rejects(a.discardUpload(photo.id), (e) => /** @type {any} */ (e).code === 'upload_not_failed');
  await assert.rejects(a.retryUpload(photo.id), (e) => /** @type {any} */ (e).code === 'upload_not_failed');
  assert.ok(await a.photoBytes(photo.id), 'the bytes are kept');
  assert.equal(a.status().pendingPhotos, 1);
});

test('an upload begun at an address the server no longer answers at goes on at the client\'s address, not at the old one for ever', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const photo = await a.takePhoto({ blob: testJPEG(), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  // Begun at an old address (the city moved to several servers).
  await storage.transaction('uploads', 'readwrite', async (tx) => {
    const j = await tx.get('uploads', photo.id);
    await tx.put('uploads', photo.id, { ...j, url: `http://127.0.0.1:1/api/v1/uploads/${photo.id}` });
  });
  await syncOK(a);
  assert.equal((await a.get('photo', photo.id))?.fields.uploaded, true, 'the server has the photo');
});

test('a failed upload is sent again whole: its bytes all wait, not those after where it stopped (SDK probe)', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url, { chunkSize: 64 * 1024 });
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const bytes = new Uint8Array(200 * 1024).fill(7); // no image, sent in four chunks
  const photo = await a.takePhoto({ blob: bytes, contentType: 'image/jpeg', fields: { inspection_id: insp } });
  const r = await a.sync();
  assert.equal(r.error?.code, 'bad_image');
  const job = (await a.uploads()).find((j) => j.photoId === photo.id);
  assert.equal(job?.state, 'failed');
  assert.ok((job?.offset ?? 0) > 0, `the chunks before the refusal were taken: ${job?.offset}`);
  assert.equal(a.status().pendingBytes, bytes.length, 'retryUpload sends it from its first byte');
  await a.retryUpload(photo.id);
  assert.equal(a.status().pendingBytes, bytes.length);
});
