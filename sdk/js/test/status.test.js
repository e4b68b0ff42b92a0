// The counts a sync tells its listeners ("sync" events, sync.md's
// status), against the real fieldsync binary: as the storage has them
// when the sync begins (another tab or client may have saved), and the
// records sent as soon as they are, before photos that can take minutes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

test('a sync says the records are sent before it uploads the photos', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await a.takePhoto({ blob: new TextEncoder().encode('不是图片'), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  /** @type {string[]} */
  const seen = [];
  a.on('sync', (s) => seen.push(`${s.pendingRecords}/${s.pendingPhotos}`));
  let uploading = false;
  await a.sync({ onProgress: (p) => { if (p.phase === 'upload' && !uploading) { uploading = true; seen.push('upload'); } } });
  const sent = seen.indexOf('0/1');
  assert.ok(sent >= 0 && sent < seen.indexOf('upload'), `the records sent, the photo waiting, told before the upload: ${seen.join(' ')}`);
});

test('a sync begins with the counts as stored: another client of the storage saved since this one looked', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const b = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' });
  assert.equal(b.status().pendingRecords, 0);
  await a.save('inspection', uuidv7(), { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  assert.equal(b.status().pendingRecords, 0, 'b has not looked yet');
  /** @type {number[]} */
  const seen = [];
  b.on('sync', (s) => seen.push(s.pendingRecords));
  await syncOK(b);
  assert.ok(seen.includes(1), `b's sync told the record a saved before sending it: ${seen.join(' ')}`);
  assert.equal(seen.at(-1), 0);
});
