/**
 * Screenshots of the page for the docs: serves the built app (npm run build first) with
 * `vite preview`, runs the first example, and saves docs/page.png.
 *   npm run build && tsx scripts/screenshot.ts
 */
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright';
import { preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../src/browser-flags.ts';

const server = await preview({ preview: { port: 4174, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(server.resolvedUrls!.local[0]);
  await page.waitForSelector('body[data-model-ready="true"]', { timeout: 120_000 });
  await page.click('#run');
  await page.waitForSelector('body[data-generating="false"]', { timeout: 240_000 });
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: 'docs/page.png', fullPage: true });
  console.log('wrote docs/page.png');
} finally {
  await browser.close();
  server.httpServer.close();
}
