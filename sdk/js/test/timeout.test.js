// Requests that stall (a phone between cells, a proxy that holds the
// connection) are given up after the client's requestTimeout, against the
// real fieldsync binary behind a real TCP proxy that stops forwarding a
// chosen request: the sync ends as network, nothing is lost, and the next
// sync sends everything once.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { uuidv7 } from '../src/index.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

/**
 * A TCP proxy to target that forwards everything except, from the request
 * whose first line matches holds (and for the rest of that connection),
 * the bytes the client sends: that request never reaches the server and
 * is never answered.
 * @param {string} target base URL of the server
 * @returns {Promise<{url: string, holds: {test: (line: string) => boolean} | null, held: number, rate: number, close: () => void}>}
 */
async function stallingProxy(target) {
  const { hostname, port } = new URL(target);
  const p = { url: '', holds: /** @type {{test: (line: string) => boolean} | null} */ (null), held: 0, rate: 0, close: () => {} };
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  const srv = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let stalled = false;
    client.on('data', (chunk) => {
      if (!stalled && p.holds && p.holds.test(chunk.subarray(0, 200).toString('latin1'))) {
        stalled = true;
        p.held++;
      }
      if (stalled) return;
      if (!p.rate) {
        upstream.write(chunk);
        return;
      }
      // A slow link: the bytes go on at p.rate a second, in tenths.
      client.pause();
      const step = Math.max(1, Math.floor(p.rate / 10));
      let at = 0;
      const next = () => {
        if (upstream.destroyed) return;
        upstream.write(chunk.subarray(at, at + step));
        at += step;
        if (at < chunk.length) setTimeout(next, 100);
        else client.resume();
      };
      next();
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = /** @type {net.AddressInfo} */ (srv.address());
  p.url = `http://127.0.0.1:${addr.port}`;
  p.close = () => { for (const s of sockets) s.destroy(); srv.close(); };
  return p;
}

test('a push that stalls ends the sync as network (timeout) instead of hanging it; the next sync sends the change once', { timeout: 60e3 }, async (t) => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const proxy = await stallingProxy(srv.url);
  t.after(() => proxy.close());
  // No limit while the test sets up (a loaded machine may take long on
  // an honest request); 1.5 s for the sync that meets the stall.
  const a = await device(proxy.url, { requestTimeout: 0 });
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft', summary: '卡住的连接' });
  const photo = await a.takePhoto({ blob: new TextEncoder().encode('照片'), contentType: 'image/jpeg', fields: { inspection_id: insp } });

  proxy.holds = /^POST \/api\/v1\/sync\/push /;
  a.requestTimeout = 1500;
  const r = await a.sync();
  a.requestTimeout = 0;
  assert.equal(proxy.held, 1, 'the push was held by the proxy');
  assert.equal(r.ok, false);
  assert.equal(r.error?.code, 'network');
  assert.equal(r.error?.details?.timeout, 1500);
  assert.equal(a.signedIn, true, 'a stalled push does not end the session');
  assert.equal(a.status().pendingChanges, 2, 'the changes wait');
  // The server stopped answering: the photos are not tried after it (each
  // would wait as long again).
  assert.equal(r.uploaded, 0);
  assert.deepEqual((await a.uploads()).map((j) => [j.photoId, j.state, j.offset]), [[photo.id, 'queued', 0]]);
  assert.match(a.status().lastSync?.error?.message ?? '', /没有响应/);
  assert.equal(a.status().lastSync?.error?.details?.timeout, 1500);

  proxy.holds = null;
  const again = await a.sync();
  assert.equal(again.error?.code, 'bad_image', 'the photo, no picture, is sent and refused');
  assert.equal(again.pushed, 2);
  assert.equal(a.status().pendingChanges, 0);
  const b = await device(srv.url, { user: 'inspector' });
  await syncOK(b);
  assert.equal((await b.get('inspection', insp))?.fields.summary, '卡住的连接');
});

test('a photo upload whose PATCH stalls is given up and resumed by the next sync from the server\'s offset', { timeout: 60e3 }, async (t) => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const proxy = await stallingProxy(srv.url);
  t.after(() => proxy.close());
  const a = await device(proxy.url, { requestTimeout: 0, chunkSize: 64 << 10 });
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const bytes = new Uint8Array(200 << 10).map((_, i) => (i * 7919) % 251);
  const photo = await a.takePhoto({ blob: bytes, contentType: 'image/jpeg', fields: { inspection_id: insp } });
  const job = async () => (await a.uploads()).find((j) => j.photoId === photo.id);

  // The records go, the upload begins; its first chunk goes through, the
  // second stalls.
  let patches = 0;
  proxy.holds = { test: (/** @type {string} */ line) => /^PATCH \/api\/v1\/uploads\//.test(line) && ++patches === 2 };
  a.requestTimeout = 1500;
  const r = await a.sync();
  a.requestTimeout = 0;
  assert.equal(proxy.held, 1, 'the second PATCH was held');
  assert.equal(r.error?.code, 'network');
  assert.equal(r.error?.details?.timeout, 1500);
  const kept = await job();
  assert.equal(kept?.state, 'queued');
  assert.equal(kept?.offset, 64 << 10, 'the first chunk is kept');

  proxy.holds = null;
  const again = await a.sync();
  // The bytes are no picture: the server refuses them as bad_image at the
  // last chunk — after the upload resumed at 64 KiB and sent the two whole
  // chunks after it (from 0 it would have sent three).
  assert.equal(again.error?.code, 'bad_image');
  assert.equal(again.uploadedBytes, 2 * (64 << 10), 'resumed from the offset the server reported');
});

test('a photo upload on a slow link that keeps moving is not cut off, though each chunk takes longer than requestTimeout', { timeout: 60e3 }, async (t) => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const proxy = await stallingProxy(srv.url);
  t.after(() => proxy.close());
  const a = await device(proxy.url, { requestTimeout: 0, chunkSize: 128 << 10 });
  await syncOK(a);
  const insp = uuidv7();
  await a.save('inspection', insp, { site_id: await demoSite(a), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  await syncOK(a);
  const bytes = new Uint8Array(256 << 10).map((_, i) => (i * 7919) % 251);
  await a.takePhoto({ blob: bytes, contentType: 'image/jpeg', fields: { inspection_id: insp } });
  // 48 KB/s: a 128 KiB chunk takes nearly 3 s, handed to the socket at
  // once (no progress meanwhile), against a limit of 1 s.
  proxy.rate = 48 << 10;
  a.requestTimeout = 1000;
  const r = await a.sync();
  a.requestTimeout = 0;
  // Every byte arrived: the server refuses them as no picture, at the end.
  assert.equal(r.error?.code, 'bad_image', `the upload: ${r.error?.code} ${JSON.stringify(r.error?.details)}`);
});
