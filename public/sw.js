// The service worker that makes the page work offline after the first visit. At install it
// caches every file of the build (precache.json, written by vite.config.ts: the app shell, the
// engine worker, the tokenizer's wasm and the bundled model); then it answers same-origin GETs
// from that cache first and stores what else it fetches. Files of an older build are dropped.
const CACHE = 'crystal-app';

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const list = await (await fetch('precache.json', { cache: 'no-store' })).json();
      const urls = ['./', 'precache.json', ...list.files].map((f) => new URL(f, self.registration.scope).href);
      await cache.addAll(urls);
      const keep = new Set(urls);
      for (const request of await cache.keys()) if (!keep.has(request.url)) await cache.delete(request);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      // Navigations ignore the query (the settings live there). ignoreVary: the server varies on
      // Origin, which a module script's request carries and the install's fetch did not.
      const hit = await cache.match(request, { ignoreSearch: request.mode === 'navigate', ignoreVary: true });
      if (hit) return hit;
      const response = await fetch(request);
      if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
      return response;
    })(),
  );
});
