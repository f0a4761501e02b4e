/**
 * Runs a benchmark page in Chromium (Debian's, with the flags of src/browser-flags.ts) against a
 * listening Vite server: prints the page's console, waits for `window.benchDone`, and sets exit
 * code 1 when the page's #log says ERROR. Closes the browser and the server. npm run bench and
 * npm run bench:peer share it.
 */
import { chromium, type ConsoleMessage } from 'playwright';
import type { ViteDevServer } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../src/browser-flags.ts';

export async function runBenchPage(
  server: ViteDevServer,
  pagePath: string,
  query: URLSearchParams,
  onConsole: (m: ConsoleMessage) => void = (m) => console.log(m.text()),
): Promise<void> {
  const base = server.resolvedUrls!.local[0];
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('console', onConsole);
    page.on('pageerror', (e) => console.error(e));
    await page.goto(`${base}${pagePath}?${query}`);
    await page.waitForFunction(() => (window as unknown as { benchDone?: boolean }).benchDone === true, null, { timeout: 0 });
    const text = await page.locator('#log').textContent();
    if (text?.includes('ERROR')) process.exitCode = 1;
  } finally {
    await browser.close();
    await server.close();
  }
}
