/** The storage this origin uses (cached app and model), as the browser estimates it. */
export async function showStorage(target: HTMLElement): Promise<void> {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  if (!estimate || estimate.usage === undefined) {
    target.textContent = 'Storage in use: unknown in this browser.';
    return;
  }
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  target.textContent = `Storage in use: ${mib(estimate.usage)}${estimate.quota ? ` of ${mib(estimate.quota)} available` : ''}.`;
  target.dataset.usage = String(estimate.usage);
}
