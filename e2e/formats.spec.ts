import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { blockNetwork } from './offline.ts';

// The bundled model also ships as MLC artifacts (scripts/bundle-mlc.sh): the page lists both forms
// under "Bundled", shows what each needs before loading it, and each loads offline and solves an
// eval prompt with the full cache.
const firstEval = JSON.parse(readFileSync('public/models/tiny-reasoner-qwen3/eval.jsonl', 'utf8').split('\n')[0]);

for (const id of ['tiny-reasoner-qwen3-q4f32_1-MLC', 'tiny-reasoner-qwen3-q0f32-MLC']) {
  test(`the bundled ${id} form loads offline from the model list and answers`, async ({ page }) => {
    const blocked = await blockNetwork(page);
    await page.goto('/?policy=full');
    await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
    await expect(page.locator(`#model option[value="${id}"]`)).toHaveCount(1);
    await page.locator('#model').selectOption(id);
    // Before it loads, the page says what it needs: weights, KV and working buffers.
    await expect(page.locator('#model-needs')).toContainText(/Needs [\d.]+ MiB of GPU memory: weights [\d.]+ MiB, KV [\d.]+ MiB \(full cache\), working buffers/);
    await expect(page.locator('#model-status')).toContainText(id, { timeout: 60_000 });
    await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
    await page.locator('#run').click();
    await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 240_000 });
    await expect(page.locator('#error')).toBeHidden();
    await expect(page.locator('#answer-text')).toHaveText(firstEval.answer);
    expect(blocked).toEqual([]);
  });
}
