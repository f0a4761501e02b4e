import { describe, expect, test } from 'vitest';
import type { ForwardBackend } from '../../src/engine/backend.ts';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { expectClose } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// Random-weight models of the other two architectures (scripts/make-random-model.ts): the GPU
// engine and the CPU reference must agree on greedy tokens and, position by position, on the
// logits. f32 kernels vs f64 reference with |logits| of a few units: 2e-4 absolute.
const ATOL = 2e-4;
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

for (const arch of ['qwen2', 'llama']) {
  describe(`${arch}: GPU engine vs CPU reference`, () => {
    test('same greedy tokens and logits at every position, across prefill tiles', async () => {
      const gpu = await testGpu();
      const model = await loadModel(urlModelSource(`/test/fixtures/random-${arch}/`));
      expect(model.config.architecture).toBe(arch);
      const reference = await run(createReferenceBackend(model, { maxStepTokens: 7 }));
      const onGpu = await run(await createGpuBackend(gpu, model, { maxStepTokens: 7 }));
      expect(onGpu.ids).toEqual(reference.ids);
      expect(onGpu.logits.length).toBe(reference.logits.length);
      let maxDiff = 0;
      reference.logits.forEach((want, pos) => {
        expectClose(`${arch} logits at position ${pos}`, onGpu.logits[pos], want, { atol: ATOL });
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onGpu.logits[pos][i] - want[i]));
      });
      // logits must not be trivially flat, or the comparison means nothing
      const spread = Math.max(...reference.logits[5]) - Math.min(...reference.logits[5]);
      expect(spread).toBeGreaterThan(1);
      console.log(`${arch}: ${reference.ids.length} tokens agree; max |logit diff| ${maxDiff.toExponential(2)}`);
    });
  });
}
