// Values JSON cannot carry (BigInt, NaN, ±Infinity, …) are refused at
// save, before the outbox; a body that cannot be encoded is not mistaken
// for a network fault.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, FieldsyncError, MemoryStorage, cleanText, uuidv7 } from '../src/index.js';
import { requestJSON } from '../src/http.js';

test('save refuses values JSON cannot carry, with unencodable_value naming the field; nothing reaches the outbox', async () => {
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage(), deviceName: '测试手机' });
  /** @type {any} */
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  /** @type {Array<[string, any, string]>} */
  const cases = [
    ['template_version', 1n, 'bigint'],
    ['lon', NaN, 'NaN'],
    ['lat', Infinity, 'Infinity'],
    ['answers.fence', { result: 'pass', score: -Infinity }, '-Infinity'],
    ['answers.dust', { values: [1, 2n] }, 'bigint'],
    ['answers.cover', cyclic, 'cycle'],
    ['started_at', new Date(), 'Date'],
    ['answers.remarks', { value: new Map() }, 'Map'],
  ];
  /** What each kind's message must say besides the field's name (SDK probe: a Date was said to be NaN or infinity). */
  const says = { Date: /Date 对象.*toISOString/, Map: /Map 对象/, NaN: /NaN/, bigint: /bigint/, cycle: /循环引用/ };
  for (const [field, value, kind] of cases) {
    await assert.rejects(c.save('inspection', uuidv7(), { status: 'draft', [field]: value }), (e) => {
      assert.ok(e instanceof FieldsyncError);
      assert.equal(e.code, 'unencodable_value');
      assert.deepEqual(e.details, { entity: 'inspection', field, value: kind });
      assert.equal(e.field, field, 'err.field names the field, as a server refusal does (SDK probe)');
      assert.match(e.message, /[\u4e00-\u9fff]/, 'a Chinese message');
      assert.ok(e.message.includes(`“${field}”`), `the message names the field: ${e.message}`);
      const want = /** @type {Record<string, RegExp>} */ (says)[kind];
      if (want) assert.match(e.message, want);
      assert.doesNotMatch(e.message, kind === 'NaN' || kind.includes('Infinity') ? /^$/ : /无穷大/, 'not said to be a number it is not');
      return true;
    });
  }
  assert.equal(c.status().pendingChanges, 0);
  assert.deepEqual(await c.list('inspection'), []);

  // What JSON does carry is kept: nulls, nested objects, shared (not cyclic) values.
  const shared = { result: 'pass' };
  const id = uuidv7();
  await c.save('inspection', id, { status: 'draft', lon: 112.5, summary: null, 'answers.fence': shared, 'answers.dust': shared });
  assert.equal(c.status().pendingChanges, 1);
  // A record saved again is two changes to one record.
  await c.save('inspection', id, { summary: '围挡完好' });
  assert.deepEqual([c.status().pendingChanges, c.status().pendingRecords], [2, 1]);
  await c.save('site', uuidv7(), { name: '某工地' });
  assert.deepEqual([c.status().pendingChanges, c.status().pendingRecords], [3, 2]);
  // A finding made and deleted before it was sent is no record to send;
  // a photo still to upload counts as a photo, not also as a record.
  const finding = uuidv7();
  await c.save('finding', finding, { inspection_id: id, description: '围挡缺失' });
  await c.remove('finding', finding);
  await c.takePhoto({ blob: new Uint8Array([0xff, 0xd8, 0xff, 1]), contentType: 'image/jpeg', fields: { inspection_id: id } });
  await c.refreshStatus();
  assert.deepEqual([c.status().pendingChanges, c.status().pendingRecords, c.status().pendingPhotos], [6, 2, 1]);
});

test('a request body that cannot be encoded fails with unencodable_value, not network, and is not sent', async () => {
  let sent = 0;
  /** @type {typeof fetch} */
  const f = async () => {
    sent++;
    return new Response('{}');
  };
  const t = { baseURL: 'http://127.0.0.1:1', fetch: f, observe: () => {} };
  await assert.rejects(requestJSON(t, 'POST', '/api/v1/sync/push', { body: { mutations: [{ fields: { n: 1n } }] } }), (e) => {
    assert.ok(e instanceof FieldsyncError);
    assert.equal(e.code, 'unencodable_value');
    assert.equal(e.temporary, false);
    return true;
  });
  assert.equal(sent, 0);
});

test('save refuses text the server would refuse (a hidden control character or direction override), with invalid_field naming the field; cleanText makes it savable', async () => {
  const c = await FieldsyncClient.open({ baseURL: 'http://127.0.0.1:9', storage: new MemoryStorage(), deviceName: '测试手机' });
  const id = uuidv7();
  /** @type {Array<[string, any, string]>} */
  const cases = [
    ['summary', '围挡\u202e完好', 'U+202E'],
    ['summary', 'a\u0000b', 'U+0000'],
    ['answers.fence', { result: 'fail', note: '见\u2066照片' }, 'U+2066'],
    ['answers.list', { value: ['ok', 'x\u0085'] }, 'U+0085'],
    ['summary', '\ufffe', 'U+FFFE'],
  ];
  for (const [field, value, char] of cases) {
    await assert.rejects(c.save('inspection', id, { status: 'draft', [field]: value }), (e) => {
      assert.ok(e instanceof FieldsyncError);
      assert.equal(e.code, 'invalid_field');
      assert.deepEqual(e.details, { entity: 'inspection', field, char });
      assert.equal(e.field, field, 'err.field names the field, as a server refusal does (SDK probe)');
      assert.match(e.message, new RegExp(`“${field.replace('.', '\\.')}”含有看不见的控制字符（${char.replace('+', '\\+')}`));
      return true;
    });
  }
  assert.equal(c.status().pendingChanges, 0);
  // The same on a photo's fields, and on a correction of a refused record.
  await assert.rejects(c.takePhoto({ blob: new Uint8Array([0xff, 0xd8, 0xff, 1]), contentType: 'image/jpeg', fields: { inspection_id: id, caption: '\u202d' } }),
    (e) => e instanceof FieldsyncError && e.code === 'invalid_field' && e.details.field === 'caption');
  // Line breaks, tabs and every other script are text.
  await c.save('inspection', id, { status: 'draft', summary: '围挡完好\r\n\t覆盖到位 ✓ Ⅱ级', 'answers.fence': { result: 'pass', note: cleanText('见\u2066照片\u2069') } });
  assert.equal((await c.get('inspection', id))?.fields['answers.fence'].note, '见照片');
  assert.equal(c.status().pendingChanges, 1);
});
