// seen (sync.md §5.1) against the real fieldsync binary: a change to a
// value the phone had from the server says so, and the server logs no
// conflict for it — an office's return answered by a resubmission, a
// colleague's report followed — while a value the phone never had, which
// its change overwrote, is still logged.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7 } from '../src/index.js';
import { asOffice, demoSite, device, review, startServer, syncOK, tempDir } from './helpers.js';

/**
 * The conflict log of one record, as the office reads it: field=value.
 * @param {string} url @param {string} entity @param {string} id
 */
async function conflicts(url, entity, id) {
  const r = await asOffice(url, 'GET', `/api/v1/conflicts?entity=${entity}&record_id=${id}`);
  assert.equal(r.status, 200, await r.clone().text());
  const { conflicts: cs } = await r.json();
  return cs.map((/** @type {any} */ c) => `${c.field}=${JSON.stringify(c.value)}`).sort();
}

/**
 * A fetch that records the mutations each push sends (pushed), then
 * sends it.
 */
function pushWatcher() {
  /** @type {any[]} */
  const pushed = [];
  /** @type {typeof fetch} */
  const watch = async (input, init) => {
    if (String(input).endsWith('/api/v1/sync/push') && typeof init?.body === 'string') pushed.push(...JSON.parse(init.body).mutations);
    return globalThis.fetch(input, init);
  };
  return { pushed, watch };
}

test('seen: a resubmission after a return and a colleague report after a pull log no conflict; an overwritten value the phone never had does', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const { pushed, watch } = pushWatcher();
  const a = await device(srv.url, { fetch: watch });
  const b = await device(srv.url, { user: 'inspector2', fetch: watch });
  await syncOK(a);
  const insp = uuidv7(), finding = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await a.save('finding', finding, { inspection_id: insp, item_key: 'dust_cover', description: '东侧煤堆未苫盖', severity: 'major', status: 'open' });
  await syncOK(a);
  const creates = pushed.splice(0);
  assert.ok(creates.every((m) => !('seen' in m)), 'a new record has no server values to have seen');

  // The colleague, having pulled it, reports the rectification.
  await syncOK(b);
  const open = (await b.get('finding', finding))?.hlcs.status;
  await b.save('finding', finding, { status: 'rectifying' });
  // Twice before sending: the second change is of the phone's own value.
  await b.save('finding', finding, { status: 'rectified' });
  await syncOK(b);
  assert.deepEqual(pushed.splice(0).map((m) => m.seen), [{ status: open }, undefined]);
  assert.deepEqual(await conflicts(srv.url, 'finding', finding), []);

  // The inspector changes the description; the colleague, who has not
  // pulled it since, changes it too: the inspector's, which the colleague
  // never had, is logged.
  await a.save('finding', finding, { description: '东侧煤堆未苫盖约 200 平方米' });
  await syncOK(a);
  await b.save('finding', finding, { description: '东侧煤堆已苫盖' });
  await syncOK(b);
  assert.deepEqual(await conflicts(srv.url, 'finding', finding), ['description="东侧煤堆未苫盖约 200 平方米"']);
  // The office returns the inspection; the inspector, once the return is
  // pulled, submits again.
  await a.save('inspection', insp, { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' });
  await syncOK(a);
  await review(srv.url, insp, 'return');
  await syncOK(a);
  const returned = (await a.get('inspection', insp))?.hlcs.status;
  await a.save('inspection', insp, { summary: '已补充', status: 'submitted' });
  await syncOK(a);
  assert.deepEqual(pushed.splice(0).at(-1).seen, { status: returned }, 'the summary had no server value; the status was the return');
  assert.deepEqual(await conflicts(srv.url, 'inspection', insp), []);

  await a.close();
  await b.close();
});

test('seen: a refused change reapplied once the inspection was returned says what the phone shows then, and logs no conflict (SDK probe)', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const { pushed, watch } = pushWatcher();
  const a = await device(srv.url, { fetch: watch });
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '初稿' });
  await syncOK(a);
  await a.save('inspection', insp, { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' });
  await syncOK(a);
  // An edit made after the submission is refused: the inspection awaits review.
  await a.save('inspection', insp, { summary: '补充说明' });
  let r = await a.sync();
  assert.deepEqual(r.rejected.map((x) => x.code), ['record_locked']);
  const [entry] = await a.rejected();
  // The office returns it; the phone pulls the return, and the inspector
  // sends the edit again, submitting with it.
  await review(srv.url, insp, 'return');
  await syncOK(a);
  const shown = await a.get('inspection', insp);
  assert.equal(shown?.fields.status, 'returned');
  pushed.splice(0);
  await a.reapply(entry, { status: 'submitted' });
  r = await syncOK(a);
  const [m] = pushed.splice(0);
  assert.deepEqual(m.fields, { summary: '补充说明', status: 'submitted' });
  assert.deepEqual(m.seen, { summary: shown?.hlcs.summary, status: shown?.hlcs.status }, 'the values the phone showed as the change was made again');
  assert.deepEqual(await conflicts(srv.url, 'inspection', insp), [], 'an answer to the return, not a clash');
  await a.close();
});
