import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { blockNetwork } from './offline.ts';

const firstEval = JSON.parse(readFileSync('public/models/tiny-reasoner-qwen3/eval.jsonl', 'utf8').split('\n')[0]);

test('the bundled model loads offline and solves an eval prompt after thinking', async ({ page }) => {
  const blocked = await blockNetwork(page);
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
  await expect(page.locator('#model-status')).toContainText('WebGPU');
  await expect(page.locator('#prompt')).toHaveValue(firstEval.prompt);
  await page.locator('#run').click();
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 240_000 });
  await expect(page.locator('#error')).toBeHidden();
  const thinkText = await page.locator('#think-text').textContent();
  const thinkCount = Number((await page.locator('#think-count').textContent())!.match(/\d+/)![0]);
  expect(thinkCount).toBeGreaterThanOrEqual(20);
  expect(thinkText!.length).toBeGreaterThanOrEqual(20);
  await expect(page.locator('#answer-text')).toHaveText(firstEval.answer);
  await expect(page.locator('body')).toHaveAttribute('data-last-stop', 'eos');
  expect(blocked).toEqual([]);
});

test('Stop halts a generation and the page stays usable', async ({ page }) => {
  await blockNetwork(page);
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
  await page.locator('#run').click();
  // Wait for some thinking to stream, then stop.
  await expect(page.locator('#think-count')).not.toHaveText('(0 tokens)', { timeout: 120_000 });
  await page.locator('#stop').click();
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 60_000 });
  await expect(page.locator('body')).toHaveAttribute('data-last-stop', 'aborted');
  const stoppedAt = Number((await page.locator('#think-count').textContent())!.match(/\d+/)![0]);
  expect(stoppedAt).toBeLessThan(150);
  await expect(page.locator('#answer-text')).toHaveText('');
  // Usable again: a second run completes.
  await expect(page.locator('#run')).toBeEnabled();
  await page.locator('#run').click();
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 240_000 });
  await expect(page.locator('body')).toHaveAttribute('data-last-stop', 'eos');
  await expect(page.locator('#answer-text')).toHaveText(firstEval.answer);
});
