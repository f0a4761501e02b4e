import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { blockNetwork } from './offline.ts';

// The page's views, driven like a user would: the heatmap fills, the occupancy grid stays within
// the budget, compare mode finishes two runs, the app reloads offline, and markup stays text.
const evalPrompts = readFileSync('public/models/tiny-reasoner-qwen3/eval.jsonl', 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { prompt: string; answer: string });

async function ready(page: Page, query = '') {
  await page.goto(`/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
}

async function finished(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 240_000 });
  await expect(page.locator('#error')).toBeHidden();
}

const canvasPixels = (page: Page) =>
  page.locator('#heatmap').evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));

test('the heatmap changes as the generation goes; occupancy reaches the budget and never exceeds it', async ({ page }) => {
  await blockNetwork(page);
  await ready(page, '?policy=h2o&budget=48&mode=think&watchLayer=1&watchHead=1');
  await expect(page.locator('#policy')).toHaveValue('h2o');
  await expect(page.locator('#policy-paper')).toHaveAttribute('href', 'https://arxiv.org/abs/2306.14048');
  // Record the grid's worst state after every DOM update: the most heads over their limit, the fullest head.
  await page.locator('#occupancy').evaluate((grid) => {
    const seen = ((window as unknown as { seen: { over: number; fill: number } }).seen = { over: 0, fill: 0 });
    new MutationObserver(() => {
      seen.over = Math.max(seen.over, Number(grid.dataset.over ?? 0));
      seen.fill = Math.max(seen.fill, Number(grid.dataset.maxFill ?? 0));
    }).observe(grid, { attributes: true, subtree: true, childList: true });
  });
  await page.locator('#run').click();
  await expect(page.locator('#heatmap')).toHaveAttribute('data-steps', /^([2-9]\d|\d{3})$/, { timeout: 120_000 }); // 20+ steps
  const early = await canvasPixels(page);
  await expect(page.locator('#heatmap')).toHaveAttribute('data-steps', /^([89]\d|\d{3})$/, { timeout: 240_000 }); // 80+ steps
  const later = await canvasPixels(page);
  let changed = 0;
  for (let i = 0; i < early.length; i += 4) if (early[i] !== later[i] || early[i + 1] !== later[i + 1] || early[i + 2] !== later[i + 2]) changed++;
  expect(changed).toBeGreaterThan(1000);
  await finished(page);
  const seen = await page.evaluate(() => (window as unknown as { seen: { over: number; fill: number } }).seen);
  expect(seen.over).toBe(0);
  expect(seen.fill).toBe(1);
  await expect(page.locator('#occupancy-summary')).toContainText('KV held');
  // Pointing at a cell names the token, its position and its attention or eviction.
  const box = (await page.locator('#heatmap').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.05, box.y + box.height * 0.5);
  await expect(page.locator('#heatmap-tip')).toContainText(/position \d+ ".*", step \d+/);
  // The answer-first map: CrystalKV and SlipKV tokens, beside what h2o kept.
  const tiers = await page.locator('#crystal-map pre').first().evaluate((pre) => ({
    crystal: pre.querySelectorAll('.tier-crystal').length,
    slip: pre.querySelectorAll('.tier-slip').length,
    all: pre.children.length,
  }));
  expect(tiers.all).toBeGreaterThan(20);
  expect(Math.abs(tiers.crystal - 0.3 * tiers.all)).toBeLessThanOrEqual(1);
  expect(Math.abs(tiers.slip - 0.3 * tiers.all)).toBeLessThanOrEqual(1);
  await expect(page.locator('#crystal-map')).toContainText('h2o, budget 48 (think) kept');
});

test('under crystal the per-head budgets visibly move', async ({ page }) => {
  await blockNetwork(page);
  await ready(page, '?policy=crystal&budget=48&mode=think');
  await expect(page.locator('#policy-paper')).toHaveAttribute('href', 'https://arxiv.org/abs/2601.16986');
  await page.locator('#run').click();
  await finished(page);
  expect(Number(await page.locator('#occupancy').getAttribute('data-moves'))).toBeGreaterThan(0);
  expect(await page.locator('#occupancy').getAttribute('data-over')).toBe('0');
  // Limits differ between heads once budgets moved.
  const limits = await page.locator('#occupancy .count').allTextContents();
  expect(new Set(limits.map((t) => t.split(' / ')[1])).size).toBeGreaterThan(1);
});

test('a model folder URL that is not a model gives a clear error and keeps the loaded one', async ({ page }) => {
  await blockNetwork(page);
  await ready(page);
  await page.locator('#model-url').fill('http://127.0.0.1:4173/no-such-model/');
  await page.locator('#load-url').click();
  await expect(page.locator('#error')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('#error')).toContainText(/config\.json|404|not found/i);
  await expect(page.locator('#run')).toBeEnabled();
});

test('the settings survive a reload and a shared URL reproduces them', async ({ page }) => {
  await blockNetwork(page);
  await ready(page);
  await page.locator('#policy').selectOption('snapkv-d');
  await page.locator('#budget').fill('80');
  await page.locator('#budget').dispatchEvent('change');
  await page.locator('#mode').selectOption('all');
  await page.reload();
  await expect(page.locator('#policy')).toHaveValue('snapkv-d');
  await expect(page.locator('#budget')).toHaveValue('80');
  await expect(page.locator('#mode')).toHaveValue('all');
  const shared = page.url();
  expect(shared).toContain('policy=snapkv-d');
  const other = await page.context().browser()!.newContext();
  const fresh = await other.newPage();
  await fresh.goto(shared.replace('budget=80', 'budget=72'));
  await expect(fresh.locator('#policy')).toHaveValue('snapkv-d');
  await expect(fresh.locator('#budget')).toHaveValue('72');
  await other.close();
});

test('every control has a label and takes the keyboard; the page fits a narrow screen', async ({ page }) => {
  await blockNetwork(page);
  await ready(page);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('input, select, textarea, button')]
      .filter((el) => {
        const labels = (el as HTMLInputElement).labels;
        const name = (labels && labels.length > 0 ? labels[0].textContent : '') || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' ? el.textContent : '');
        return !name?.trim() || el.tabIndex < 0;
      })
      .map((el) => el.id),
  );
  expect(unlabelled).toEqual([]);
  // Keyboard: focus the policy, change it with the arrow keys, and the choice is kept.
  await page.locator('#policy').focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.locator('#policy')).not.toHaveValue('crystal');
  await page.setViewportSize({ width: 400, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
});

test('compare mode shows two finished transcripts side by side', async ({ page }) => {
  await blockNetwork(page);
  await ready(page, `?policy=full&comparePolicy=streaming&compareBudget=32&mode=think&maxTokens=400`);
  await page.locator('#compare').click();
  await expect(page.locator('#compare-view')).toHaveAttribute('data-done', 'true', { timeout: 400_000 });
  await finished(page);
  for (const side of ['#compare-a', '#compare-b']) {
    await expect(page.locator(side)).toHaveAttribute('data-finished', 'true');
    await expect(page.locator(`${side} dl`)).toContainText('think length');
    await expect(page.locator(`${side} dl`)).toContainText('peak KV held');
  }
  await expect(page.locator('#compare-a h3')).toHaveText('full cache');
  await expect(page.locator('#compare-a .answer')).toHaveText(evalPrompts[0].answer);
  await expect(page.locator('#compare-a .correct')).toBeVisible();
  await expect(page.locator('#compare-b h3')).toHaveText('streaming, budget 32 (think)');
});

test('a prompt with markup is shown as literal text', async ({ page }) => {
  await blockNetwork(page);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await ready(page, '?maxTokens=8');
  const markup = '<img src=x onerror=alert(1)>';
  await page.locator('#prompt').fill(`${evalPrompts[0].prompt}\n${markup}`);
  await page.locator('#run').click();
  await finished(page);
  await expect(page.locator('#prompt-echo')).toContainText(markup);
  expect(await page.locator('img').count()).toBe(0);
  // The heatmap names prompt tokens as text too: point at the prompt's last positions.
  const box = (await page.locator('#heatmap').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.98, box.y + 2);
  await expect(page.locator('#heatmap-tip')).toContainText('position');
  expect(dialogs).toEqual([]);
});

test('after the first visit the page reloads and runs with the network off', async ({ page, context }) => {
  await ready(page, '?maxTokens=400');
  await expect(page.locator('body')).toHaveAttribute('data-offline-ready', 'true', { timeout: 120_000 });
  await expect(page.locator('#storage')).toContainText('Storage in use');
  await context.setOffline(true);
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
  await page.locator('#run').click();
  await finished(page);
  await expect(page.locator('#answer-text')).toHaveText(evalPrompts[0].answer);
});
