import { expect, test, type Page } from '@playwright/test';

// Pictures of the main views for the README: a crystal run with its occupancy grid, heatmap and
// CrystalKV / SlipKV map, the side-by-side comparison, and the page on a narrow screen.
const OUT = 'docs/screenshots';

async function run(page: Page, query: string, button = '#run') {
  await page.goto(`/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
  await page.locator(button).click();
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 400_000 });
}

test('main views', async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  await run(page, '?policy=crystal&budget=64&mode=think&watchLayer=1&watchHead=0');
  await page.screenshot({ path: `${OUT}/run.png`, fullPage: true });
  const heatmap = page.locator('#heatmap');
  const box = (await heatmap.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.6);
  await heatmap.locator('xpath=..').screenshot({ path: `${OUT}/heatmap.png` });
  await page.locator('#occupancy').locator('xpath=..').screenshot({ path: `${OUT}/occupancy.png` });
  await page.locator('#crystal-map').locator('xpath=..').screenshot({ path: `${OUT}/crystal-map.png` });
  await run(page, '?policy=crystal&budget=64&mode=think&comparePolicy=h2o&compareBudget=64', '#compare');
  await expect(page.locator('#compare-view')).toHaveAttribute('data-done', 'true');
  await page.locator('#compare-view').screenshot({ path: `${OUT}/compare.png` });
  await page.setViewportSize({ width: 420, height: 900 });
  await page.evaluate(() => window.scrollTo(0, document.getElementById('gen-status')!.offsetTop));
  await page.screenshot({ path: `${OUT}/narrow.png` });
  // Nothing wider than the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(420);
});
