import { expect, test, type Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockNetwork } from './offline.ts';

// The model catalogue on the built page: web-llm's records arrive in a lazily loaded chunk that
// the first paint and the precache leave out; a catalogue model downloads from a fake Hugging Face
// (routed here, so nothing leaves the machine) with a progress bar, cancels, resumes without
// fetching again what it has, is listed as downloaded, and is deleted.
const ID = 'Qwen3-0.6B-q4f16_1-MLC';
const FOLDER = `https://huggingface.co/mlc-ai/${ID}/resolve/main/`;

function fakeModel(): Map<string, Buffer> {
  const shard = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));
  const shards = [shard(300_000, 1), shard(200_000, 2)];
  const json = (o: unknown) => Buffer.from(JSON.stringify(o));
  return new Map([
    ['mlc-chat-config.json', json({ model_type: 'qwen3', quantization: 'q4f16_1', tokenizer_files: ['tokenizer.json'] })],
    ['tensor-cache.json', json({ metadata: {}, records: shards.map((s, i) => ({ dataPath: `params_shard_${i}.bin`, format: 'raw-shard', nbytes: s.length, records: [] })) })],
    ['tokenizer.json', json({ version: '1.0', model: { type: 'BPE', vocab: {}, merges: [] } })],
    ['params_shard_0.bin', shards[0]],
    ['params_shard_1.bin', shards[1]],
  ]);
}

/** The bundled model's real MLC conversion, served as the catalogue's Qwen3-0.6B so the page can run it. */
function tinyMlc(): Map<string, Buffer> {
  const dir = 'public/models/tiny-reasoner-qwen3-q4f32_1-MLC';
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

/** Serves the fake folder; `hold` keeps one file's response back until released. */
async function fakeHub(page: Page, files: Map<string, Buffer>) {
  const counts = new Map<string, number>();
  let release = () => {};
  let held: string | null = null;
  let gate = Promise.resolve();
  await page.context().route('https://huggingface.co/**', async (route) => {
    const name = route.request().url().startsWith(FOLDER) ? route.request().url().slice(FOLDER.length) : route.request().url();
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (name === held) await gate;
    const body = files.get(name);
    const headers = { 'access-control-allow-origin': '*' };
    if (!body) return route.fulfill({ status: 404, body: 'Entry not found', headers }).catch(() => {});
    await route.fulfill({ status: 200, body, headers: { ...headers, 'content-type': 'application/octet-stream' } }).catch(() => {}); // the page may have cancelled
  });
  return {
    counts,
    hold(name: string) {
      held = name;
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
  };
}

/** The catalogue is listed (whether or not the bundled model has finished loading). */
async function ready(page: Page, query = '') {
  await page.goto(`/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-catalog', /^[1-9]\d*$/, { timeout: 60_000 });
}

test('the catalogue comes from a lazy web-llm chunk that the first paint and the precache leave out', async ({ page }) => {
  const blocked = await blockNetwork(page);
  const assets = readdirSync('dist/assets');
  const webllm = assets.filter((f) => f.endsWith('.js') && readFileSync(`dist/assets/${f}`, 'utf8').includes('DeepSeek-R1-Distill-Qwen-7B-q4f16_1-MLC'));
  expect(webllm).toHaveLength(1);
  expect(readFileSync('dist/index.html', 'utf8')).not.toContain(webllm[0]);
  expect(JSON.parse(readFileSync('dist/precache.json', 'utf8')).files).not.toContain(`assets/${webllm[0]}`);
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  await ready(page);
  expect(requested.some((u) => u.endsWith(webllm[0]))).toBe(true);

  // Bundled first, then the catalogue (rendered once its chunk has loaded), each with its download size and memory.
  await expect(page.locator('#model option', { hasText: 'Qwen3-0.6B-q4f16_1 ' })).toHaveCount(1);
  const options = await page.locator('#model option').allTextContents();
  expect(options[0]).toContain('tiny-reasoner-qwen3');
  const qwen = options.find((o) => o.startsWith('Qwen3-0.6B-q4f16_1 '))!;
  expect(qwen).toMatch(/≈338 MB, needs 1\.47 GB\) · not downloaded/);
  expect(options.some((o) => o.startsWith('DeepSeek-R1-Distill-Qwen-1.5B-q4f16_1'))).toBe(true);
  expect(options.some((o) => /Phi|gemma|Mistral/.test(o))).toBe(false);
  await page.locator('#model').selectOption(ID);
  await expect(page.locator('#model-info')).toContainText('needs 1.47 GB of GPU memory');
  await expect(page.locator('#download')).toHaveText('Download ≈338 MB and load');
  await expect(page.locator('#cached-models')).toContainText('No model downloaded yet.');
  // A selection reads at most the model's 2 KB mlc-chat-config.json (for the memory estimate), no weights.
  expect(blocked.filter((u) => !u.endsWith('/mlc-chat-config.json'))).toEqual([]);
});

test('a download shows progress, cancels, resumes from the cache, is listed and deleted', async ({ page }) => {
  await blockNetwork(page);
  const files = fakeModel();
  const hub = await fakeHub(page, files);
  await ready(page);
  await page.locator('#model').selectOption(ID);

  hub.hold('params_shard_1.bin');
  await page.locator('#download').click();
  await expect(page.locator('#download-progress')).toBeVisible();
  await expect(page.locator('#download-status')).toContainText(/Downloading Qwen3-0\.6B-q4f16_1-MLC: [\d.]+ KB of [\d.]+ KB \(\d+%\), [\d.]+ [KMG]?B\/s, .+ left/);
  await expect(page.locator('#download-cancel')).toBeVisible();
  await page.locator('#download-cancel').click();
  await expect(page.locator('#download-status')).toContainText('cancelled');
  await expect(page.locator('#download-progress')).toBeHidden();
  await expect(page.locator(`#cached-models li[data-id="${ID}"]`)).toHaveAttribute('data-state', 'partial');
  await expect(page.locator('#download')).toHaveText(/Resume download/);
  expect(hub.counts.get('params_shard_0.bin')).toBe(1);

  hub.release();
  hub.hold('none');
  await page.locator('#download').click();
  await expect(page.locator(`#cached-models li[data-id="${ID}"]`)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 });
  expect(hub.counts.get('params_shard_0.bin')).toBe(1); // resumed, not fetched again
  expect(hub.counts.get('tensor-cache.json')).toBe(1);
  await expect(page.locator('#download-status')).toContainText('stored');
  expect(Number(await page.locator('#download-status').getAttribute('data-loaded'))).toBe(
    Number(await page.locator('#download-status').getAttribute('data-total')),
  );
  // The page then loads it; this fake has no real weights, so that fails and the bundled model stays.
  await expect(page.locator('#model-status')).toContainText(/could not be loaded|^Qwen3-0\.6B-q4f16_1-MLC: /, { timeout: 120_000 });
  const option = page.locator(`#model option[value="${ID}"]`);
  await expect(option).toContainText('500 KB');
  await expect(option).toContainText('downloaded');

  await page.locator(`#cached-models button[aria-label="Delete ${ID}"]`).click();
  await expect(page.locator('#download-status')).toContainText(`Deleted ${ID} (5 files)`);
  await expect(page.locator('#cached-models')).toContainText('No model downloaded yet.');
  await expect(option).toContainText('not downloaded');
});

test('Persist storage asks the browser and the usage line says the answer', async ({ page }) => {
  await blockNetwork(page);
  await ready(page);
  await expect(page.locator('#storage')).toContainText('Storage in use');
  await page.locator('#persist').click();
  await expect(page.locator('#storage')).toContainText(/persistent|declined/);
  await expect(page.locator('#storage')).toHaveAttribute('data-persisted', /true|false/);
});

// policy=full: this 1M-parameter model in 4 bits loses its answer under the default crystal/64
// budget (the CPU reference agrees with the GPU there); the full cache answers it.
async function downloadTiny(page: Page) {
  await blockNetwork(page);
  await fakeHub(page, tinyMlc());
  await ready(page, '?policy=full');
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true', { timeout: 120_000 });
  await page.locator('#model').selectOption(ID);
  await page.locator('#download').click();
  await expect(page.locator(`#cached-models li[data-id="${ID}"]`)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 });
  await expect(page.locator('#model-status')).toContainText(`${ID}: qwen3, 4 layers`, { timeout: 120_000 });
}

async function answers(page: Page) {
  const example = JSON.parse(readFileSync('public/models/tiny-reasoner-qwen3-q4f32_1-MLC/eval.jsonl', 'utf8').split('\n')[0]);
  await expect(page.locator('body')).toHaveAttribute('data-model-ready', 'true');
  await page.locator('#prompt').fill(example.prompt);
  await page.locator('#run').click();
  await expect(page.locator('body')).toHaveAttribute('data-generating', 'false', { timeout: 240_000 });
  await expect(page.locator('#answer-text')).toHaveText(example.answer);
}

test('a downloaded catalogue model loads in the engine and answers', async ({ page }) => {
  await downloadTiny(page);
  await answers(page);
});

// The worker reads model folders through src/catalog/cached-source.ts (modelSourceFor), so a
// downloaded model needs no network. The page is left first (about:blank) so its worker and GPU
// device are gone before the return visit, as when a user comes back later.
test('once downloaded, the model reloads from the cache with the hub unreachable', async ({ page }) => {
  await downloadTiny(page);
  await page.context().unrouteAll({ behavior: 'ignoreErrors' });
  await blockNetwork(page); // the hub is gone: every request off this machine fails
  const app = page.url();
  await page.goto('about:blank');
  await page.goto(app);
  await expect(page.locator('#model-status')).toContainText(`${ID}: qwen3, 4 layers`, { timeout: 120_000 });
  await answers(page);
});
