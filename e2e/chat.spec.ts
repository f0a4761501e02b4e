import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { blockNetwork } from './offline.ts';

// Chat mode on the bundled model with the default cache settings: the second turn keeps the KV of
// the prefix it shares with the first (reused > 0, fewer tokens prefilled than its prompt holds),
// the occupancy and heatmap views follow each turn, an empty message is refused, and New chat
// starts the next turn fresh.
const evals = readFileSync('public/models/tiny-reasoner-qwen3/eval.jsonl', 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { prompt: string });

const turn = (page: Page, n: number) => page.locator('#conversation .turn.assistant').nth(n);
const count = async (page: Page, n: number, key: 'promptTokens' | 'reused' | 'prefilled') =>
  Number(await turn(page, n).getAttribute(`data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`));

async function send(page: Page, message: string) {
  await page.locator('#chat-message').fill(message);
  await page.locator('#chat-send').click();
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 120_000 });
  await expect(page.locator('#error')).toBeHidden();
}

test('two chat turns: the second reuses the first turn\'s prefix, and the live views follow', async ({ page }) => {
  await blockNetwork(page);
  await page.goto('/?maxTokens=12');
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
  await page.locator('#view-chat').check();
  await expect(page.locator('#chat-send')).toBeVisible();
  await expect(page.locator('#run')).toBeHidden();
  await expect(page.locator('#chat-thinking')).toBeChecked();

  // An empty message is refused with a message, and nothing is sent.
  await page.locator('#chat-send').click();
  await expect(page.locator('#chat-message')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#chat-message-error')).toHaveText('Must be a user message with text.');
  await expect(page.locator('#gen-status')).toHaveText('Nothing was sent: the message is empty.');
  await expect(page.locator('#conversation .turn')).toHaveCount(0);

  await send(page, evals[0].prompt);
  await expect(turn(page, 0)).toHaveAttribute('data-reused', '0');
  expect(await count(page, 0, 'prefilled')).toBe(await count(page, 0, 'promptTokens'));
  await expect(page.locator('#occupancy-summary')).toContainText('KV held');

  // The second turn: record that the occupancy grid is redrawn while it runs.
  await page.locator('#occupancy').evaluate((grid) => {
    const w = window as unknown as { redraws: number };
    w.redraws = 0;
    new MutationObserver(() => w.redraws++).observe(grid, { attributes: true, subtree: true, childList: true, characterData: true });
  });
  await send(page, evals[1].prompt);
  const [promptTokens, reused, prefilled] = [await count(page, 1, 'promptTokens'), await count(page, 1, 'reused'), await count(page, 1, 'prefilled')];
  expect(reused).toBeGreaterThan(0);
  expect(reused).toBeGreaterThanOrEqual(await count(page, 0, 'promptTokens')); // the whole first prompt
  expect(prefilled).toBeLessThan(promptTokens);
  expect(reused + prefilled).toBe(promptTokens);
  await expect(turn(page, 1).locator('.turn-stats')).toContainText(`prompt ${promptTokens} tokens: ${reused} reused from the cache, ${prefilled} prefilled`);
  expect(await page.evaluate(() => (window as unknown as { redraws: number }).redraws)).toBeGreaterThan(10);
  await expect(page.locator('#occupancy-summary')).toContainText('KV held');
  await expect(page.locator('#heatmap')).toHaveAttribute('data-steps', /^\d+$/);
  expect(Number(await page.locator('#heatmap').getAttribute('data-steps'))).toBeGreaterThan(0);
  // Turns are text: the user's programs appear as typed.
  await expect(page.locator('#conversation .turn.user pre').nth(1)).toHaveText(evals[1].prompt);

  // New chat forgets the conversation: the next turn prefills its whole prompt.
  await page.locator('#chat-new').click();
  await expect(page.locator('#conversation .turn')).toHaveCount(0);
  await send(page, evals[1].prompt);
  await expect(turn(page, 0)).toHaveAttribute('data-reused', '0');
});
