// Admission control against the real fieldsync binary (sync.md §5.2, §11):
// a push the server refuses with 503 server_busy is sent again, with the
// same batch_id, after Retry-After, and nothing is lost or doubled.

import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { uuidv7 } from '../src/index.js';
import { demoSite, device, recorder, startServer, syncOK, tempDir } from './helpers.js';

/**
 * A push whose body is still arriving: the server has given it its turn
 * (turns are taken before the body is read) and it keeps it until finish
 * sends the rest, which is not JSON, so the server answers 400 after
 * giving the turn back.
 * @param {string} url
 * @param {string} token
 */
function slowPush(url, token) {
  const head = '{"device_id":';
  const size = 100;
  const req = http.request(new URL('/api/v1/sync/push', url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(size), Authorization: `Bearer ${token}` },
  });
  /** @type {Promise<number>} */
  const answered = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  req.write(head);
  return { finish: () => (req.end('x'.repeat(size - head.length)), answered) };
}

/**
 * Resolves once the server's /metrics shows n pushes holding a turn: the
 * state the test needs, read from the server rather than guessed by time.
 * @param {string} url
 * @param {number} n
 */
async function pushesInFlight(url, n) {
  for (let i = 0; i < 1000; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (text.includes(`fieldsync_admission_in_flight{route="push"} ${n}\n`)) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`the server never had ${n} pushes in flight`);
}

test('a push refused with 503 server_busy waits Retry-After and is sent again with its batch_id', async () => {
  const srv = await startServer({ dataDir: tempDir('data'), args: ['--push-concurrency', '1', '--push-queue', '-1'] });
  /** @type {number[]} */
  const waits = [];
  /** @type {(() => Promise<number>) | null} */
  let release = null;
  const rec = recorder();
  const phone = await device(srv.url, {
    fetch: rec.fetch,
    sleep: async (ms) => {
      waits.push(ms);
      if (release) {
        assert.equal(await release(), 400);
        release = null;
      }
    },
  });
  await syncOK(phone);
  const insp = uuidv7();
  await phone.save('inspection', insp, { site_id: await demoSite(phone), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '服务器繁忙时保存' });

  // Another push holds the only turn; there is no queue.
  release = slowPush(srv.url, phone.auth.access).finish;
  await pushesInFlight(srv.url, 1);

  const r = await syncOK(phone);
  assert.equal(r.pushed, 1);
  assert.equal(release, null, 'the phone waited, and the turn was given back meanwhile');
  const pushes = rec.log.filter((e) => e.path === '/api/v1/sync/push');
  assert.deepEqual(
    pushes.map((e) => [e.status, e.code]),
    [
      [503, 'server_busy'],
      [200, ''],
    ],
  );
  assert.equal(pushes[0].body.batch_id, pushes[1].body.batch_id, 'the same batch, sent again');
  assert.deepEqual(waits.length, 1);
  assert.ok(waits[0] >= 1000, `waited ${waits[0]} ms: Retry-After is at least a second`);

  // The server has the inspection once, as another phone of the county sees it.
  const other = await device(srv.url, { user: 'inspector2' });
  await syncOK(other);
  assert.equal((await other.get('inspection', insp))?.fields.summary, '服务器繁忙时保存');
  assert.equal(phone.status().pendingChanges, 0);
});

test('a push whose body arrived too slowly (408 request_timeout) is sent again with its batch_id', async () => {
  const srv = await startServer({ dataDir: tempDir('data'), args: ['--body-idle', '300ms'] });
  const rec = recorder();
  /** @type {string[]} */
  const batches = [];
  let stall = false;
  /** @type {typeof fetch} */
  const stalling = async (input, init) => {
    if (String(input).endsWith('/api/v1/sync/push') && typeof init?.body === 'string') {
      batches.push(JSON.parse(init.body).batch_id);
      if (stall) {
        // The phone's link stops half-way through the body: the server
        // gives up on it after --body-idle, not after the OS's timeout.
        stall = false;
        const bytes = new TextEncoder().encode(init.body);
        const body = new ReadableStream({
          start(ctl) {
            ctl.enqueue(bytes.subarray(0, bytes.length >> 1));
          },
        });
        return rec.fetch(input, /** @type {any} */ ({ ...init, body, duplex: 'half' }));
      }
    }
    return rec.fetch(input, init);
  };
  /** @type {number[]} */
  const waits = [];
  const phone = await device(srv.url, { fetch: stalling, sleep: async (ms) => void waits.push(ms) });
  await syncOK(phone);
  const insp = uuidv7();
  await phone.save('inspection', insp, { site_id: await demoSite(phone), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '信号中断后重发' });

  stall = true;
  const r = await syncOK(phone);
  assert.equal(r.pushed, 1);
  const pushes = rec.log.filter((e) => e.path === '/api/v1/sync/push');
  assert.deepEqual(
    pushes.slice(-2).map((e) => [e.status, e.code]),
    [
      [408, 'request_timeout'],
      [200, ''],
    ],
  );
  assert.equal(batches.at(-1), batches.at(-2), 'the same batch, sent again');
  assert.equal(waits.length, 1);
  assert.ok(waits[0] >= 1000, `waited ${waits[0]} ms`);

  const other = await device(srv.url, { user: 'inspector2' });
  await syncOK(other);
  assert.equal((await other.get('inspection', insp))?.fields.summary, '信号中断后重发');
  assert.equal(phone.status().pendingChanges, 0);
});
