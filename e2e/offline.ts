/** Blocks every request that does not go to the local preview server. */
import type { Page } from '@playwright/test';

export async function blockNetwork(page: Page): Promise<string[]> {
  const blocked: string[] = [];
  await page.context().route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return route.continue();
    blocked.push(url.href);
    return route.abort();
  });
  return blocked;
}
