/**
 * crystal on the CPU reference with a budget-sized pool: heads whose budget shrinks are compacted
 * (at the `all` cut and at re-divisions), their pages serve the heads that grow, and the pool of
 * budgetPages is never exhausted.
 */
import { describe, expect, test } from 'vitest';
import { generate, promptIds } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { budgetPages } from '../../src/kv/budget.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

const model = await loadModelFromDir(BUNDLED_MODEL_DIR);
const c = model.config;
const heads = c.numLayers * c.numKvHeads;

describe('crystal compacts shrunk heads inside a budget-sized pool', () => {
  for (const cache of [{ policy: 'crystal', budget: 96, mode: 'all' as const }, { policy: 'crystal', budget: 64, mode: 'think' as const, params: { period: 16, floor: 0.2 } }]) {
    test(`${cache.mode} budget ${cache.budget}`, async () => {
      const backend = createReferenceBackend(model);
      const prompt = readGolden()[1].user;
      const P = promptIds(backend, prompt).length;
      let movedAtCut = -1;
      let compactionsAtCut = 0;
      await generate(backend, { prompt, maxNewTokens: 140, sampling: GREEDY, cache }, {
        onStep: () => {
          // The first step comes after the cut: count the compactions of the re-divisions from here.
          if (movedAtCut >= 0) return;
          movedAtCut = backend.eviction().cache.moved;
          compactionsAtCut = backend.eviction().cache.compactions;
        },
      });
      const moved = backend.eviction().cache.moved - movedAtCut;
      const compactions = backend.eviction().cache.compactions - compactionsAtCut;
      const pool = budgetPages(cache, P, heads, 16, true);
      expect(backend.kvBytes).toBe(2 * pool * 16 * c.headDim * 4);
      expect(backend.rebalances().length).toBeGreaterThanOrEqual(3);
      // Budgets moved, some shrank far enough to free a page: entries were moved.
      expect(compactions).toBeGreaterThan(0);
      expect(moved).toBeGreaterThan(0);
    });
  }
});
