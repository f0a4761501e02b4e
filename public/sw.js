// The service worker that makes the page work offline after the first visit. At install it
// caches every file of the build (precache.json, written by vite.config.ts: the app shell, the
// engine worker, the tokenizer's wasm and the bundled model); then it answers same-origin GETs
// from that cache first (the page itself from the network first) and stores what else it
// fetches. The page registers it with its build's id, so a new build installs it again and the
// files of the older build are dropped.
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
      // The page itself comes from the network when there is one, so a new build's page (and the
      // worker it registers) replaces this one; offline, the cached page, whatever the query.
      if (request.mode === 'navigate') {
        try {
          return await fetch(request);
        } catch {
          return (await cache.match('./', { ignoreSearch: true, ignoreVary: true })) ?? Response.error();
        }
      }
      // ignoreVary: the server varies on Origin, which a module script's request carries and
      // the install's fetch did not.
      const hit = await cache.match(request, { ignoreVary: true });
      if (hit) return hit;
      let response;
      try {
        response = await fetch(request);
      } catch {
        // Offline and not cached: the build never had this file (a loader probing for an optional
        // one, such as mlc-chat-config.json beside a Hugging Face folder). Say so plainly.
        return new Response('', { status: 404, statusText: 'Not in the offline cache' });
      }
      if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
      return response;
    })(),
  );
});
