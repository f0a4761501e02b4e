/**
 * Weights larger than one storage binding are computed in row ranges (model/linear-dispatch.ts):
 * with the binding limit forced down to 4 KiB, every matrix of the bundled model (f32, and its
 * q4f32_1 form) is split into many ranges, and the GPU engine still reproduces golden.json
 * (f32) and the CPU reference's tokens and logits (q4).
 */
import { describe, expect, test } from 'vitest';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { expectClose } from '../helpers/close.ts';
import { checkGoldenCase } from '../helpers/golden-check.ts';
import type { GoldenCase } from '../helpers/golden.ts';
import { testGpu } from '../helpers/gpu.ts';

const LIMIT = 4096;

describe(`weights bound in ranges of at most ${LIMIT} bytes`, () => {
  test('bundled model, f32: golden.json tokens and logits (5e-4, as unsplit)', async () => {
    const gpu = await testGpu();
    const model = await loadModel(urlModelSource('/models/tiny-reasoner-qwen3/'));
    const backend = await createGpuBackend(gpu, model, { maxStepTokens: 32, maxBindingBytes: LIMIT });
    const cases: GoldenCase[] = (await (await fetch('/models/tiny-reasoner-qwen3/golden.json')).json()).cases;
    for (const c of cases.slice(0, 2)) await checkGoldenCase(backend, c, 5e-4);
    // Split for real: unsplit, a step has 6 gemvs per layer + lm_head and one embed.
    backend.reset();
    const labels = (await backend.profile([5], 0)).map((t) => t.label);
    expect(labels.filter((l) => l === 'gemv').length).toBeGreaterThan(10 * (6 * model.config.numLayers + 1));
    expect(labels.filter((l) => l === 'embed').length).toBe(13); // 104 rows of 512 bytes, 8 a range
    backend.dispose();
  });

  test('bundled model, q4f32_1: the CPU reference tokens and logits (2e-4)', async () => {
    const gpu = await testGpu();
    const model = await loadModel(urlModelSource('/models/tiny-reasoner-qwen3-q4f32_1-MLC/'));
    const request = { prompt: 'a=3\nb=a+4\nc=b-a\n? c', maxNewTokens: 40, sampling: GREEDY };
    const run = async (backend: Parameters<typeof generate>[0]) => {
      const logits: Float64Array[] = [];
      const r = await generate(backend, request, { onLogits: (p, row) => (logits[p] = Float64Array.from(row)) });
      return { ids: r.generatedIds, logits };
    };
    const want = await run(createReferenceBackend(model, { maxStepTokens: 32 }));
    const backend = await createGpuBackend(gpu, model, { maxStepTokens: 32, maxBindingBytes: LIMIT });
    const got = await run(backend);
    expect(got.ids).toEqual(want.ids);
    want.logits.forEach((row, p) => expectClose(`logits at ${p}`, got.logits[p], row, { atol: 2e-4 }));
    backend.dispose();
  });
});
