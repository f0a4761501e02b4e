import { describe, expect, test } from 'vitest';
import type { ForwardBackend } from '../../src/model/forward-backend.ts';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { computesIn16Bit } from '../../src/model/weights.ts';
import { expectClose } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// Random-weight models of the other two architectures (scripts/make-random-model.ts), in every
// weight format (F16 and BF16 safetensors: random-qwen2 is F16, random-llama BF16; our MLC conversions in q4f16_1
// and q0f16), and the bundled model's MLC forms: the GPU engine and the CPU reference must agree
// on greedy tokens and, position by position, on the logits. Both decode the same stored bytes
// to the same f32 weights, so what differs is f32 vs f64 arithmetic, with |logits| of a few
// units: 2e-4 absolute. 16-bit models also store K and V in f16, rounded from f32 values on the
// GPU and f64 ones on the CPU: a value within ~1e-7 of a rounding midpoint lands one half-ulp
// (2^-11 relative) apart, which moves logits by up to ~1e-3 (measured 4.2e-4): 2e-3 for those.
const ATOL = 2e-4;
const ATOL_KV16 = 2e-3;
const PROMPT = 'a=3\nb=a+4\nc=b-a\n? c';

async function run(backend: ForwardBackend) {
  const logits: Float64Array[] = [];
  const r = await generate(
    backend,
    { prompt: PROMPT, maxNewTokens: 48, sampling: GREEDY },
    { onLogits: (pos, row) => (logits[pos] = Float64Array.from(row)) },
  );
  return { ids: r.generatedIds, logits };
}

const MODELS = [
  { dir: '/test/fixtures/random-qwen2/', arch: 'qwen2', storage: 'f16' },
  { dir: '/test/fixtures/random-qwen2-bf16/', arch: 'qwen2', storage: 'bf16' },
  { dir: '/test/fixtures/random-qwen2-q4f16_1-MLC/', arch: 'qwen2', storage: 'q4' },
  { dir: '/test/fixtures/random-llama/', arch: 'llama', storage: 'bf16' },
  { dir: '/test/fixtures/random-llama-q4f16_1-MLC/', arch: 'llama', storage: 'q4' },
  { dir: '/test/fixtures/random-llama-q0f16-MLC/', arch: 'llama', storage: 'f16' },
  { dir: '/models/tiny-reasoner-qwen3-q4f32_1-MLC/', arch: 'qwen3', storage: 'q4' },
  { dir: '/models/tiny-reasoner-qwen3-q0f32-MLC/', arch: 'qwen3', storage: 'f32' },
];

for (const { dir, arch, storage } of MODELS) {
  describe(`${dir}: GPU engine vs CPU reference`, () => {
    test(`${arch}, ${storage} weights: same greedy tokens and logits at every position, across prefill tiles`, async () => {
      const gpu = await testGpu();
      const model = await loadModel(urlModelSource(dir));
      expect(model.config.architecture).toBe(arch);
      expect(model.weights.layers[0].gateUp.storage).toBe(storage);
      const reference = await run(createReferenceBackend(model, { maxStepTokens: 7 }));
      const gpuBackend = await createGpuBackend(gpu, model, { maxStepTokens: 7 });
      const onGpu = await run(gpuBackend);
      // 16-bit models hold K and V in f16: half the bytes of an f32 cache of the same context.
      const c = model.config;
      const f32Bytes = 2 * c.numLayers * c.numKvHeads * Math.ceil(gpuBackend.contextLength / 16) * 16 * c.headDim * 4;
      expect(gpuBackend.kvBytes).toBe(computesIn16Bit(model.weights) ? f32Bytes / 2 : f32Bytes);
      expect(onGpu.ids).toEqual(reference.ids);
      expect(onGpu.logits.length).toBe(reference.logits.length);
      let maxDiff = 0;
      reference.logits.forEach((want, pos) => {
        expectClose(`${arch} logits at position ${pos}`, onGpu.logits[pos], want, { atol: computesIn16Bit(model.weights) ? ATOL_KV16 : ATOL });
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onGpu.logits[pos][i] - want[i]));
      });
      // logits must not be trivially flat, or the comparison means nothing
      const spread = Math.max(...reference.logits[5]) - Math.min(...reference.logits[5]);
      expect(spread).toBeGreaterThan(1);
      console.log(`${arch}: ${reference.ids.length} tokens agree; max |logit diff| ${maxDiff.toExponential(2)}`);
    });
  });
}
