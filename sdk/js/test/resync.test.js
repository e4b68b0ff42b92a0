// 410 resync_required against the real fieldsync binary (sync.md §8.3):
// the user's scope is widened with the fieldsync CLI while the server runs
// (both processes share the SQLite file), so the phone's cursor is stale.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, fieldsyncCLI, recorder, review, startServer, syncOK, tempDir, testJPEG } from './helpers.js';

/** @param {import('../src/storage/storage.js').Storage} storage @param {string} key */
function meta(storage, key) {
  return storage.transaction('meta', 'readonly', (tx) => tx.get('meta', key));
}

test('a widened scope: the pull answers 410, the outbox is pushed and kept safe, /me is refreshed and the new county pulled from the start', async () => {
  const dataDir = tempDir('data');
  const srv = await startServer({ dataDir });
  // Armed below: an edit made on the phone while the pull that gets the
  // 410 is on its way (the user keeps working during a sync).
  /** @type {(() => Promise<void>) | null} */
  let duringPull = null;
  const rec = recorder({
    before: async (p) => {
      if (duringPull && p.startsWith('/api/v1/sync/pull?')) {
        const edit = duringPull;
        duringPull = null;
        await edit();
      }
    },
  });
  const storage = new MemoryStorage();
  const phone = await device(srv.url, { storage, fetch: rec.fetch });
  assert.deepEqual(phone.user?.counties, ['140902']);
  await syncOK(phone);
  const oldCursor = await meta(storage, 'cursor');
  assert.ok(oldCursor, 'the cursor is stored');
  assert.equal((await phone.list('site', (s) => s.county === '140921')).length, 0, 'nothing of 定襄县 before');
  const sites902 = (await phone.list('site')).length;

  await fieldsyncCLI('user', 'scope', 'inspector', '--county', '140902,140921', '--data', dataDir);

  // Local work under the old scope: a new inspection and an edit of a site.
  const site = await demoSite(phone);
  const insp = uuidv7();
  await phone.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '范围变更前的检查' });
  await phone.save('site', site, { note: '范围变更前的备注' });
  assert.equal(phone.status().pendingChanges, 2);

  duringPull = async () => {
    await phone.save('site', site, { address: '同步途中填写的地址' });
  };
  rec.log.length = 0;
  const r = await syncOK(phone);
  assert.equal(duringPull, null, 'the edit was made during the sync');
  assert.equal(r.pushed, 2);
  assert.equal(phone.status().pendingChanges, 1, 'the edit made during the sync waits in the outbox');

  const calls = rec.log.map((e) => [e.method, e.path.split('?')[0], e.status, e.code]);
  assert.deepEqual(calls.slice(0, 4), [
    ['POST', '/api/v1/sync/push', 200, ''],
    ['GET', '/api/v1/sync/pull', 410, 'resync_required'],
    ['GET', '/api/v1/me', 200, ''],
    ['GET', '/api/v1/sync/pull', 200, ''],
  ]);
  assert.ok(calls.slice(4).every((c) => c[1] === '/api/v1/sync/pull' && c[2] === 200), 'then the rest of the pages');
  assert.equal(new URL(rec.log[1].path, srv.url).searchParams.get('cursor'), oldCursor, 'the refused pull was from the old cursor');
  assert.equal(new URL(rec.log[3].path, srv.url).searchParams.get('cursor'), null, 'the resync pulls from the empty cursor');

  // The scope was refreshed, in memory and in storage.
  assert.deepEqual(phone.user?.counties.slice().sort(), ['140902', '140921']);
  assert.deepEqual((await meta(storage, 'auth')).user.counties.slice().sort(), ['140902', '140921']);

  // 定襄县's sites arrived, 140902's are all still there, the new cursor works.
  const sites921 = await phone.list('site', (s) => s.county === '140921');
  assert.ok(sites921.length > 0, 'the demo sites of 定襄县 were pulled');
  assert.equal((await phone.list('site', (s) => s.county === '140902')).length, sites902);
  const newCursor = await meta(storage, 'cursor');
  assert.ok(newCursor && newCursor !== oldCursor);

  // No local change was lost: both are local, settled, and on the server.
  const mine = await phone.get('inspection', insp);
  assert.equal(mine?.fields.summary, '范围变更前的检查');
  assert.deepEqual(mine?.pending, []);
  const edited = await phone.get('site', site);
  assert.equal(edited?.fields.note, '范围变更前的备注');
  assert.equal(edited?.fields.address, '同步途中填写的地址', 'the pull from the start did not overwrite the unsent edit');
  assert.deepEqual(edited?.pending, ['address']);
  assert.deepEqual(await phone.rejected(), []);
  const other = await device(srv.url, { user: 'inspector2' });
  await syncOK(other);
  assert.equal((await other.get('inspection', insp))?.fields.summary, '范围变更前的检查');
  assert.equal((await other.get('site', site))?.fields.note, '范围变更前的备注');

  // The phone now works in the new county too, and later syncs need no
  // resync; the edit made during the resync goes up with them.
  const insp921 = uuidv7();
  await phone.save('inspection', insp921, { site_id: sites921[0].id, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '定襄县的检查' });
  rec.log.length = 0;
  const next = await syncOK(phone);
  assert.equal(next.pushed, 2);
  assert.equal(phone.status().pendingChanges, 0);
  assert.ok(rec.log.every((e) => e.status === 200), 'no more 410');
  assert.equal(rec.count('/api/v1/me'), 0);
  assert.deepEqual((await phone.get('site', site))?.pending, []);
  await syncOK(other);
  assert.equal((await other.get('site', site))?.fields.address, '同步途中填写的地址');
  assert.equal((await other.get('site', site))?.fields.note, '范围变更前的备注');
});

test('a narrowed scope: after the 410 the records of the county taken away leave the phone; the others stay', async () => {
  const dataDir = tempDir('data-narrow');
  const srv = await startServer({ dataDir });
  await fieldsyncCLI('user', 'scope', 'inspector', '--county', '140902,140921', '--data', dataDir);
  const phone = await device(srv.url);
  await syncOK(phone);
  const byCounty = async (/** @type {string} */ c) => (await phone.list('site', (s) => s.county === c)).length;
  const kept = await byCounty('140902');
  assert.ok(kept > 0 && (await byCounty('140921')) > 0, 'both counties on the phone');
  const gone = await phone.list('site', (i) => i.county === '140921');
  // Work made in the county before it is taken away, not sent yet.
  const work = uuidv7();
  await phone.save('inspection', work, { site_id: gone[0].id, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '定襄县的检查' });
  /** @type {string[]} */
  const changed = [];
  phone.on('change', (c) => changed.push(c.id));

  await fieldsyncCLI('user', 'scope', 'inspector', '--county', '140902', '--data', dataDir);
  const r = await phone.sync();
  assert.equal(r.error, null, `sync: ${r.error?.code}`);
  assert.deepEqual(r.rejected.map((x) => [x.id, x.code]), [[work, 'out_of_scope']]);
  // Refused, its values stay in the failed list (the SDK puts the record
  // back as the server has it: not at all), from which reapply() can make
  // it again; the resync that drops the county does not drop them.
  const failed = await phone.rejected();
  assert.deepEqual(failed.map((x) => [x.id, x.code, x.fields?.summary]), [[work, 'out_of_scope', '定襄县的检查']]);
  assert.deepEqual(phone.user?.counties, ['140902']);
  assert.equal(await byCounty('140921'), 0, "定襄县's sites left the phone");
  assert.equal(await phone.get('site', gone[0].id), null);
  assert.ok(changed.includes(gone[0].id), 'the app is told');
  assert.equal(await byCounty('140902'), kept, "忻府区's stay");
});

test('a narrowed scope whose pull from the start is cut off: the next sync pulls from the start again, then drops the county', async () => {
  const dataDir = tempDir('data-narrow-cut');
  const srv = await startServer({ dataDir });
  await fieldsyncCLI('user', 'scope', 'inspector', '--county', '140902,140921', '--data', dataDir);
  let cut = false;
  let pulls = 0;
  /** @type {typeof fetch} */
  const f = (input, init) => {
    if (String(input).includes('/api/v1/sync/pull') && cut && ++pulls >= 3) {
      // The 410, the first page from the start, then the signal goes
      // (the page asked again at once fails too).
      return Promise.reject(new TypeError('fetch failed'));
    }
    return fetch(input, init);
  };
  const phone = await device(srv.url, { fetch: f, pageLimit: 100 });
  await syncOK(phone);
  const byCounty = async (/** @type {string} */ c) => (await phone.list('site', (s) => s.county === c)).length;
  const kept = await byCounty('140902');
  assert.ok((await byCounty('140921')) > 0);

  await fieldsyncCLI('user', 'scope', 'inspector', '--county', '140902', '--data', dataDir);
  cut = true;
  const r = await phone.sync();
  assert.equal(r.error?.code, 'network', `the cut sync: ${r.error?.code}`);
  assert.equal(pulls, 4, 'the second page, and once more at once');
  cut = false;
  await syncOK(phone);
  assert.equal(await byCounty('140921'), 0, "定襄县's sites left the phone after the pass that was whole");
  assert.equal(await byCounty('140902'), kept);
  const again = await syncOK(phone);
  assert.ok(again.pulled < 100, `the sync after it pulls from its cursor, not from the start (${again.pulled})`);
});

test('a server restored from a backup made before some pushes gets them again: the phone sends what the server no longer holds', async () => {
  const dataDir = tempDir('restore');
  let srv = await startServer({ dataDir });
  const backup = path.join(tempDir('backups'), 'fieldsync-backup.db');
  // The backup is made once the push it is armed for has been answered,
  // before the sync goes on to upload that push's photos.
  let backupAfterPush = false;
  /** @type {typeof fetch} */
  const f = async (input, init) => {
    const resp = await fetch(input, init);
    if (backupAfterPush && String(input).includes('/api/v1/sync/push')) {
      backupAfterPush = false;
      await fieldsyncCLI('backup', '--data', dataDir, backup);
    }
    return resp;
  };
  const a = await device(srv.url, { fetch: f });
  await syncOK(a);
  const site = await demoSite(a);
  const kept = uuidv7();
  await a.save('inspection', kept, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '备份前' });
  // A photo whose record the backup holds, but not its bytes.
  const early = await a.takePhoto({
    blob: testJPEG(),
    contentType: 'image/jpeg',
    fields: { inspection_id: kept, item_key: 'cover', captured_at: new Date(a.now()).toISOString(), lon: 112.745, lat: 38.433, crs: 'wgs84', accuracy_m: 8 },
  });
  // Submitted before the backup, approved by the office after it.
  const approved = uuidv7();
  await a.save('inspection', approved, { site_id: site, template_id: 'construction_dust', template_version: 1, status: 'draft', summary: '待审核' });
  await a.save('inspection', approved, { status: 'submitted' });
  backupAfterPush = true;
  await syncOK(a);
  assert.equal(backupAfterPush, false, 'the backup was made');
  assert.equal((await a.get('photo', early.id))?.fields.uploaded, true, 'the photo was uploaded after the backup');
  await review(srv.url, approved, 'approve', '备份后通过');

  // After the backup: a new inspection with a finding, an edit, a delete.
  const lost = uuidv7();
  const finding = uuidv7();
  const gone = uuidv7();
  await a.save('inspection', lost, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '备份后新建' });
  await a.save('finding', finding, { inspection_id: lost, description: '备份后发现的问题', severity: 'major', status: 'open' });
  await a.save('inspection', kept, { summary: '备份后修改' });
  await a.save('finding', gone, { inspection_id: kept, description: '备份前后都有', status: 'open' });
  // Submitted after the backup, with a finding made before it was: sent
  // again, the inspection (submitted) goes before its finding.
  const submitted = uuidv7();
  const before = uuidv7();
  await a.save('inspection', submitted, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '备份后提交' });
  await a.save('finding', before, { inspection_id: submitted, description: '提交前发现的问题', severity: 'major', status: 'open' });
  await a.save('inspection', submitted, { status: 'submitted' });
  await syncOK(a);
  // And approved after the backup, the approval pulled: the restored
  // server holds neither the submission nor the approval that replaced
  // it on the phone (operator probe: a draft on the server, an approval
  // on the phone, for good).
  await review(srv.url, submitted, 'approve', '备份后提交并通过');
  // A finding whose description was edited after it was sent: sent again
  // as two writes, the create must still carry the description (it used
  // to go without it, refused as missing a required field, and the
  // finding was lost to the server).
  const edited = uuidv7();
  await a.save('finding', edited, { inspection_id: lost, description: '初稿', severity: 'minor', status: 'open' });
  await syncOK(a);
  await a.save('finding', edited, { description: '改过的描述' });
  await syncOK(a);
  await a.remove('finding', gone);
  await syncOK(a);
  assert.equal((await a.get('inspection', approved))?.fields.status, 'approved', 'the approval reached the phone');
  const reviews = async () => (await a.list('review')).filter((r) => r.fields.inspection_id === approved).length;
  assert.equal(await reviews(), 1);
  assert.equal((await a.get('inspection', submitted))?.fields.status, 'approved', 'the approval of the one submitted after the backup reached the phone');

  await srv.kill('SIGTERM');
  await fieldsyncCLI('restore', '--data', dataDir, backup);
  srv = await startServer({ dataDir, addr: srv.addr });
  const r = await a.sync();
  assert.equal(r.error, null, `sync after the restore: ${r.error?.code}`);
  assert.deepEqual(r.rejected, []);
  assert.equal(a.status().pendingChanges, 0, 'everything sent again');
  assert.equal(a.status().pendingPhotos, 0, 'the bytes sent again');
  assert.equal((await a.get('photo', early.id))?.fields.uploaded, true, 'the photo the server held without its bytes has them again');
  // The approval the restored server lacks is gone from the phone too:
  // the inspection waits for review again, as the office's queue shows it.
  const back = await a.get('inspection', approved);
  assert.equal(back?.fields.status, 'submitted', 'the phone shows the state the server has, not an approval it lost');
  assert.equal(back?.fields.review_comment ?? null, null);
  assert.equal(back?.fields.summary, '待审核', "the phone's own values stay");
  assert.equal(await reviews(), 0, 'the review record the server lost is dropped');
  const resent = await a.get('inspection', submitted);
  assert.equal(resent?.fields.status, 'submitted', 'the submission made after the backup is sent again, not the lost approval shown');
  assert.equal(resent?.fields.review_comment ?? null, null, 'no word of the lost review');

  // As another phone of the county sees the server now.
  const b = await device(srv.url, { user: 'inspector2' });
  await syncOK(b);
  assert.equal((await b.get('inspection', lost))?.fields.summary, '备份后新建');
  assert.equal((await b.get('finding', finding))?.fields.description, '备份后发现的问题');
  assert.equal((await b.get('inspection', kept))?.fields.summary, '备份后修改');
  assert.equal(await b.get('finding', gone), null, 'deleted again (it never existed in the backup)');
  assert.equal((await b.get('inspection', submitted))?.fields.status, 'submitted');
  assert.equal((await b.get('finding', before))?.fields.description, '提交前发现的问题', 'the finding made before the submission');
  assert.equal((await b.get('finding', edited))?.fields.description, '改过的描述', 'the finding edited after it was sent, with its last description');
  assert.equal((await b.get('finding', edited))?.fields.severity, 'minor');
  // And once more: nothing left to send, nothing sent twice.
  const again = await syncOK(a);
  assert.equal(again.pushed, 0);
});

test('a capture key registered after the backup is registered again after the restore: the photos signed with it, sent again or new, verify (SDK probe: unknown_key, for good); a photo pushed before the phone learned of the restore, refused for its inspection the server lost, is sent again', async () => {
  const dataDir = tempDir('restorekey');
  let srv = await startServer({ dataDir });
  const backup = path.join(tempDir('backups'), 'fieldsync-backup.db');
  await fieldsyncCLI('backup', '--data', dataDir, backup);
  // Signed in after the backup: its key is one the restored server lacks.
  const a = await device(srv.url);
  await syncOK(a);
  const site = await demoSite(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '备份后拍照' });
  const fields = () => ({ inspection_id: insp, item_key: 'cover', captured_at: new Date(a.now()).toISOString(), lon: 112.745, lat: 38.433, crs: 'wgs84', accuracy_m: 8 });
  const before = await a.takePhoto({ blob: testJPEG(), contentType: 'image/jpeg', fields: fields(), camera: true });
  await syncOK(a);
  assert.equal((await a.get('photo', before.id))?.fields.capture?.status, 'signed', 'signed before the restore');

  await srv.kill('SIGTERM');
  await fieldsyncCLI('restore', '--data', dataDir, backup);
  srv = await startServer({ dataDir, addr: srv.addr });
  const first = await a.sync();
  assert.equal(first.error?.code, 'token_invalid', 'the restored server never issued the tokens');
  await a.signIn('inspector', 'inspector123');
  // Taken before the first sync after the restore: pushed before the 410.
  // Of another item: the same file again on the same item is refused
  // (photo_duplicate).
  const after = await a.takePhoto({ blob: testJPEG(), contentType: 'image/jpeg', fields: { ...fields(), item_key: 'fence' }, camera: true });
  // Its inspection, made after the backup, reaches the restored server
  // only with the resync: the photo's refusal (unknown_reference) was the
  // restore's, and it is sent again, not left on the failed list.
  await syncOK(a);
  assert.deepEqual(await a.rejected(), []);
  await syncOK(a);
  assert.equal((await a.get('photo', after.id))?.fields.uploaded, true, 'the photo taken after the restore is uploaded');
  for (const [what, id] of [['sent again by the resync', before.id], ['taken after the restore', after.id]]) {
    assert.equal((await a.get('photo', id))?.fields.capture?.status, 'signed', `the photo ${what}`);
  }
  assert.equal((await a.captureKey())?.registered, true);
  // As another phone of the county sees them.
  const b = await device(srv.url, { user: 'inspector2' });
  await syncOK(b);
  for (const id of [before.id, after.id]) assert.equal((await b.get('photo', id))?.fields.capture?.status, 'signed');
});

test('a sign-in registers the capture keys again: a key registered after the backup verifies the photos pushed before the phone meets the 410', async () => {
  const dataDir = tempDir('restorekey2');
  let srv = await startServer({ dataDir });
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const site = await demoSite(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '备份前' });
  await syncOK(a);
  const backup = path.join(tempDir('backups'), 'fieldsync-backup.db');
  await fieldsyncCLI('backup', '--data', dataDir, backup);
  // A new key after the backup (a storage that lost its private key).
  await storage.transaction('meta', 'readwrite', async (tx) => { await tx.delete('meta', 'captureKey'); await tx.delete('meta', 'captureKeys'); });
  const key = await a.captureKey();
  assert.equal(key?.registered, true);

  await srv.kill('SIGTERM');
  await fieldsyncCLI('restore', '--data', dataDir, backup);
  srv = await startServer({ dataDir, addr: srv.addr });
  await a.signIn('inspector', 'inspector123');
  const p = await a.takePhoto({ blob: testJPEG(), contentType: 'image/jpeg', camera: true,
    fields: { inspection_id: insp, item_key: 'cover', captured_at: new Date(a.now()).toISOString(), lon: 112.745, lat: 38.433, crs: 'wgs84', accuracy_m: 8 } });
  assert.equal(p.fields.capture_key_id, key?.keyId);
  await syncOK(a);
  await syncOK(a);
  assert.equal((await a.get('photo', p.id))?.fields.capture?.status, 'signed', 'signed with the key registered again at the sign-in');
});

test("a capture key another device registered first on a restored server is taken back by the phone's proof: the photos sent again verify", async () => {
  const dataDir = tempDir('restoresquat');
  let srv = await startServer({ dataDir });
  const backup = path.join(tempDir('backups'), 'fieldsync-backup.db');
  await fieldsyncCLI('backup', '--data', dataDir, backup);
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const p = await a.takePhoto({ blob: testJPEG(), contentType: 'image/jpeg', camera: true,
    fields: { inspection_id: insp, item_key: 'cover', captured_at: new Date(a.now()).toISOString(), lon: 112.745, lat: 38.433, crs: 'wgs84', accuracy_m: 8 } });
  await syncOK(a);
  assert.equal((await a.get('photo', p.id))?.fields.capture?.status, 'signed');

  await srv.kill('SIGTERM');
  await fieldsyncCLI('restore', '--data', dataDir, backup);
  srv = await startServer({ dataDir, addr: srv.addr });
  // The restored server lacks the phone's key; another device registers
  // its public half (no secret: every signed photo names it) first.
  const keys = await storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'captureKeys'));
  const squatter = await device(srv.url, { user: 'inspector2' });
  /** @type {any} */
  const squatted = await squatter.api('POST', '/api/v1/devices/key', { public_key: keys[0].spki });
  assert.equal(squatted.key_id, p.fields.capture_key_id);
  assert.equal(squatted.proven, false);

  await a.signIn('inspector', 'inspector123');
  assert.equal((await a.captureKey())?.keyId, p.fields.capture_key_id, 'the phone keeps its key: its proof took it back');
  await syncOK(a);
  await syncOK(a);
  assert.equal((await a.get('photo', p.id))?.fields.capture?.status, 'signed', 'the photo sent again verifies with the key taken back');
  await assert.rejects(squatter.api('POST', '/api/v1/devices/key', { public_key: keys[0].spki }), { status: 409 });
});

test('a cursor spoilt in storage: the server refuses it (bad_request, field cursor) and the phone pulls from the start, its outbox kept', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const phone = await device(srv.url, { storage });
  await syncOK(phone);
  const sites = (await phone.list('site')).length;
  await storage.transaction('meta', 'readwrite', (tx) => tx.put('meta', 'cursor', 'garbage!!'));
  const site = await demoSite(phone);
  await phone.save('site', site, { note: '游标损坏后的备注' });
  const r = await syncOK(phone);
  assert.equal(r.pushed, 1, 'the outbox is sent');
  assert.notEqual(await meta(storage, 'cursor'), 'garbage!!', 'a good cursor is stored again');
  assert.equal((await phone.list('site')).length, sites, 'the slice is whole');
  await syncOK(phone);
});
