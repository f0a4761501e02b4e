import { describe, expect, test } from 'vitest';
import type { CacheConfig, ForwardBackend } from '../../src/model/forward-backend.ts';
import { PolicyBackendError, PolicyParamError } from '../../src/errors.ts';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { gpuPolicyIds, USER_POLICY_IDS } from '../../src/policies/registry.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import type { Eviction } from '../../src/policies/eviction-driver.ts';
import { testGpu } from '../helpers/gpu.ts';

// The GPU engine chooses victims with score-update + select-victim; the CPU reference with the
// policy code. On the same prompts they must evict the same entries and generate the same tokens,
// f32 against f64: each policy's rule breaks the ties f32 cannot see alike on both (select.ts;
// tova's and crystal's near-ties).
const BASE = '/models/tiny-reasoner-qwen3/';
const CACHES = [
  { budget: 96, mode: 'all' as const },
  { budget: 64, mode: 'think' as const },
];

const key = (d: Eviction) => `${d.at}:${d.layer}:${d.kvHead}:${d.position}`;

async function run(backend: ForwardBackend, prompt: string, cache: CacheConfig) {
  const r = await generate(backend, { prompt, maxNewTokens: 400, sampling: GREEDY, cache });
  return { ids: r.generatedIds, decisions: backend.evictions().map(key).sort() };
}

describe('GPU and CPU engines make the same eviction decisions', async () => {
  const gpu = await testGpu();
  const model = await loadModel(urlModelSource(BASE));
  const prompts = (await (await fetch(BASE + 'eval.jsonl')).text())
    .split('\n')
    .filter(Boolean)
    .slice(0, 5)
    .map((l) => JSON.parse(l).prompt as string);
  const onGpu = await createGpuBackend(gpu, model);
  const reference = createReferenceBackend(model);
  for (const policy of gpuPolicyIds()) {
    test(`${policy}, all 96 and think 64, 5 eval prompts`, async () => {
      for (const cache of CACHES) {
        for (const prompt of prompts) {
          const want = await run(reference, prompt, { policy, ...cache });
          const got = await run(onGpu, prompt, { policy, ...cache });
          // all: the cut and the decode steps evicted; think: the prompt stays, the budget fills first
          if (cache.mode === 'all') expect(want.decisions.length).toBeGreaterThan(50);
          expect(got.decisions).toEqual(want.decisions);
          expect(got.ids).toEqual(want.ids);
        }
      }
    });
  }

  test('crystal-lite with a starting CRF (init 1): the GPU honours it, the same decisions as the CPU', async () => {
    const cache = { policy: 'crystal-lite', budget: 64, mode: 'all' as const, params: { init: 1 } };
    for (const prompt of prompts.slice(0, 2)) {
      const want = await run(reference, prompt, cache);
      const plain = await run(reference, prompt, { ...cache, params: {} });
      expect(want.decisions).not.toEqual(plain.decisions); // init changes what goes
      expect(await run(onGpu, prompt, cache)).toEqual(want);
    }
  });

  test('an option the GPU rule cannot honour is refused, not ignored; the sequence is kept', async () => {
    await run(onGpu, prompts[0], { policy: 'h2o', budget: 96, mode: 'all' });
    const before = onGpu.evictions().length;
    expect(() => onGpu.reset({ policy: 'crystal-lite', budget: 96, params: { gqaMax: 1 } })).toThrow(PolicyBackendError);
    expect(() => onGpu.reset({ policy: 'crystal-lite', budget: 96, params: { gqaMax: 1 } })).toThrow(/gqaMax/);
    expect(() => onGpu.reset({ policy: 'h2o', budget: 96, params: { recnet: 4 } })).toThrow(PolicyParamError);
    expect(onGpu.evictions().length).toBe(before);
    // The CPU reference runs it.
    const r = await run(reference, prompts[0], { policy: 'crystal-lite', budget: 96, params: { gqaMax: 1 } });
    expect(r.decisions.length).toBeGreaterThan(0);
  });
  // crystal's budgets move (re-division every 32 steps, compaction) once every head is full; at
  // `all` 96 that happens early. In `think` mode at 64 the prompt stays and the generated entries
  // fill the budget first: the same evictions, re-divisions and tokens there too, and every
  // re-division keeps the total and the floor within budget-sized pools.
  test('crystal, think budget 64, 5 eval prompts: the same budget re-divisions, pool sizes and floors', async () => {
    const c = model.config;
    const fullBytes = 2 * c.numLayers * c.numKvHeads * onGpu.contextLength * c.headDim * 4;
    const think = { policy: 'crystal', budget: 64, mode: 'think' as const };
    const budgets = (b: ForwardBackend) => b.rebalances().map((r) => `${r.at}:${r.budgets.join(',')}`);
    for (const prompt of prompts) {
      const a = await generate(reference, { prompt, maxNewTokens: 400, sampling: GREEDY, cache: think });
      const want = { ids: a.generatedIds, decisions: reference.evictions().map(key).sort(), budgets: budgets(reference) };
      const b = await generate(onGpu, { prompt, maxNewTokens: 400, sampling: GREEDY, cache: think });
      const got = { ids: b.generatedIds, decisions: onGpu.evictions().map(key).sort(), budgets: budgets(onGpu) };
      expect(want.budgets.length).toBeGreaterThan(0); // budgets moved
      expect(got).toEqual(want);
      expect(onGpu.kvBytes).toBe(reference.kvBytes);
      expect(onGpu.kvBytes).toBeLessThan(fullBytes / 2);
      for (const r of onGpu.rebalances()) {
        expect(r.budgets.reduce((s, x) => s + x, 0)).toBe(64 * c.numLayers * c.numKvHeads);
        expect(Math.min(...r.budgets)).toBeGreaterThanOrEqual(32); // the floor: 0.5 of 64
      }
    }
  });

  test('every user policy evicts on the GPU', () => {
    expect(USER_POLICY_IDS.filter((p) => p !== 'full' && !gpuPolicyIds().includes(p))).toEqual([]);
  });
});
