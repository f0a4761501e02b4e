import { describe, expect, test } from 'vitest';
import type { CacheConfig } from '../../src/kv/budget.ts';
import { agreementSetup, runRecorded } from '../helpers/eviction-agreement.ts';

// The answer-first probe on the GPU engine: its rows in the step's tile after the real token
// (answer block, lookahead block, the lookahead's bootstrap), probe-fold after each layer's
// attention, the probe victim rule, the predictions in the read-back. The GPU and the CPU
// reference must generate the same tokens and evict the same entries while the probe steers
// every decision of the think stage.
// On SwiftShader a probed step costs about what a 6-12 row prefill tile does: 2 prompts, then 1.
const CONFIGS: [CacheConfig, number][] = [
  [{ policy: 'answer-probe', budget: 64, mode: 'think', params: { base: 0 } }, 2], // recency, the probe first
  [{ policy: 'answer-probe', budget: 48, mode: 'think', params: { base: 1, look: 3 } }, 1], // h2o, and a lookahead bootstrapped over 3 steps
  [{ policy: 'answer-probe', budget: 64, mode: 'think', params: { base: 0, look: 1, decay: 0.9 } }, 1], // a lookahead block of one row
];

describe('the answer-first probe on the GPU engine', async () => {
  const { prompts, onGpu, reference } = await agreementSetup();
  for (const [cache, count] of CONFIGS) {
    test(`${JSON.stringify(cache.params)} ${cache.mode} ${cache.budget}: the same tokens and evictions as the CPU reference, ${count} eval prompts`, async () => {
      for (const prompt of prompts.slice(0, count)) {
        const want = await runRecorded(reference, prompt, cache, 160);
        const got = await runRecorded(onGpu, prompt, cache, 160);
        expect(want.decisions.length).toBeGreaterThan(50); // the think stage outgrew the budget
        expect(got.decisions).toEqual(want.decisions);
        expect(got.ids).toEqual(want.ids);
      }
    });
  }

  test('the probe changes the decisions (the rows are read, not ignored)', async () => {
    const probed = await runRecorded(onGpu, prompts[0], CONFIGS[0][0], 160);
    const plain = await runRecorded(onGpu, prompts[0], { ...CONFIGS[0][0], params: { base: 0, weight: 0 } }, 160);
    expect(probed.decisions).not.toEqual(plain.decisions);
  });
});
