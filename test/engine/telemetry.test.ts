import { describe, expect, test } from 'vitest';
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { engineFromCore } from '../../src/engine/engine.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { GREEDY, type Step } from '../../src/engine/types.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';

// Step.cache, what the page's occupancy grid and heatmap draw: replaying the reported evictions
// must give exactly the positions the watched layer's heads report holding, within the limits.
describe('Engine telemetry: occupancy, evictions and the watched layer', async () => {
  const engine = engineFromCore(createEngineCore({ source: dirModelSource, tokenizerLib: nodeWebTokenizers() }));
  const info = await engine.load({ url: BUNDLED_MODEL_DIR, name: 'tiny', backend: 'cpu-reference' });
  const golden = readGolden()[1];
  const heads = info.numLayers * info.numKvHeads;
  const entryBytes = 2 * info.headDim * 4;

  async function steps(cache: { policy: string; budget: number; mode: 'all' | 'think' }, watchLayer: number): Promise<Step[]> {
    const generation = engine.generate({ prompt: golden.user, maxNewTokens: 400, sampling: GREEDY, cache, telemetry: { watchLayer } });
    const out: Step[] = [];
    for await (const s of generation) out.push(s);
    await generation.result;
    return out;
  }

  for (const [policy, mode, budget] of [['h2o', 'all', 64], ['crystal', 'think', 32]] as const) {
    test(`${policy}, ${mode} ${budget}: held entries replay from the evictions, never over the limits`, async () => {
      const watchLayer = 1;
      const all = await steps({ policy, budget, mode }, watchLayer);
      const prompt = all[0].position;
      let evictions = 0;
      // Positions the watched layer's heads hold, replayed: the prompt, then each step's token, less the evictions.
      const held = Array.from({ length: info.numKvHeads }, () => new Set(Array.from({ length: prompt }, (_, p) => p)));
      for (const [k, s] of all.entries()) {
        const c = s.cache!;
        expect(s.position).toBe(prompt + k);
        expect(c.counts.length).toBe(heads);
        for (let i = 0; i < heads; i++) expect(c.counts[i]).toBeLessThanOrEqual(c.limits[i]);
        expect(c.heldBytes).toBe(c.counts.reduce((a, n) => a + n, 0) * entryBytes);
        expect(c.fullBytes).toBe(s.position * heads * entryBytes);
        // The watched attention is the query that produced this token's: at step 0 the last prompt
        // row, before the `all` cut; later, after the step's evictions and the previous token's write.
        const w = c.watched!;
        const check = () => {
          expect(w.layer).toBe(watchLayer);
          for (let h = 0; h < info.numKvHeads; h++) {
            expect([...w.positions[h]].sort((a, b) => a - b)).toEqual([...held[h]].sort((a, b) => a - b));
            // The group's softmax rows over the held entries: the mean sums to 1.
            expect(w.attention[h].reduce((a, x) => a + x, 0)).toBeCloseTo(1, 5);
          }
        };
        if (k === 0) check();
        for (let e = 0; e < c.evicted.length; e += 3) {
          const [layer, kvHead, position] = c.evicted.subarray(e, e + 3);
          expect(position).toBeLessThan(s.position);
          if (layer === watchLayer) expect(held[kvHead].delete(position)).toBe(true);
          evictions++;
        }
        if (k > 0) {
          for (const h of held) h.add(s.position - 1);
          check();
        }
      }
      expect(evictions).toBeGreaterThan(50);
      const last = all.at(-1)!.cache!;
      if (mode === 'all') expect(Array.from(last.counts)).toEqual(new Array(heads).fill(budget));
      else expect(last.counts.reduce((a, n) => a + n, 0)).toBe(heads * (prompt + budget)); // crystal moves budgets, the total stays
    });
  }

  test('without telemetry, steps carry no cache; a watched layer outside the model is refused', async () => {
    const generation = engine.generate({ prompt: golden.user, maxNewTokens: 3, sampling: GREEDY });
    for await (const s of generation) expect(s.cache).toBeUndefined();
    const bad = engine.generate({ prompt: golden.user, maxNewTokens: 3, sampling: GREEDY, telemetry: { watchLayer: 9 } });
    await expect(bad.result).rejects.toThrow(/watchLayer 9/);
  });
});
