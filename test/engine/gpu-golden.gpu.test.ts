import { describe, test } from 'vitest';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { checkGoldenCase } from '../helpers/golden-check.ts';
import type { GoldenCase } from '../helpers/golden.ts';
import { testGpu } from '../helpers/gpu.ts';

// float32 kernels against the float64 oracle: the model card measured up to ~2e-4 for a float32
// forward (|logits| up to ~20); we allow 5e-4. Generated tokens must match exactly.
const ATOL = 5e-4;
const BASE = '/models/tiny-reasoner-qwen3/';

describe('GPU engine reproduces golden.json (full cache)', async () => {
  const gpu = await testGpu();
  const model = await loadModel(urlModelSource(BASE));
  // A prefill tile of 32 makes every golden prompt (82-170 tokens) span several tiles.
  const backend = await createGpuBackend(gpu, model, { maxStepTokens: 32 });
  const cases: GoldenCase[] = (await (await fetch(BASE + 'golden.json')).json()).cases;
  for (const c of cases) {
    test(`${c.prompt_ids.length}-token prompt, answer ${c.answer}`, async () => {
      const maxDiff = await checkGoldenCase(backend, c, ATOL);
      console.log(`[${gpu.adapterInfo}] max |logit diff| vs golden: ${maxDiff.toExponential(2)}`);
    });
  }
});
