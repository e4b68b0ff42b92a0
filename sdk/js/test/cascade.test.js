// An inspection's findings and its delete (sync.md §8.2), against the real
// fieldsync binary: remove() takes the live findings with the inspection,
// in the same push; a finding another app left under a deleted inspection
// is hidden, as the server keeps it live and locked.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7 } from '../src/index.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

/**
 * @param {import('../src/index.js').FieldsyncClient} c
 * @param {string} site
 * @param {number} n
 */
async function draftWithFindings(c, site, n) {
  const insp = uuidv7();
  await c.save('inspection', insp, { site_id: site, template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const findings = [];
  for (let i = 0; i < n; i++) {
    const f = uuidv7();
    await c.save('finding', f, { inspection_id: insp, item_key: 'enclosure', description: `问题 ${i}`, severity: 'major', deadline: new Date(Date.now() + 180 * 86400e3).toISOString().slice(0, 10), status: 'open' });
    findings.push(f);
  }
  return { insp, findings };
}

test('remove() of an inspection deletes its live findings in the same push; another inspection\'s stay', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const site = await demoSite(a);
  const gone = await draftWithFindings(a, site, 2);
  const kept = await draftWithFindings(a, site, 1);
  await syncOK(a);
  /** @type {any[]} */
  const changed = [];
  a.on('change', (e) => changed.push(e));
  await a.remove('inspection', gone.insp);
  assert.deepEqual(changed.map((e) => `${e.entity}/${e.id}`).sort(),
    [...gone.findings.map((f) => `finding/${f}`), `inspection/${gone.insp}`].sort(), 'a change event for each');
  assert.equal(a.status().pendingChanges, 3, 'the inspection and its two findings');
  for (const f of gone.findings) assert.equal(await a.get('finding', f), null);
  assert.deepEqual((await a.list('finding')).map((f) => f.id), kept.findings);
  const r = await syncOK(a);
  assert.equal(r.pushed, 3);
  // Another device of the county sees them gone from the server.
  const b = await device(srv.url);
  await syncOK(b);
  assert.equal(await b.get('inspection', gone.insp), null);
  for (const f of gone.findings) assert.equal(await b.get('finding', f), null, 'deleted on the server too');
  assert.deepEqual((await b.list('finding')).map((f) => f.id), kept.findings);
});

test('a finding left live under an inspection another app deleted is hidden from get and list', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const a = await device(srv.url);
  await syncOK(a);
  const site = await demoSite(a);
  const { insp, findings } = await draftWithFindings(a, site, 1);
  const other = await draftWithFindings(a, site, 1);
  await syncOK(a);
  // Another app deletes the inspection alone, as an app that does not
  // follow §8.2 would: the server keeps the finding live.
  const b = await device(srv.url);
  await syncOK(b);
  const auth = /** @type {any} */ (b).auth;
  const resp = await fetch(`${srv.url}/api/v1/sync/push`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${auth.access}` },
    body: JSON.stringify({ device_id: b.deviceId, batch_id: uuidv7(), mutations: [
      { entity: 'inspection', id: insp, hlc: /** @type {any} */ (b).clock.now().toString(), delete: true }] }),
  });
  const body = await resp.json();
  assert.equal(resp.status, 200, JSON.stringify(body));
  assert.equal(body.results[0].status, 'applied', JSON.stringify(body));
  await syncOK(a);
  assert.equal(await a.get('inspection', insp), null);
  assert.equal(await a.get('finding', findings[0]), null, 'hidden under its deleted inspection');
  assert.deepEqual((await a.list('finding')).map((f) => f.id), other.findings);
  // A finding whose inspection the phone has never had is shown.
  const stray = uuidv7();
  await a.save('finding', stray, { inspection_id: uuidv7(), item_key: 'enclosure', description: '检查记录未到', severity: 'major', deadline: new Date(Date.now() + 180 * 86400e3).toISOString().slice(0, 10), status: 'open' });
  assert.equal((await a.get('finding', stray))?.id, stray);
  assert.deepEqual((await a.list('finding')).map((f) => f.id).sort(), [...other.findings, stray].sort());
});
