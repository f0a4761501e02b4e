/**
 * Registers the service worker (public/sw.js) in the built app and reports whether every file
 * of the build is cached, so the page reloads and runs with the network off.
 */
export async function enableOffline(status: HTMLElement): Promise<void> {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) {
    status.textContent = 'Offline use: only in the built app (npm start).';
    return;
  }
  // The bundle's hashed file name identifies the build: a new build registers anew and re-caches.
  const build = new URL(import.meta.url).pathname.split('/').pop() ?? '';
  await navigator.serviceWorker.register(`./sw.js?build=${encodeURIComponent(build)}`);
  await navigator.serviceWorker.ready;
  const cache = await caches.open('crystal-app');
  const listed = await cache.match(new URL('precache.json', location.href).href);
  const files: string[] = listed ? (await listed.json()).files : [];
  const missing = [];
  for (const f of files) if (!(await cache.match(new URL(f, location.href).href))) missing.push(f);
  const ready = listed !== undefined && missing.length === 0;
  status.textContent = ready ? `Ready offline: ${files.length} files cached.` : 'Caching for offline use…';
  document.body.dataset.offlineReady = String(ready);
  if (!ready) setTimeout(() => void enableOffline(status), 1000);
}
