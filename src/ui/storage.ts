/**
 * The storage this origin uses (the cached app and the downloaded models), as the browser
 * estimates it, whether it is persistent, and the button that asks for persistence: without it
 * the browser may evict gigabytes of models under storage pressure.
 */
import { requestPersistentStorage, storageUsage } from '../catalog/storage.ts';

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

export async function showStorage(target: HTMLElement, persist?: HTMLButtonElement): Promise<void> {
  const usage = await storageUsage().catch(() => null);
  if (!usage) {
    target.textContent = 'Storage in use: unknown in this browser.';
    if (persist) persist.disabled = true;
    return;
  }
  const caches = usage.caches !== null ? ` (Cache API: ${mib(usage.caches)})` : '';
  const quota = usage.quota !== null ? ` of ${mib(usage.quota)} available` : '';
  const kept = usage.persisted ? 'persistent: the browser keeps it' : 'not persistent: the browser may clear it when space runs low';
  target.textContent = `Storage in use: ${mib(usage.usage)}${quota}${caches}; ${kept}.`;
  target.dataset.usage = String(usage.usage);
  target.dataset.persisted = String(usage.persisted);
  if (persist) {
    persist.disabled = usage.persisted;
    persist.textContent = usage.persisted ? 'Storage is persistent' : 'Persist storage';
  }
}

/** Wires the Persist storage button; the answer is shown in `target` with the usage. */
export function enablePersist(button: HTMLButtonElement, target: HTMLElement): void {
  button.addEventListener('click', async () => {
    const granted = await requestPersistentStorage();
    await showStorage(target, button);
    if (!granted) {
      target.textContent +=
        ' The browser declined to make it persistent (it decides from how the site is used; bookmarking or installing it helps).';
    }
  });
}
