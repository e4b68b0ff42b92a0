// Integration tests against the real fieldsync binary (FIELDSYNC_BIN, built
// by sdk_test.go) on a loopback port: no mocks of our own components.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import { test } from 'node:test';
import { uuidv7 } from '../src/index.js';
import { FileStorage } from '../src/storage/file.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

/** @param {string} dataDir @param {string} [addr] */
async function server(dataDir = tempDir('data'), addr) {
  const s = await startServer({ dataDir, addr });
  return { ...s, dataDir };
}

test('two devices converge: different fields both survive, the later write of one field wins, deletes stick', async () => {
  const srv = await server();
  const a = await device(srv.url);
  // B's clock runs a second ahead (within the allowed skew), so its edit of
  // the shared field is the later one whatever the timing.
  const b = await device(srv.url, { user: 'inspector2', now: () => Date.now() + 1000 });
  const site = uuidv7();
  await a.save('site', site, { county: '140902', kind: 'construction_site', name: '南岸工地', lon: 112.75, lat: 38.43, crs: 'gcj02' });
  assert.deepEqual((await a.get('site', site))?.pending.sort(), ['county', 'crs', 'kind', 'lat', 'lon', 'name']);
  assert.equal(a.status().pendingChanges, 1);
  const ra = await syncOK(a);
  assert.equal(ra.pushed, 1);
  assert.deepEqual((await a.get('site', site))?.pending, []);
  assert.equal((await a.get('site', site))?.fields.lon_wgs84 !== undefined, true, 'the pull brought the server-owned fields');
  await syncOK(b);
  assert.equal((await b.get('site', site))?.fields.name, '南岸工地');

  // Offline on both phones.
  await a.save('site', site, { note: 'A 的备注', name: 'A 改的名字' });
  await b.save('site', site, { address: 'B 的地址', name: 'B 改的名字' });
  await syncOK(b);
  const ra2 = await syncOK(a); // A's name arrives after B's newer one: stale
  assert.equal(ra2.superseded.length, 1);
  await syncOK(b);
  const sa = await a.get('site', site);
  const sb = await b.get('site', site);
  assert.deepEqual(sa?.fields, sb?.fields);
  assert.deepEqual(sa?.hlcs, sb?.hlcs);
  assert.equal(sa?.fields.name, 'B 改的名字');
  assert.equal(sa?.fields.note, 'A 的备注');
  assert.equal(sa?.fields.address, 'B 的地址');
  const sup = await a.superseded();
  assert.equal(sup.length, 1);
  assert.equal(sup[0].field, 'name');
  assert.equal(sup[0].value, 'A 改的名字');
  assert.equal(sup[0].by, b.deviceId, 'the winner is named once the pull brought it');
  await a.dismiss(sup[0]);
  assert.deepEqual(await a.superseded(), []);

  // A's edit reached the server, then B wrote the same field later: A's
  // next pull replaces it, and A is told (overwritten), once.
  await a.save('site', site, { note: 'A 的第二条备注' });
  await syncOK(a);
  await syncOK(b);
  await b.save('site', site, { note: 'B 的备注' });
  await syncOK(b);
  const ra3 = await syncOK(a);
  assert.equal((await a.get('site', site))?.fields.note, 'B 的备注');
  assert.deepEqual(ra3.superseded.map((s) => [s.field, s.value, s.code, s.by]), [['note', 'A 的第二条备注', 'overwritten', b.deviceId]]);
  assert.equal((await a.superseded()).length, 1);
  assert.deepEqual((await syncOK(a)).superseded, [], 'a later sync reports it no more');
  assert.deepEqual((await b.superseded()), [], 'the winner has nothing superseded');
  await a.dismiss(...(await a.superseded()));

  // A tombstone wins over an older offline edit, on both phones.
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: site, template_id: 'construction_dust', template_version: 1, status: 'draft' });
  await syncOK(a);
  await syncOK(b);
  await b.save('inspection', insp, { summary: 'B 离线编辑' });
  await a.remove('inspection', insp);
  await syncOK(a);
  await syncOK(b);
  await syncOK(a);
  assert.equal(await a.get('inspection', insp), null);
  assert.equal(await b.get('inspection', insp), null);
  assert.equal((await b.list('inspection', (r) => r.id === insp)).length, 0);
  assert.equal(a.status().pendingChanges + b.status().pendingChanges, 0);

  // The other order: A deletes offline, B edits later and reaches the
  // server first (applied), then A's delete: B's pull tells it that its
  // edit went with the record (SDK probe: it vanished without a word).
  const made = async () => {
    const id = uuidv7();
    await a.save('inspection', id, { site_id: site, template_id: 'construction_dust', template_version: 1, status: 'draft' });
    await syncOK(a);
    await syncOK(b);
    return id;
  };
  const lost = await made();
  await a.remove('inspection', lost);
  await b.save('inspection', lost, { summary: 'B 在删除之后的编辑' });
  await syncOK(b);
  await syncOK(a);
  const rb = await syncOK(b);
  assert.equal(await b.get('inspection', lost), null);
  assert.deepEqual(rb.superseded.map((s) => [s.id, s.field, s.value, s.code, s.by]), [[lost, 'summary', 'B 在删除之后的编辑', 'record_deleted', a.deviceId]]);
  assert.equal((await b.superseded()).filter((s) => s.id === lost).length, 1);
  assert.deepEqual((await syncOK(b)).superseded, [], 'told once');
  // An edit the deleting phone had seen before it deleted is not lost to
  // the delete: nothing to tell.
  const seen = await made();
  await b.save('inspection', seen, { summary: 'B 在删除之前的编辑' });
  await syncOK(b);
  await syncOK(a);
  await a.remove('inspection', seen);
  await syncOK(a);
  assert.deepEqual((await syncOK(b)).superseded, []);
  assert.equal(await b.get('inspection', seen), null);
});

test('a push whose answer is lost is re-sent with the same batch_id and applied once', async () => {
  const srv = await server();
  /** @type {string[]} */
  const batches = [];
  /** @type {any[]} */
  const answers = [];
  let lose = true;
  /** @type {typeof fetch} */
  const lossy = async (input, init) => {
    const resp = await globalThis.fetch(input, init);
    if (String(input).includes('/api/v1/sync/push')) {
      batches.push(JSON.parse(String(init?.body)).batch_id);
      answers.push(await resp.clone().json());
      if (lose) {
        lose = false;
        throw new TypeError('fetch failed: connection reset after the request was sent');
      }
    }
    return resp;
  };
  const a = await device(srv.url, { fetch: lossy });
  await syncOK(a);
  const site = await demoSite(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '一次' });
  const first = await a.sync();
  assert.equal(first.error?.code, 'network');
  assert.equal(first.ok, false);
  assert.equal(a.status().pendingChanges, 1, 'the change stays in the outbox');
  assert.equal(answers[0].results[0].status, 'applied', 'the server did apply it');
  const second = await syncOK(a);
  assert.equal(second.pushed, 1);
  assert.equal(batches.length, 2);
  assert.equal(batches[1], batches[0], 'the same batch_id');
  assert.equal(answers[1].replayed, true, 'the server answered with the stored results');
  assert.equal(a.status().pendingChanges, 0);
  const b = await device(srv.url, { user: 'inspector2' });
  await syncOK(b);
  assert.equal((await b.get('inspection', insp))?.fields.summary, '一次');
});

test('a process killed right after a local save loses nothing: a new process on the same FileStorage syncs it', async () => {
  const srv = await server();
  const dir = tempDir('phone');
  const first = await device(srv.url, { storage: await FileStorage.open(dir) });
  await syncOK(first);
  const site = await demoSite(first);
  const deviceId = first.deviceId;
  await first.storage.close();

  const child = spawn(process.execPath, [new URL('./fixtures/save-then-wait.js', import.meta.url).pathname, dir, srv.url, site], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(sig ?? code)));
  const line = await new Promise((resolve, reject) => {
    readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`child exited ${code} before saving`)));
  });
  child.kill('SIGKILL'); // right after the save, before any push
  assert.equal(await exited, 'SIGKILL');
  const { id } = JSON.parse(/** @type {string} */ (line));

  const again = await device(srv.url, { storage: await FileStorage.open(dir) });
  assert.equal(again.deviceId, deviceId, 'the device id survives');
  assert.equal(again.signedIn, true, 'the session survives');
  assert.equal(again.status().pendingChanges, 1);
  assert.equal((await again.get('inspection', id))?.fields.summary, '进程被杀前保存的检查');
  const r = await syncOK(again);
  assert.equal(r.pushed, 1);
  const b = await device(srv.url, { user: 'inspector2' });
  await syncOK(b);
  assert.equal((await b.get('inspection', id))?.fields.summary, '进程被杀前保存的检查');
});

test('a photo upload interrupted by killing the server resumes after the restart from the server offset', async () => {
  const jpegPath = process.env.FIELDSYNC_TEST_JPEG;
  assert.ok(jpegPath, 'FIELDSYNC_TEST_JPEG names a JPEG of a few MB (sdk_test.go writes it)');
  const jpeg = new Uint8Array(fs.readFileSync(jpegPath));
  const sha = createHash('sha256').update(jpeg).digest('hex');
  let srv = await server();
  const dir = tempDir('photo-phone');
  const a = await device(srv.url, { storage: await FileStorage.open(dir), chunkSize: 128 * 1024 });
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const photo = await a.takePhoto({
    blob: jpeg,
    contentType: 'image/jpeg',
    fields: { inspection_id: insp, item_key: 'cover', captured_at: new Date().toISOString(), lon: 112.745, lat: 38.433, crs: 'wgs84', accuracy_m: 8 },
  });
  assert.equal(photo.fields.sha256, sha);
  assert.equal(photo.fields.size_bytes, jpeg.length);
  assert.equal(a.status().pendingPhotos, 1);
  assert.equal(a.status().pendingBytes, jpeg.length);

  /** @type {Promise<void> | null} */
  let killed = null;
  const interrupted = await a.sync({
    onProgress: (p) => {
      if (p.phase === 'upload' && p.bytesDone >= jpeg.length * 0.4 && !killed) killed = srv.kill('SIGKILL');
    },
  });
  await killed;
  assert.ok(killed, 'the upload got under way');
  assert.equal(interrupted.ok, false);
  assert.equal(interrupted.uploaded, 0);
  const [job] = await a.uploads();
  assert.ok(job.url, 'the upload URL is kept in storage');
  assert.ok(job.offset > 0 && job.offset < jpeg.length, `the offset is kept: ${job.offset}`);

  // The phone restarts too: a new client on the same storage.
  await a.storage.close();
  srv = await server(srv.dataDir, srv.addr);
  const b = await device(srv.url, { storage: await FileStorage.open(dir), chunkSize: 128 * 1024 });
  const resumed = await syncOK(b);
  assert.equal(resumed.uploaded, 1);
  assert.ok(resumed.uploadedBytes > 0 && resumed.uploadedBytes < jpeg.length, `sent ${resumed.uploadedBytes} of ${jpeg.length} bytes after the restart`);
  assert.equal(b.status().pendingPhotos, 0);
  assert.equal((await b.get('photo', photo.id))?.fields.uploaded, true, 'the sync that uploaded the photo shows it uploaded (not only the next one)');

  const resp = await fetch(`${srv.url}/api/v1/photos/${photo.id}/original`, { headers: { Authorization: `Bearer ${b.auth.access}` } });
  assert.equal(resp.status, 200);
  const stored = new Uint8Array(await resp.arrayBuffer());
  assert.equal(createHash('sha256').update(stored).digest('hex'), sha, 'the server stored exactly the photo');
  await syncOK(b);
  assert.equal((await b.get('photo', photo.id))?.fields.uploaded, true);
  assert.deepEqual([...(/** @type {Uint8Array} */ (await b.photoBytes(photo.id)))].length, jpeg.length, 'the original is kept');
  await b.storage.close();
});

test('clock_skew: a phone an hour fast is corrected, its changes re-stamped and accepted', async () => {
  const srv = await server();
  let off = 0;
  const a = await device(srv.url, { now: () => Date.now() + off });
  await syncOK(a);
  // The phone's clock jumps an hour ahead, offline: the HLC of a change
  // made before any answer corrects it is an hour ahead, and stays the
  // floor of its later stamps until a clock_skew answer resets it. (At
  // sign-in the answer corrects the clock before any record is made:
  // clock.test.js.)
  off = 3600_000;
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const before = (await a.get('inspection', insp))?.hlcs.status ?? '';
  const r = await syncOK(a);
  assert.equal(r.pushed, 1);
  const after = (await a.get('inspection', insp))?.hlcs.status ?? '';
  assert.ok(after < before, `re-stamped from ${before} to ${after}`);
  assert.ok(Math.abs(a.clock.offset + 3600_000) < 60_000, `offset ${a.clock.offset} corrects the hour`);
  assert.ok(Math.abs(a.now() - Date.now()) < 60_000, `now() ${new Date(a.now()).toISOString()} reads the server's time`);
  assert.equal(a.status().pendingChanges, 0);
  const b = await device(srv.url, { user: 'inspector2' });
  await syncOK(b);
  assert.equal((await b.get('inspection', insp))?.hlcs.status, after);
});

test('sign-out refuses while changes are unsent and keeps them; server-owned fields are refused locally', async () => {
  const srv = await server();
  /** @type {typeof fetch} */
  const offline = async () => {
    throw new TypeError('fetch failed');
  };
  let net = true;
  const a = await device(srv.url, { fetch: (i, init) => (net ? globalThis.fetch(i, init) : offline(i, init)) });
  await syncOK(a);
  /** @type {any[]} */
  const auth = [];
  a.on('auth', (e) => auth.push(e));
  net = false;
  await assert.rejects(a.save('site', uuidv7(), { name: 'x', lon_wgs84: 1 }), { code: 'server_owned_field', field: 'lon_wgs84' });
  await assert.rejects(a.save('review', uuidv7(), { comment: 'x' }), { code: 'read_only_entity' });
  await a.save('site', uuidv7(), { county: '140902', kind: 'factory', name: '离线新增点位' });
  await assert.rejects(a.signOut(), (err) => {
    assert.equal(/** @type {any} */ (err).code, 'unsent_changes');
    assert.deepEqual(/** @type {any} */ (err).details, { changes: 1, records: 1, photos: 0, rejected: 0 });
    return true;
  });
  assert.equal(a.signedIn, true);
  net = true;
  await a.signOut();
  assert.equal(a.signedIn, false);
  assert.deepEqual(auth, [{ signedIn: false }]);
  assert.equal(a.status().pendingChanges, 0, 'the sign-out synced first');
  const r = await a.sync();
  assert.equal(r.error?.code, 'signed_out');
});
