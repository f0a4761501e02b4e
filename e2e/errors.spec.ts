import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { blockNetwork } from './offline.ts';

// Errors on the page: a bad field value is marked with what is allowed and blocks Run, an empty
// prompt is refused before the engine is asked, an error thrown inside the worker engine is shown
// by its class name and message as text, and a lost GPU device keeps the transcript and offers a
// reload. After each, the page runs again.
const firstEval = JSON.parse(readFileSync('public/models/tiny-reasoner-qwen3/eval.jsonl', 'utf8').split('\n')[0]) as { prompt: string };

/** Records the engine methods the page calls through Comlink (the path of each message to the worker). */
async function recordEngineCalls(page: Page) {
  await page.addInitScript(() => {
    const calls: string[] = ((window as unknown as { engineCalls: string[] }).engineCalls = []);
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
      const path = (message as { path?: string[] } | null)?.path;
      if (path) calls.push(path.join('.'));
      return (post as (...a: unknown[]) => void).call(this, message, ...rest);
    } as typeof post;
  });
}
const generateCalls = (page: Page) => page.evaluate(() => (window as unknown as { engineCalls: string[] }).engineCalls.filter((c) => c === 'generate').length);

async function ready(page: Page, query: string) {
  await blockNetwork(page);
  await page.goto(`/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
}

async function finished(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 120_000 });
  await expect(page.locator('#error')).toBeHidden();
  await expect(page.locator('body')).toHaveAttribute('data-last-stop', /^(eos|max-tokens)$/);
}

test('a bad field value is marked and kept, and an empty prompt is refused: nothing reaches the engine', async ({ page }) => {
  await recordEngineCalls(page);
  await ready(page, '?maxTokens=8');
  const bad: [string, string, string][] = [
    ['#budget', '-5', 'Must be a positive integer (KV entries per head); got -5.'],
    ['#temperature', '-1', 'Must be a finite number >= 0 (0: greedy); got -1.'],
    ['#top-p', '5', 'Must be a number in (0, 1]; got 5.'],
    ['#seed', '1.5', 'Must be an integer; got 1.5.'],
    ['#max-tokens', '0', 'Must be a positive integer; got 0.'],
  ];
  for (const [field, value, message] of bad) {
    await page.locator(field).fill(value);
    await page.locator(field).dispatchEvent('change');
    await expect(page.locator(field)).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator(`${field}-error`)).toHaveText(message);
    await expect(page.locator(field)).toHaveValue(value); // not replaced by a default
  }
  expect(new URL(page.url()).searchParams.get('budget')).toBe('64'); // the setting keeps its last good value
  await page.locator('#run').click();
  await expect(page.locator('#gen-status')).toContainText('Not started: Budget (entries per head): Must be a positive integer');
  await expect(page.locator('#gen-status')).toContainText('Max new tokens: Must be a positive integer; got 0.');
  await expect(page.locator('body')).not.toHaveAttribute('data-generating', 'true');
  // Fixed values clear their marks as they are typed.
  for (const [field, value] of [['#budget', '64'], ['#temperature', '0'], ['#top-p', '1'], ['#seed', '0'], ['#max-tokens', '8']]) {
    await page.locator(field).fill(value);
    await expect(page.locator(field)).not.toHaveAttribute('aria-invalid');
    await expect(page.locator(`${field}-error`)).toBeHidden();
  }
  await page.locator('#prompt').fill('  \n ');
  await page.locator('#run').click();
  await expect(page.locator('#prompt')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#prompt-error')).toHaveText('Must be a non-empty string: write a prompt.');
  await expect(page.locator('#gen-status')).toHaveText('Not started: the prompt is empty.');
  expect(await generateCalls(page)).toBe(0);
  // With a prompt, Run runs.
  await page.locator('#prompt').fill(firstEval.prompt);
  await expect(page.locator('#prompt-error')).toBeHidden();
  await page.locator('#run').click();
  await finished(page);
  expect(await generateCalls(page)).toBe(1);
});

test("an error thrown inside the worker engine is shown as its class's name and message, in text", async ({ page }) => {
  // A positive budget passes the page's check; the engine refuses it for h2o, which keeps 16 recent entries.
  await ready(page, '?policy=h2o&budget=2&mode=think&maxTokens=8');
  await page.locator('#run').click();
  const error = page.locator('#error');
  await expect(error).toHaveText(
    'BudgetTooSmallError: A KV budget of 2 is too small for policy "h2o", which always keeps 16 entries. Raise the budget above 16.',
  );
  expect(await error.locator('*').count()).toBe(0); // text, no markup
  await expect(page.locator('#gen-status')).toHaveText('Generation failed.');
  await expect(page.locator('#reload-model')).toBeHidden();
  await expect(page.locator('#run')).toBeEnabled();
  await page.locator('#budget').fill('48');
  await page.locator('#run').click();
  await finished(page);
  await expect(page.locator('#think-text')).not.toBeEmpty();
});

test('a lost GPU device keeps the transcript, names the error and offers Reload model, after which a run finishes', async ({ page }) => {
  await ready(page, '?maxTokens=400');
  await page.locator('#run').click();
  await expect(page.locator('#think-count')).toHaveText(/\((1\d|[2-9]\d|\d{3}) tokens\)/, { timeout: 120_000 }); // 10+ tokens in
  const worker = page.workers().find((w) => w.url().includes('worker'));
  expect(worker, `workers: ${page.workers().map((w) => w.url())}`).toBeDefined();
  await worker!.evaluate(() => (self as unknown as { crystalTestHooks: { loseDevice(): void } }).crystalTestHooks.loseDevice());
  await expect(page.locator('#error')).toContainText(/^DeviceLostError: The GPU device was lost \(.+\)\. .*The transcript is kept; reload the model/, { timeout: 60_000 });
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false');
  const kept = await page.locator('#think-text').textContent();
  expect(kept!.length).toBeGreaterThanOrEqual(10); // what streamed before the loss is still shown
  await expect(page.locator('#run')).toBeDisabled();
  await expect(page.locator('#reload-model')).toBeVisible();
  await page.locator('#reload-model').click();
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
  await expect(page.locator('#reload-model')).toBeHidden();
  await expect(page.locator('#error')).toBeHidden();
  await page.locator('#max-tokens').fill('16');
  await page.locator('#run').click();
  await finished(page);
  await expect(page.locator('#think-count')).toHaveText(/\(1[0-6] tokens\)/);
});
