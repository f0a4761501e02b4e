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
  // 128 tokens: `think` 64 evicts for 64 steps and crystal re-divides its budgets at least once.
  const r = await generate(backend, { prompt, maxNewTokens: 128, sampling: GREEDY, cache });
  // crystal's budget re-divisions: the step and every head's new budget
  const budgets = backend.rebalances().map((b) => `${b.at}:${b.budgets.join(',')}`);
  return { ids: r.generatedIds, decisions: backend.evictions().map(key).sort(), budgets, kvBytes: backend.kvBytes };
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
          expect(got.budgets).toEqual(want.budgets);
          expect(got.kvBytes).toBe(want.kvBytes); // pools sized alike for the budget
          if (policy === 'crystal') checkRebalances(onGpu, cache.mode === 'think');
        }
      }
    });
  }

  /**
   * crystal's budgets move (re-division every 32 steps, compaction) once every head is full; at
   * `think` 64 the prompt stays and the generated entries fill the budget first. Every re-division
   * keeps the total and the floor, within a budget-sized pool.
   */
  function checkRebalances(b: ForwardBackend, think: boolean) {
    const c = model.config;
    const fullBytes = 2 * c.numLayers * c.numKvHeads * b.contextLength * c.headDim * 4;
    if (!think) return;
    expect(b.rebalances().length).toBeGreaterThan(0); // budgets moved
    expect(b.kvBytes).toBeLessThan(fullBytes / 2);
    for (const r of b.rebalances()) {
      expect(r.budgets.reduce((s, x) => s + x, 0)).toBe(64 * c.numLayers * c.numKvHeads);
      expect(Math.min(...r.budgets)).toBeGreaterThanOrEqual(32); // the floor: 0.5 of 64
    }
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
  test('every user policy evicts on the GPU', () => {
    expect(USER_POLICY_IDS.filter((p) => p !== 'full' && !gpuPolicyIds().includes(p))).toEqual([]);
  });
});
