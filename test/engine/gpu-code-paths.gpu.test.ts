/**
 * A discrete GPU's code paths, checked here on SwiftShader (withCodePaths: 64-256-thread
 * reductions, 32-lane gemv, the same split-K choice and subgroups): golden.json's shortest case and
 * the GPU/CPU eviction agreement of every policy. On SwiftShader these paths cost about 50 times
 * the CPU adapter's (a tiny-model decode step 13 -> 612 ms, nearly all in gemv's 32-lane
 * reduction), so the suite runs a cut of what a real GPU runs in seconds: one golden case, and per
 * policy one prompt at `all` 96 (the prompt cut and 8 decode steps that evict). The whole check
 * (every golden case, 5 prompts at `all` 96 and `think` 64, the real-shape agreement) is the suite
 * itself under the switch: VITE_CRYSTAL_CODE_PATHS=discrete-gpu npx vitest run test/engine.
 */
import { describe, expect, test } from 'vitest';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { gpuPolicyIds } from '../../src/policies/registry.ts';
import { runRecorded } from '../helpers/eviction-agreement.ts';
import { checkGoldenCase } from '../helpers/golden-check.ts';
import type { GoldenCase } from '../helpers/golden.ts';
import { discreteGpu } from '../helpers/gpu.ts';

const BASE = '/models/tiny-reasoner-qwen3/';
const ATOL = 5e-4; // as gpu-golden.gpu.test.ts

describe("a discrete GPU's code paths on this adapter", async () => {
  const gpu = await discreteGpu();
  const model = await loadModel(urlModelSource(BASE));
  const backend = await createGpuBackend(gpu, model, { maxStepTokens: 32 });

  test('they are the GPU sizes: 64-thread reductions, 32 gemv lanes', () => {
    expect(gpu.codePaths).toBe('discrete-gpu');
  });

  test("golden.json's shortest case: the same tokens, logits within 5e-4", async () => {
    const cases: GoldenCase[] = (await (await fetch(BASE + 'golden.json')).json()).cases;
    const c = [...cases].sort((a, b) => a.prompt_ids.length - b.prompt_ids.length)[0];
    const maxDiff = await checkGoldenCase(backend, c, ATOL);
    console.log(`[${gpu.adapterInfo}, discrete-gpu paths] ${c.prompt_ids.length}-token case: max |logit diff| vs golden ${maxDiff.toExponential(2)}`);
  });

  const prompt: string = JSON.parse((await (await fetch(BASE + 'eval.jsonl')).text()).split('\n')[0]).prompt;
  // The same sizes on both engines: the prefill tile shapes the page layout, which random's hash of the physical slot reads.
  const reference = createReferenceBackend(model, { maxStepTokens: 32 });
  for (const policy of gpuPolicyIds()) {
    test(`${policy}, all 96: the same evictions and tokens as the CPU reference`, async () => {
      const cache = { policy, budget: 96, mode: 'all' as const };
      const want = await runRecorded(reference, prompt, cache, 8);
      const got = await runRecorded(backend, prompt, cache, 8);
      expect(want.decisions.length).toBeGreaterThan(50); // the prompt cut and the decode steps evicted
      expect(got.decisions).toEqual(want.decisions);
      expect(got.ids).toEqual(want.ids);
    });
  }
});
