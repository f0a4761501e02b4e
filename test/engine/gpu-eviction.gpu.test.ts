import { describe, expect, test } from 'vitest';
import type { ForwardBackend } from '../../src/engine/backend.ts';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GPU_POLICIES } from '../../src/engine/gpu-eviction.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { POLICY_IDS } from '../../src/policies/registry.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import type { Eviction } from '../../src/policies/evictor.ts';
import { testGpu } from '../helpers/gpu.ts';

// The GPU engine chooses victims with score-update + select-victim; the CPU reference with the
// policy code. On the same prompts they must evict the same entries and generate the same tokens,
// f32 against f64: each policy's rule breaks the ties f32 cannot see alike on both (select.ts;
// tova's and crystal's near-ties).
const BASE = '/models/tiny-reasoner-qwen3/';
const CACHE = { budget: 96, mode: 'all' as const };

const key = (d: Eviction) => `${d.at}:${d.layer}:${d.kvHead}:${d.position}`;

async function run(backend: ForwardBackend, prompt: string, policy: string) {
  const r = await generate(backend, { prompt, maxNewTokens: 400, sampling: GREEDY, cache: { policy, ...CACHE } });
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
  for (const policy of GPU_POLICIES) {
    test(`${policy}, all budget ${CACHE.budget}, 5 eval prompts`, async () => {
      for (const prompt of prompts) {
        const want = await run(reference, prompt, policy);
        const got = await run(onGpu, prompt, policy);
        expect(want.decisions.length).toBeGreaterThan(50); // the cut and the decode steps evicted
        expect(got.decisions).toEqual(want.decisions);
        expect(got.ids).toEqual(want.ids);
      }
    });
  }
  // crystal's budgets move (re-division every 32 steps, compaction) once every head is full; at
  // `all` 96 that happens early. In `think` mode at 64 the prompt stays and the generated entries
  // fill the budget first: the same evictions, re-divisions and tokens there too, and every
  // re-division keeps the total and the floor within budget-sized pools.
  test('crystal, think budget 64, 5 eval prompts: the same evictions, budget re-divisions and tokens', async () => {
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

  test('every registered policy evicts on the GPU', () => {
    expect(POLICY_IDS.filter((p) => p !== 'full' && !GPU_POLICIES.includes(p))).toEqual([]);
  });
});
