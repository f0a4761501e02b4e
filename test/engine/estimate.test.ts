import { describe, expect, test } from 'vitest';
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { estimateMemory } from '../../src/engine/memory-estimate.ts';
import { gpuWeightBytes } from '../../src/model/gpu-weights.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

// engine.estimate reads only a folder's config files, yet must know each form's storage: the
// estimate's weights equal what the loader then holds, for every bundled form.
describe('engine.estimate from config files alone', () => {
  const engine = createEngineCore({ source: dirModelSource, tokenizerLib: nodeWebTokenizers() });
  for (const dir of ['public/models/tiny-reasoner-qwen3', 'public/models/tiny-reasoner-qwen3-q4f32_1-MLC', 'public/models/tiny-reasoner-qwen3-q0f32-MLC']) {
    test(dir, async () => {
      const cache = { policy: 'crystal', budget: 64, mode: 'think' as const };
      const e = await engine.estimate({ url: dir, cache, promptLength: 130 });
      const model = await loadModelFromDir(dir);
      expect(e.weights).toBe(gpuWeightBytes(model.weights));
      const storage = { storage: model.weights.layers[0].gateUp.storage, scaleType: 'f32' as const };
      expect(e).toEqual(estimateMemory(model.config, storage, { cache, promptLength: 130 }));
      expect(e.kv).toBeLessThan(estimateMemory(model.config, storage, {}).kv); // the budget shrinks the cache
    });
  }
});
