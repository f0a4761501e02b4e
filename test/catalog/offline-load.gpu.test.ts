// A downloaded model loads in the engine with the network off. The bundled model's real MLC
// conversion (public/models/tiny-reasoner-qwen3-q4f32_1-MLC) is served as if from the hub,
// downloaded into web-llm's scope, and engine-core then reads it through cachedModelSource with
// every fetch failing, and answers an eval prompt.
import { hasModelInCache } from '@mlc-ai/web-llm';
import { beforeAll, describe, expect, test } from 'vitest';
import { CONFIG_SCOPE, MODEL_SCOPE } from '../../src/catalog/cache-keys.ts';
import { cachedModelSource, modelSourceFor } from '../../src/catalog/cached-source.ts';
import { downloadModel } from '../../src/catalog/download.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { GREEDY } from '../../src/engine/types.ts';

const LOCAL = '/models/tiny-reasoner-qwen3-q4f32_1-MLC/';
const MODEL = 'https://huggingface.co/crystal-test/tiny-reasoner-qwen3-q4f32_1-MLC';
const FOLDER = `${MODEL}/resolve/main/`;
const ID = 'tiny-reasoner-qwen3-q4f32_1-MLC';

/** The hub, played by the test server: the folder's files by name, a 404 for the rest. */
const hub: typeof fetch = async (input, init) => {
  const name = String(input).slice(FOLDER.length);
  const response = await fetch(LOCAL + name, init);
  return /text\/html/.test(response.headers.get('content-type') ?? '') ? new Response('Entry not found', { status: 404 }) : response;
};
const offline: typeof fetch = () => Promise.reject(new TypeError('Failed to fetch (offline)'));

describe('a downloaded model runs offline', () => {
  beforeAll(async () => {
    await caches.delete(MODEL_SCOPE);
    await caches.delete(CONFIG_SCOPE);
    await downloadModel(MODEL, { fetch: hub });
  });

  test('web-llm sees it; the engine loads it from the cache alone and answers', async () => {
    expect(await hasModelInCache(ID, { model_list: [{ model: MODEL, model_id: ID, model_lib: 'unused.wasm' }] })).toBe(true);
    const engine = createEngineCore({ source: (url) => cachedModelSource(url, { fetch: offline }) });
    const info = await engine.load({ url: FOLDER, name: ID, backend: 'gpu' });
    expect(info).toMatchObject({ name: ID, architecture: 'qwen3', numLayers: 4, numKvHeads: 2 });
    const example = JSON.parse((await (await fetch(LOCAL + 'eval.jsonl')).text()).split('\n')[0]) as { prompt: string; answer: string };
    const result = await engine.generate({ prompt: example.prompt, maxNewTokens: 300, sampling: GREEDY }, () => {});
    expect(result.answer).toBe(example.answer);
  });

  test("the engine's source: a hub folder through the cache, the app's own files from the server", async () => {
    const hubSource = modelSourceFor(FOLDER);
    expect(hubSource.location).toBe(FOLDER);
    expect(await hubSource.read('tensor-cache.json')).not.toBeNull(); // from the cache: this machine cannot reach the hub
    const own = modelSourceFor(new URL(LOCAL, location.href).href);
    expect(await own.read('mlc-chat-config.json')).not.toBeNull();
    expect((await (await caches.open(CONFIG_SCOPE)).keys()).map((r) => r.url).filter((u) => !u.startsWith(FOLDER))).toEqual([]); // and keeps none of them
  });
});
