/**
 * npm run bench -- [--runs N] [--tokens N] [--model URLPATH] [--prompt N --budget N (real-shape models)]
 *
 * Serves the repository with Vite, opens bench/index.html in Chromium (Debian's, WebGPU on
 * SwiftShader where there is no GPU; set CHROMIUM_PATH for another browser) and prints what the
 * page measures.
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../src/browser-flags.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, tokens: { type: 'string', default: '128' }, model: { type: 'string' }, prompt: { type: 'string' }, budget: { type: 'string' } },
});
const server = await createServer({ server: { port: 5199, strictPort: false, host: '127.0.0.1' }, logLevel: 'warn' });
await server.listen();
const base = server.resolvedUrls!.local[0];
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(m.text()));
  page.on('pageerror', (e) => console.error(e));
  const query = new URLSearchParams({ runs: values.runs!, tokens: values.tokens! });
  if (values.model) query.set('model', values.model);
  if (values.prompt) query.set('prompt', values.prompt);
  if (values.budget) query.set('budget', values.budget);
  await page.goto(`${base}bench/index.html?${query}`);
  await page.waitForFunction(() => (window as unknown as { benchDone?: boolean }).benchDone === true, null, { timeout: 0 });
  const text = await page.locator('#log').textContent();
  if (text?.includes('ERROR')) process.exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
