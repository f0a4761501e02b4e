// Crystal's download against web-llm's own cache checks, in Chromium's real Cache API: a fake
// MLC folder (fake-hub.ts) is downloaded, cancelled halfway, resumed, served offline and
// deleted, and web-llm's hasModelInCache agrees at every step.
import { deleteModelAllInfoInCache, hasModelInCache, type AppConfig } from '@mlc-ai/web-llm';
import { beforeEach, describe, expect, test } from 'vitest';
import { CONFIG_SCOPE, MODEL_SCOPE } from '../../src/catalog/cache-keys.ts';
import { cachedModelSource } from '../../src/catalog/cached-source.ts';
import { downloadModel, type DownloadProgress } from '../../src/catalog/download.ts';
import { deleteCachedModel, listCachedModels, modelCacheState } from '../../src/catalog/storage.ts';
import { DownloadCancelledError, DownloadCorruptError, UnsupportedArchitectureError } from '../../src/errors.ts';
import { FAKE_FOLDER, FAKE_MODEL, fakeFiles, fakeHub } from './fake-hub.ts';

const ID = 'Fake-Qwen3-q4f16_1-MLC';
const appConfig: AppConfig = {
  model_list: [{ model: FAKE_MODEL, model_id: ID, model_lib: 'https://example.invalid/fake-webgpu.wasm' }],
};
const totalBytes = (files: Map<string, Uint8Array>) => [...files.values()].reduce((s, b) => s + b.length, 0);
const keysUnder = async (scope: string) => (await (await caches.open(scope)).keys()).map((r) => r.url).filter((u) => u.startsWith(FAKE_FOLDER));

function checkProgress(events: DownloadProgress[], total: number) {
  expect(events.length).toBeGreaterThan(2);
  for (let i = 1; i < events.length; i++) {
    expect(events[i].loaded).toBeGreaterThanOrEqual(events[i - 1].loaded);
    expect(events[i].total).toBeGreaterThanOrEqual(events[i - 1].total);
    expect(events[i].loaded).toBeLessThanOrEqual(events[i].total);
  }
  const last = events[events.length - 1];
  expect(last.loaded).toBe(total);
  expect(last.total).toBe(total);
  expect(last.secondsLeft).toBe(0);
}

beforeEach(async () => {
  await caches.delete(MODEL_SCOPE);
  await caches.delete(CONFIG_SCOPE);
});

describe('download into web-llm scope', () => {
  test('web-llm finds what Crystal stored; cancel leaves nothing half-written; a second call resumes', async () => {
    const files = fakeFiles();
    expect(await hasModelInCache(ID, appConfig)).toBe(false);

    // Cancel while the second shard streams (one file at a time, so the first is complete).
    const first = fakeHub(files, { stall: 'params_shard_1.bin' });
    const controller = new AbortController();
    const cancelled = downloadModel(FAKE_MODEL, { fetch: first.fetch, signal: controller.signal, concurrency: 1 });
    await first.stalled;
    const abortedAt = performance.now();
    controller.abort();
    await expect(cancelled).rejects.toThrow(DownloadCancelledError);
    expect(performance.now() - abortedAt).toBeLessThan(2000); // promptly
    expect(await hasModelInCache(ID, appConfig)).toBe(false);
    const partial = await keysUnder(MODEL_SCOPE);
    expect(partial).toContain(FAKE_FOLDER + 'params_shard_0.bin');
    expect(partial).not.toContain(FAKE_FOLDER + 'params_shard_1.bin'); // no half entry
    expect((await modelCacheState(FAKE_FOLDER)).state).toBe('partial');

    // Resume: what is cached is counted as done and not fetched again.
    const second = fakeHub(files);
    const events: DownloadProgress[] = [];
    const result = await downloadModel(FAKE_MODEL, { fetch: second.fetch, onProgress: (p) => events.push(p), progressIntervalMs: 0 });
    expect(second.counts.get('params_shard_0.bin')).toBeUndefined();
    expect(second.counts.get('mlc-chat-config.json')).toBeUndefined();
    expect(second.counts.get('tensor-cache.json')).toBeUndefined();
    expect(second.counts.get('tokenizer.json')).toBeUndefined();
    expect(second.counts.get('params_shard_1.bin')).toBe(1);
    expect(result.fetched).toEqual(['params_shard_1.bin']);
    expect(result.fetchedBytes).toBe(3000);
    checkProgress(events, totalBytes(files));
    // The cached files count at once, before the first byte of the missing shard.
    const beforeShard = events.filter((e) => e.file !== 'params_shard_1.bin');
    expect(beforeShard[beforeShard.length - 1].loaded).toBe(totalBytes(files) - 3000);
    expect(events.some((e) => e.rate > 0)).toBe(true);

    expect(await hasModelInCache(ID, appConfig)).toBe(true);
    const state = await modelCacheState(FAKE_FOLDER);
    expect(state.state).toBe('complete');
    expect(state.weightsBytes).toBe(8000);
    expect((await listCachedModels()).map((m) => [m.id, m.state])).toEqual([[ID, 'complete']]);
    // mlc-chat-config.json in the config scope, everything else in the model scope, all by absolute URL.
    expect(await keysUnder(CONFIG_SCOPE)).toEqual([FAKE_FOLDER + 'mlc-chat-config.json']);
    expect((await keysUnder(MODEL_SCOPE)).sort()).toEqual(
      ['params_shard_0.bin', 'params_shard_1.bin', 'tensor-cache.json', 'tokenizer.json'].map((f) => FAKE_FOLDER + f),
    );
  });

  test('a full download in one go, shards in parallel; a third call fetches nothing', async () => {
    const files = fakeFiles();
    const hub = fakeHub(files, { chunk: 700 });
    const events: DownloadProgress[] = [];
    await downloadModel(FAKE_FOLDER, { fetch: hub.fetch, onProgress: (p) => events.push(p), progressIntervalMs: 0 });
    checkProgress(events, totalBytes(files));
    expect(Math.max(...hub.counts.values())).toBe(1);
    expect(hub.counts.get('tokenizer_config.json')).toBe(1); // asked for, absent (404), skipped
    expect(await hasModelInCache(ID, appConfig)).toBe(true);
    const again = fakeHub(files);
    const result = await downloadModel(FAKE_FOLDER, { fetch: again.fetch });
    expect(result.fetched).toEqual([]);
    expect([...again.counts.keys()]).toEqual(['tokenizer_config.json']);
  });

  test('cachedModelSource serves every file with the network off, then delete empties the folder', async () => {
    const files = fakeFiles();
    await downloadModel(FAKE_MODEL, { fetch: fakeHub(files).fetch });
    const offline = cachedModelSource(FAKE_FOLDER, {
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    for (const [name, bytes] of files) {
      const seen: number[] = [];
      const got = await offline.read(name, (loaded) => seen.push(loaded));
      expect(new Uint8Array(got!)).toEqual(bytes);
      expect(seen[seen.length - 1]).toBe(bytes.length);
    }
    // A file the cached folder does not have reads as absent, as a 404 would.
    expect(await offline.read('config.json')).toBeNull();

    expect(await deleteCachedModel(FAKE_FOLDER)).toBe(5);
    expect(await hasModelInCache(ID, appConfig)).toBe(false);
    expect(await keysUnder(MODEL_SCOPE)).toEqual([]);
    expect(await keysUnder(CONFIG_SCOPE)).toEqual([]);
    expect(await listCachedModels()).toEqual([]);
    await expect(offline.read('tokenizer.json')).rejects.toThrow(/network error/);
  });

  test("web-llm's own delete works on what Crystal stored", async () => {
    await downloadModel(FAKE_MODEL, { fetch: fakeHub(fakeFiles()).fetch });
    expect(await hasModelInCache(ID, appConfig)).toBe(true);
    await deleteModelAllInfoInCache(ID, appConfig);
    expect(await hasModelInCache(ID, appConfig)).toBe(false);
    expect((await modelCacheState(FAKE_FOLDER)).state).toBe('partial'); // web-llm leaves tensor-cache.json
  });

  test('cachedModelSource fetches what is missing and keeps it for next time', async () => {
    const files = fakeFiles();
    const hub = fakeHub(files);
    const source = cachedModelSource(FAKE_FOLDER, { fetch: hub.fetch });
    for (const name of files.keys()) expect(new Uint8Array((await source.read(name))!)).toEqual(files.get(name));
    expect(await source.read('config.json')).toBeNull();
    expect(await hasModelInCache(ID, appConfig)).toBe(true);
    expect((await modelCacheState(FAKE_FOLDER)).state).toBe('complete');
  });
});

describe('a download that cannot be kept', () => {
  test('a shard shorter than tensor-cache.json says is not stored', async () => {
    const hub = fakeHub(fakeFiles(), { truncate: 'params_shard_1.bin' });
    await expect(downloadModel(FAKE_MODEL, { fetch: hub.fetch })).rejects.toThrow(DownloadCorruptError);
    expect(await keysUnder(MODEL_SCOPE)).not.toContain(FAKE_FOLDER + 'params_shard_1.bin');
    expect(await hasModelInCache(ID, appConfig)).toBe(false);
  });

  test('an architecture we do not run fails on its chat config, before any weights', async () => {
    const hub = fakeHub(fakeFiles({ modelType: 'phi3' }));
    await expect(downloadModel(FAKE_MODEL, { fetch: hub.fetch })).rejects.toThrow(UnsupportedArchitectureError);
    expect([...hub.counts.keys()]).toEqual(['mlc-chat-config.json']);
    expect(await keysUnder(CONFIG_SCOPE)).toEqual([]);
  });

  test('an older folder with ndarray-cache.json downloads; web-llm, reading tensor-cache.json only, does not see it', async () => {
    const files = fakeFiles({ legacyManifest: true });
    const hub = fakeHub(files);
    await downloadModel(FAKE_MODEL, { fetch: hub.fetch });
    expect(hub.counts.get('tensor-cache.json')).toBe(1);
    expect(hub.counts.get('ndarray-cache.json')).toBe(1);
    expect((await modelCacheState(FAKE_FOLDER)).state).toBe('complete');
    expect(await hasModelInCache(ID, appConfig)).toBe(false);
  });
});
