// Refused mutations (sync.md §6) against the real fieldsync binary: a
// refused change leaves the local record (it shows the server's values
// again) and waits in the failed list, which counts as unsaved data; a
// failing push does not stop uploads.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { FieldsyncClient, MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, review, startServer, syncOK, tempDir } from './helpers.js';

async function server() {
  const s = await startServer({ dataDir: tempDir('data') });
  return s;
}

/**
 * Two phones of one inspector with the same draft inspection on both.
 * @param {string} url
 */
async function twoPhones(url) {
  const a = await device(url);
  const b = await device(url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '初稿' });
  await syncOK(a);
  await syncOK(b);
  return { a, b, insp };
}

test('record_locked: the refused edit leaves the record, waits in the failed list, and is re-applied after a return', async () => {
  const srv = await server();
  const { a, b, insp } = await twoPhones(srv.url);
  // B submits; A, offline meanwhile, edits the inspection and adds a finding.
  await b.save('inspection', insp, { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' });
  await syncOK(b);
  await a.save('inspection', insp, { summary: 'A 离线写的小结', 'answers.dust_cover': { result: 'fail' } });
  const finding = uuidv7();
  await a.save('finding', finding, { inspection_id: insp, description: '东侧煤堆未苫盖', severity: 'major', status: 'open' });

  const r = await a.sync();
  assert.equal(r.error, null);
  assert.deepEqual(r.rejected.map((x) => [x.entity, x.code]), [['inspection', 'record_locked'], ['finding', 'record_locked']]);

  // The record shows what the server has: B's submit, not A's refused values.
  const rec = await a.get('inspection', insp);
  assert.equal(rec?.fields.summary, '初稿');
  assert.equal(rec?.fields.status, 'submitted');
  assert.equal('answers.dust_cover' in (rec?.fields ?? {}), false);
  assert.deepEqual(rec?.pending, []);
  assert.deepEqual(rec?.hlcs, (await b.get('inspection', insp))?.hlcs, 'the same fields and HLCs as the phone that submitted');
  assert.equal(await a.get('finding', finding), null, 'a refused create leaves the records');
  assert.equal((await a.list('finding', (f) => f.id === finding)).length, 0);
  // Another sync changes nothing and still shows the server's values.
  await syncOK(a);
  assert.equal((await a.get('inspection', insp))?.fields.summary, '初稿');

  // Nothing is lost: the values wait in the failed list, which counts.
  const failed = await a.rejected();
  assert.equal(failed.length, 2);
  assert.deepEqual(failed[0].fields, { summary: 'A 离线写的小结', 'answers.dust_cover': { result: 'fail' } });
  assert.equal(failed[1].fields?.description, '东侧煤堆未苫盖');
  assert.equal(a.status().rejectedChanges, 2);

  // After the office returns it, the edit is made again, as a new change.
  await review(srv.url, insp, 'return');
  await syncOK(a);
  assert.equal((await a.get('inspection', insp))?.fields.status, 'returned');
  const again = await a.reapply(failed[0]);
  assert.equal(again?.fields.summary, 'A 离线写的小结');
  assert.deepEqual(again?.pending.sort(), ['answers.dust_cover', 'summary']);
  await a.reapply(failed[1].key);
  assert.equal((await a.rejected()).length, 0);
  await syncOK(a);
  await syncOK(b);
  assert.equal((await b.get('inspection', insp))?.fields.summary, 'A 离线写的小结');
  assert.equal((await b.get('finding', finding))?.fields.description, '东侧煤堆未苫盖');
});

test('a refused delete brings the record back', async () => {
  const srv = await server();
  const { a, b, insp } = await twoPhones(srv.url);
  await b.save('inspection', insp, { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' });
  await syncOK(b);
  await a.remove('inspection', insp);
  assert.equal(await a.get('inspection', insp), null);
  /** @type {any[]} */
  const changes = [];
  a.on('change', (c) => changes.push(c));
  const r = await a.sync();
  assert.deepEqual(r.rejected.map((x) => x.code), ['record_locked']);
  assert.equal((await a.get('inspection', insp))?.fields.status, 'submitted', 'the delete was refused: the record is back');
  assert.equal((await a.rejected())[0].delete, true);
  assert.ok(changes.some((c) => c.entity === 'inspection' && c.id === insp), 'the app is told the record changed');
});

test('an inspection an office has reviewed is not deleted: refused at once once its return is pulled, by the server before', async () => {
  const srv = await server();
  const { a, b, insp } = await twoPhones(srv.url);
  await b.save('inspection', insp, { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' });
  await syncOK(b);
  await review(srv.url, insp, 'return');
  // A has not pulled the return: its delete (of the draft it knew) goes to
  // the server, which refuses it, and the record comes back as returned.
  await a.remove('inspection', insp);
  const r = await a.sync();
  assert.deepEqual(r.rejected.map((x) => [x.entity, x.code]), [['inspection', 'not_deletable']]);
  assert.equal((await a.get('inspection', insp))?.fields.status, 'returned', 'the record is back, as the office returned it');
  // B pulled the return: refused on the phone, nothing queued.
  await syncOK(b);
  await assert.rejects(b.remove('inspection', insp), (e) => /** @type {any} */ (e).code === 'not_deletable' && /** @type {any} */ (e).details?.field === 'reviewed_at');
  assert.equal(b.status().pendingChanges, 0);
  assert.equal((await b.get('inspection', insp))?.fields.status, 'returned');
  // Corrected and submitted again instead.
  await b.save('inspection', insp, { summary: '已补充', status: 'submitted' });
  assert.deepEqual((await syncOK(b)).rejected, []);
  // A draft no office has seen is still given up.
  const draft = uuidv7();
  await b.save('inspection', draft, { site_id: await demoSite(b), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await syncOK(b);
  await b.remove('inspection', draft);
  assert.deepEqual((await syncOK(b)).rejected, []);
  assert.equal(await b.get('inspection', draft), null);
});

test('a refused create leaves the phone, and the app is told (change)', async () => {
  const srv = await server();
  const a = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'bogus' });
  /** @type {any[]} */
  const changes = [];
  a.on('change', (c) => changes.push(c));
  const r = await a.sync();
  assert.deepEqual(r.rejected.map((x) => x.code), ['invalid_value']);
  assert.equal(await a.get('inspection', insp), null, 'the refused create is taken back');
  assert.deepEqual(changes.filter((c) => c.id === insp), [{ entity: 'inspection', id: insp }]);
});

test('a create refused for one value is made again with its correction (reapply with corrections), its photo after it', async () => {
  const srv = await server();
  const a = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await syncOK(a);
  const finding = uuidv7();
  // A deadline written as a time: the server takes a date. Its photo is
  // refused for want of it, after its bytes went up.
  await a.save('finding', finding, { inspection_id: insp, item_key: 'enclosure', description: '料棚东侧破损', status: 'open', deadline: '2026-12-05T12:45:18.248Z' });
  const jpegPath = process.env.FIELDSYNC_TEST_JPEG;
  assert.ok(jpegPath, 'FIELDSYNC_TEST_JPEG names a JPEG (sdk_test.go writes it)');
  const photo = await a.takePhoto({ blob: new Uint8Array(fs.readFileSync(jpegPath)), contentType: 'image/jpeg', fields: { finding_id: finding } });
  await a.sync();
  assert.equal((await a.uploads()).find((j) => j.photoId === photo.id)?.state, 'done', 'its bytes went up');
  const refused = (await a.rejected()).find((x) => x.id === finding);
  assert.ok(refused);
  assert.equal(refused.code, 'invalid_field');
  assert.equal(refused.field, 'deadline');
  assert.equal(await a.get('finding', finding), null, 'the refused create is taken back');

  // The correction alone, laid over the refused values: the create is
  // sent whole, and applied.
  const again = await a.reapply(refused, { deadline: '2026-12-11' });
  assert.equal(again?.fields.description, '料棚东侧破损');
  assert.equal(again?.fields.deadline, '2026-12-11');
  const photoEntry = (await a.rejected()).find((x) => x.id === photo.id);
  assert.equal(photoEntry?.code, 'unknown_reference');
  // Its record refused, the photo still shows, as what it was taken as.
  const shown = await a.photoImage(photo.id);
  assert.equal(shown?.original, true);
  assert.equal(shown?.contentType, 'image/jpeg', 'the refused photo keeps its type');
  await a.reapply(/** @type {any} */ (photoEntry));
  // Its bytes are sent again with it: the server keeps unclaimed bytes
  // only for its upload grace.
  assert.equal((await a.uploads()).find((j) => j.photoId === photo.id)?.state, 'queued', 'the photo\'s bytes are queued again');
  const r2 = await a.sync();
  assert.deepEqual(r2.rejected, [], 'the corrected create and its photo are applied');
  assert.equal((await a.rejected()).length, 0, 'and leave the failed list');
  assert.equal((await a.get('photo', photo.id))?.fields.uploaded, true, 'the photo counts as uploaded');
  const c = await device(srv.url);
  await syncOK(c);
  assert.equal((await c.get('finding', finding))?.fields.deadline, '2026-12-11', 'another phone pulls it, corrected');

  // Corrections are checked as a save's fields are.
  await a.save('finding', uuidv7(), { inspection_id: insp, description: '另一处', status: 'bogus' });
  await a.sync();
  const [bad] = await a.rejected();
  await assert.rejects(a.reapply(bad, { created_by: 'me' }), { code: 'server_owned_field' });
  await assert.rejects(a.reapply(bad, /** @type {any} */ ('open')), { code: 'unencodable_value' });
  assert.equal((await a.rejected()).length, 1, 'a refused correction leaves the entry where it was');
});

test('a create refused for a field the server does not know is made again without it: reapply with the field undefined (SDK probe: null sent it again)', async () => {
  const srv = await server();
  const a = await device(srv.url);
  await syncOK(a);
  const id = uuidv7();
  await a.save('vehicle_check', id, { county: '140902', checkpoint: '豆罗检查站', plate: '晋H20099', checked_at: new Date(a.now()).toISOString(), driver_name: '李四' });
  await a.sync();
  const [refused] = await a.rejected();
  assert.equal(refused?.code, 'unknown_field');
  assert.equal(refused?.field, 'driver_name');
  const again = await a.reapply(refused, { driver_name: undefined });
  assert.equal(again?.fields.plate, '晋H20099');
  assert.equal('driver_name' in (again?.fields ?? {}), false);
  const r = await a.sync();
  assert.deepEqual(r.rejected, [], 'applied without the unknown field');
  const b = await device(srv.url, { user: 'inspector2' });
  await syncOK(b);
  assert.equal((await b.get('vehicle_check', id))?.fields.plate, '晋H20099', 'another phone pulls the check');
});

test('read-only entities are refused as such with their own ids, and a site as not deletable', async () => {
  const srv = await server();
  const a = await device(srv.url);
  await syncOK(a);
  await assert.rejects(a.save('county', '140902', { name: 'x' }), { code: 'read_only_entity' });
  await assert.rejects(a.save('checklist_template', 'construction_dust@1', { title: 'x' }), { code: 'read_only_entity' });
  await assert.rejects(a.remove('county', '140902'), { code: 'read_only_entity' });
  await assert.rejects(a.remove('site', 'not-a-uuid'), (e) => /** @type {any} */ (e).code === 'not_deletable' && !/证据类/.test(/** @type {any} */ (e).message));
});

test('unknown_reference: a finding under an inspection deleted on the server names it, leaves the records, and is kept', async () => {
  const srv = await server();
  const { a, b, insp } = await twoPhones(srv.url);
  await b.remove('inspection', insp);
  await syncOK(b);
  const finding = uuidv7();
  await a.save('finding', finding, { inspection_id: insp, description: '围挡缺失', severity: 'minor', status: 'open' });
  const r = await a.sync();
  assert.deepEqual(r.rejected.map((x) => x.code), ['unknown_reference']);
  assert.equal(await a.get('finding', finding), null);
  const [entry] = await a.rejected();
  assert.deepEqual(entry.parent, { entity: 'inspection', id: insp, state: 'deleted' });
  assert.equal(entry.fields?.description, '围挡缺失');
  assert.equal(a.status().pendingChanges, 0, 'it will not be sent again');
});

test('a stale push result is listed as superseded with code stale', async () => {
  const srv = await server();
  const { a, b, insp } = await twoPhones(srv.url);
  await a.save('inspection', insp, { summary: 'A 的小结' });
  await b.save('inspection', insp, { summary: 'B 更晚的小结' });
  await syncOK(b);
  const r = await syncOK(a);
  assert.deepEqual(r.superseded.map((s) => [s.field, s.code]), [['summary', 'stale']]);
  assert.deepEqual((await a.superseded()).map((s) => s.code), ['stale']);
});

test('refused changes count as unsaved: another user cannot sign in over them without force, nor sign out', async () => {
  const srv = await server();
  const storage = new MemoryStorage();
  const a = await device(srv.url, { storage });
  const b = await device(srv.url);
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await syncOK(a);
  await syncOK(b);
  await b.save('inspection', insp, { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' });
  await syncOK(b);
  await a.save('inspection', insp, { summary: '被拒绝的小结' });
  assert.equal((await a.sync()).rejected.length, 1);
  assert.deepEqual([a.status().pendingChanges, a.status().pendingPhotos, a.status().rejectedChanges], [0, 0, 1]);

  await assert.rejects(a.signOut(), (e) => /** @type {any} */ (e).code === 'unsent_changes' && /** @type {any} */ (e).details.rejected === 1);
  await assert.rejects(a.signIn('inspector2', 'inspector123'), (e) => /** @type {any} */ (e).code === 'unsent_changes');
  assert.equal((await a.rejected()).length, 1, 'the refused values are still there');
  assert.equal(a.user?.username, 'inspector');

  // Dismissed, they no longer hold the sign-in; force does in any case.
  await a.dismissRejected(...(await a.rejected()));
  assert.equal(a.status().rejectedChanges, 0);
  await a.signIn('inspector2', 'inspector123');
  assert.equal(a.user?.username, 'inspector2');
  await syncOK(a);
  await a.save('inspection', uuidv7(), { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await assert.rejects(a.signIn('inspector', 'inspector123'), (e) => /** @type {any} */ (e).code === 'unsent_changes');
  await a.signIn('inspector', 'inspector123', { force: true });
  assert.equal(a.status().pendingChanges, 0);
});

test('a failing push does not stop photo uploads; the sync reports the push error', async () => {
  const srv = await server();
  let failPush = false;
  /** @type {typeof fetch} */
  const f = async (input, init) => {
    if (failPush && new URL(String(input)).pathname === '/api/v1/sync/push') {
      return new Response(JSON.stringify({ code: 'internal', message: 'boom' }), { status: 500, headers: { 'Content-Type': 'application/json' } });
    }
    return globalThis.fetch(input, init);
  };
  const c = await FieldsyncClient.open({ baseURL: srv.url, storage: new MemoryStorage(), deviceName: '测试手机', fetch: f });
  await c.signIn('inspector', 'inspector123');
  await syncOK(c);
  const insp = uuidv7();
  await c.save('inspection', insp, { site_id: await demoSite(c), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const jpegPath = process.env.FIELDSYNC_TEST_JPEG;
  assert.ok(jpegPath, 'FIELDSYNC_TEST_JPEG names a JPEG (sdk_test.go writes it)');
  const photo = await c.takePhoto({ blob: new Uint8Array(fs.readFileSync(jpegPath)), contentType: 'image/jpeg', fields: { inspection_id: insp } });
  failPush = true;
  const r = await c.sync();
  assert.equal(r.error?.status, 500, 'the push error is reported');
  assert.equal(r.uploaded, 1, 'the photo was uploaded all the same');
  assert.equal((await c.uploads()).find((j) => j.photoId === photo.id)?.state, 'done');
  failPush = false;
  await syncOK(c);
  assert.equal(c.status().pendingChanges, 0);
});

test('a refusal names its field: a push refused whole for one mutation sets aside that one by the answer\'s field, and a rejected result keeps its field', async () => {
  const srv = await server();
  const c = await device(srv.url);
  await syncOK(c);
  /** @param {string} plate @param {Record<string, any>} [extra] */
  const check = (plate, extra = {}) => ({ county: '140902', checkpoint: '豆罗检查站', plate, checked_at: '2026-11-20T10:00:00+08:00', ...extra });
  const good1 = uuidv7();
  const bad = uuidv7();
  const good2 = uuidv7();
  const outOfRange = uuidv7();
  await c.save('vehicle_check', good1, check('晋H10001'));
  // A lone surrogate: JSON carries it as \ud800, which no store can keep as text.
  await c.save('vehicle_check', bad, check('晋H10002', { note: 'a\ud800b' }));
  await c.save('vehicle_check', good2, check('晋H10003'));
  await c.save('vehicle_check', outOfRange, check('晋H10004', { opacity: 101 }));

  const r = await c.sync();
  assert.equal(r.error, null);
  assert.deepEqual(
    r.rejected.map((x) => [x.id, x.code, x.field]),
    [
      [bad, 'invalid_field', 'note'],
      [outOfRange, 'invalid_field', 'opacity'],
    ],
  );
  assert.deepEqual((await c.rejected()).map((x) => x.field), ['note', 'opacity']);
  const other = await device(srv.url);
  await syncOK(other);
  assert.equal((await other.get('vehicle_check', good1))?.fields.plate, '晋H10001');
  assert.equal((await other.get('vehicle_check', good2))?.fields.plate, '晋H10003');
  assert.equal(await other.get('vehicle_check', bad), null);
});

test('reapply leaves out a value changed since the refusal: a later edit pulled from another phone stays', async () => {
  const srv = await server();
  const { a, b, insp } = await twoPhones(srv.url);
  await b.save('inspection', insp, { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' });
  await syncOK(b);
  await a.save('inspection', insp, { summary: 'A 离线写的小结', 'answers.dust_cover': { result: 'fail' } });
  await a.sync();
  const [failed] = await a.rejected();
  assert.equal(failed?.code, 'record_locked');
  // Returned; B writes the summary again, later; A hears of it.
  await review(srv.url, insp, 'return');
  await syncOK(b);
  await b.save('inspection', insp, { summary: 'B 之后改的小结' });
  await syncOK(b);
  await syncOK(a);
  const again = await a.reapply(failed);
  assert.equal(again?.fields.summary, 'B 之后改的小结', 'the later summary is not taken back to the refused one');
  const sup = await a.superseded();
  assert.ok(sup.some((x) => x.field === 'summary' && x.value === 'A 离线写的小结' && x.id === insp), 'the value left out is listed as superseded, not lost without a word');
  assert.deepEqual(again?.fields['answers.dust_cover'], { result: 'fail' });
  await syncOK(a);
  await syncOK(b);
  assert.equal((await b.get('inspection', insp))?.fields.summary, 'B 之后改的小结');
  assert.deepEqual((await b.get('inspection', insp))?.fields['answers.dust_cover'], { result: 'fail' });
});

// A photo whose create was refused, once dismissed, leaves nothing on the
// phone (the SDK probe: its bytes and its finished upload stayed, and no
// purge would remove them).
test('dismissing a refused photo create drops its bytes and its upload', async () => {
  const srv = await server();
  const a = await device(srv.url);
  await syncOK(a);
  const jpegPath = process.env.FIELDSYNC_TEST_JPEG;
  assert.ok(jpegPath, 'FIELDSYNC_TEST_JPEG names a JPEG (sdk_test.go writes it)');
  // A photo of a record saved here, with a position no place has: the
  // server refuses the photo alone.
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const photo = await a.takePhoto({ blob: new Uint8Array(fs.readFileSync(jpegPath)), contentType: 'image/jpeg', fields: { inspection_id: insp, lat: 123, lon: 500 } });
  const r = await a.sync();
  assert.deepEqual(r.rejected.map((x) => x.id), [photo.id]);
  assert.equal(await a.get('photo', photo.id), null, 'the refused create is taken back');
  await a.dismissRejected(...r.rejected); // the sync's own entries, without key nor hlc
  assert.deepEqual(await a.rejected(), [], 'dismissed');
  assert.equal(await a.photoBytes(photo.id), null, 'its bytes are gone');
  assert.deepEqual((await a.uploads()).map((j) => j.photoId), [], 'and its upload');
  assert.equal(a.status().pendingPhotos, 0);
});
