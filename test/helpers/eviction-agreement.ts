/**
 * The GPU engine chooses victims with score-update + select-victim; the CPU reference with the
 * policy code. On the same prompts they must evict the same entries and generate the same tokens,
 * f32 against f64: each policy's rule breaks the ties f32 cannot see alike on both (select.ts;
 * tova's and crystal's near-ties). Shared by gpu-eviction-all and gpu-eviction-think, one file per
 * cache mode.
 */
import { expect, test } from 'vitest';
import type { ForwardBackend } from '../../src/model/forward-backend.ts';
import type { CacheConfig } from '../../src/kv/budget.ts';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { gpuPolicyIds } from '../../src/policies/registry.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import type { Eviction } from '../../src/policies/eviction-driver.ts';
import { testGpu } from './gpu.ts';

const BASE = '/models/tiny-reasoner-qwen3/';

const key = (d: Eviction) => `${d.at}:${d.layer}:${d.kvHead}:${d.position}`;

/** Greedy generation under `cache`: its ids, eviction decisions (sorted), crystal's budget re-divisions and the pool's bytes. */
export async function runRecorded(backend: ForwardBackend, prompt: string, cache: CacheConfig, maxNewTokens = 128) {
  // 128 tokens by default: `think` 64 evicts for 64 steps and crystal re-divides its budgets at least once.
  const r = await generate(backend, { prompt, maxNewTokens, sampling: GREEDY, cache });
  // crystal's budget re-divisions: the step and every head's new budget
  const budgets = backend.rebalances().map((b) => `${b.at}:${b.budgets.join(',')}`);
  return { ids: r.generatedIds, decisions: backend.evictions().map(key).sort(), budgets, kvBytes: backend.kvBytes };
}

/** The bundled model, its first 5 eval prompts, and both engines over it. */
export async function agreementSetup() {
  const gpu = await testGpu();
  const model = await loadModel(urlModelSource(BASE));
  const prompts = (await (await fetch(BASE + 'eval.jsonl')).text())
    .split('\n')
    .filter(Boolean)
    .slice(0, 5)
    .map((l) => JSON.parse(l).prompt as string);
  return { model, prompts, onGpu: await createGpuBackend(gpu, model), reference: createReferenceBackend(model) };
}

/** One test per GPU policy: on 5 eval prompts at this budget and mode, the same decisions on both engines. */
export function testEvictionAgreement(setup: Awaited<ReturnType<typeof agreementSetup>>, cache: { budget: number; mode: 'all' | 'think' }) {
  const { model, prompts, onGpu, reference } = setup;
  for (const policy of gpuPolicyIds()) {
    test(`${policy}, ${cache.mode} ${cache.budget}, 5 eval prompts`, async () => {
      for (const prompt of prompts) {
        const want = await runRecorded(reference, prompt, { policy, ...cache });
        const got = await runRecorded(onGpu, prompt, { policy, ...cache });
        // all: the cut and the decode steps evicted; think: the prompt stays, the budget fills first
        if (cache.mode === 'all') expect(want.decisions.length).toBeGreaterThan(50);
        expect(got.decisions).toEqual(want.decisions);
        expect(got.ids).toEqual(want.ids);
        expect(got.budgets).toEqual(want.budgets);
        expect(got.kvBytes).toBe(want.kvBytes); // pools sized alike for the budget
        if (policy === 'crystal' && cache.mode === 'think') checkRebalances(onGpu, cache.budget);
      }
    });
  }

  /**
   * crystal's budgets move (re-division every 32 steps, compaction) once every head is full; at
   * `think` the prompt stays and the generated entries fill the budget first. Every re-division
   * keeps the total and the floor, within a budget-sized pool.
   */
  function checkRebalances(b: ForwardBackend, budget: number) {
    const c = model.config;
    const fullBytes = 2 * c.numLayers * c.numKvHeads * b.contextLength * c.headDim * 4;
    expect(b.rebalances().length).toBeGreaterThan(0); // budgets moved
    expect(b.kvBytes).toBeLessThan(fullBytes / 2);
    for (const r of b.rebalances()) {
      expect(r.budgets.reduce((s, x) => s + x, 0)).toBe(budget * c.numLayers * c.numKvHeads);
      expect(Math.min(...r.budgets)).toBeGreaterThanOrEqual(budget / 2); // the floor: 0.5 of the budget
    }
  }
}
