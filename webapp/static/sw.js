// The 巡查 app's service worker: it precaches the app shell (every file
// the server embeds, the SDK bundle included) so that the app opens with
// no network, and serves those files from the cache. The server fills in
// VERSION (a hash over the files) and PRECACHE when it serves this file:
// a new server binary with any changed file is a new worker with a new
// cache, and the old cache is dropped when it activates. The API
// (/api/...) is never cached here: the SDK keeps the data in IndexedDB.
const VERSION = "__VERSION__";
const PRECACHE = ["__PRECACHE__"];
const CACHE = 'fieldsync-app-' + VERSION;
const SHELL = '/app/';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: 'reload' skips the HTTP cache, so the files are this version's.
    await cache.addAll(PRECACHE.map((u) => new Request(u, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('fieldsync-app-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) return;
  const key = req.mode === 'navigate' || url.pathname === '/app/index.html' ? SHELL : url.pathname;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(key, { ignoreSearch: true });
    if (hit) return hit;
    try {
      return await fetch(req);
    } catch (err) {
      if (req.mode === 'navigate') {
        const shell = await cache.match(SHELL);
        if (shell) return shell;
      }
      throw err;
    }
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'version' && event.source) event.source.postMessage({ version: VERSION });
});
