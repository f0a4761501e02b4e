import { describe, expect, test } from 'vitest';
import type { CacheConfig } from '../../src/kv/budget.ts';
import { generate } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { PrefixMemo } from '../../src/model/prefix-memo.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

// The evaluation replays the steps a prompt's configs share (until each first evicts). Replayed
// or computed, every config must generate the same tokens and make the same evictions.
const CONFIGS: (CacheConfig | undefined)[] = [
  { policy: 'h2o', budget: 32, mode: 'think' },
  undefined, // full cache
  { policy: 'streaming', budget: 96, mode: 'all' },
  { policy: 'crystal', budget: 64, mode: 'think' },
  { policy: 'laprox', budget: 192, mode: 'all' },
  { policy: 'r-kv', budget: 64, mode: 'think' },
  { policy: 'snapkv-d', budget: 256, mode: 'all' },
  { policy: 'tova', budget: 96, mode: 'think' },
  { policy: 'crystal-lite', budget: 128, mode: 'think' },
  { policy: 'answer-probe', budget: 48, mode: 'think', params: { base: 2 } }, // probe rows and query statistics, replayed too
  { policy: 'answer-probe', budget: 64, mode: 'think', params: { base: 1, weight: 1 } }, // the same probe rows: its pristine probes replayed
  { policy: 'answer-probe', budget: 96, mode: 'think', params: { look: 2 } }, // a lookahead: other rows, recorded apart
  { policy: 'answer-probe', budget: 32, mode: 'think', params: { look: 2, decay: 0.9 } },
];

describe('prefix memo', async () => {
  const model = await loadModelFromDir(BUNDLED_MODEL_DIR);
  const prompt = readGolden()[0].user; // 82 prompt tokens

  test('replayed configs generate and evict exactly as computed ones', async () => {
    const plain = createReferenceBackend(model);
    const memoised = createReferenceBackend(model);
    const memo = new PrefixMemo();
    memoised.useMemo(memo);
    for (const cache of CONFIGS) {
      const request = { prompt, maxNewTokens: 400, sampling: GREEDY, cache };
      const want = await generate(plain, request);
      const got = await generate(memoised, request);
      expect(got.generatedIds, JSON.stringify(cache)).toEqual(want.generatedIds);
      expect(memoised.evictions(), JSON.stringify(cache)).toEqual(plain.evictions());
      expect(memoised.eviction().cache.state.probe, JSON.stringify(cache)).toEqual(plain.eviction().cache.state.probe);
    }
    // The configs after the first replayed their prefill and their decode steps up to the first eviction.
    expect(memo.replayedRows).toBeGreaterThan(CONFIGS.length * 100);
    expect(memo.computedRows).toBeLessThan(memo.replayedRows);
    // The second and fourth probe configs replayed their probes until their first eviction.
    expect(memo.replayedProbes).toBeGreaterThan(48);
  });
});
