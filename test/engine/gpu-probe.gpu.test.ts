import { describe, expect, test } from 'vitest';
import { generate } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import type { CacheConfig } from '../../src/kv/budget.ts';
import type { ForwardBackend } from '../../src/model/forward-backend.ts';
import { expectClose } from '../helpers/close.ts';
import { agreementSetup, runRecorded } from '../helpers/eviction-agreement.ts';

// The answer-first probe on the GPU engine: its rows in the step's tile after the real token
// (answer block, lookahead block, the lookahead's bootstrap), probe-fold after each layer's
// attention, the probe victim rule, the predictions in the read-back. The GPU and the CPU
// reference must generate the same tokens and evict the same entries while the probe steers
// every decision of the think stage.
// On SwiftShader a probed step costs about what a 6-12 row prefill tile does: one prompt each,
// 100 tokens (every config evicts for 36 steps or more, 8 heads a step).
const TOKENS = 100;
const CONFIGS: [CacheConfig, number][] = [
  [{ policy: 'answer-probe', budget: 64, mode: 'think', params: { base: 0 } }, 1], // recency, the probe first
  [{ policy: 'answer-probe', budget: 48, mode: 'think', params: { base: 1, look: 3 } }, 1], // h2o, and a lookahead bootstrapped over 3 steps
  [{ policy: 'answer-probe', budget: 64, mode: 'think', params: { base: 0, look: 1, decay: 0.9 } }, 1], // a lookahead block of one row
];

describe('the answer-first probe on the GPU engine', async () => {
  const { prompts, onGpu, reference } = await agreementSetup();
  for (const [cache, count] of CONFIGS) {
    test(`${JSON.stringify(cache.params)} ${cache.mode} ${cache.budget}: the same tokens and evictions as the CPU reference, ${count} eval prompts`, async () => {
      for (const prompt of prompts.slice(0, count)) {
        const want = await runRecorded(reference, prompt, cache, TOKENS);
        const got = await runRecorded(onGpu, prompt, cache, TOKENS);
        expect(want.decisions.length).toBeGreaterThan(50); // the think stage outgrew the budget
        expect(got.decisions).toEqual(want.decisions);
        expect(got.ids).toEqual(want.ids);
      }
    });
  }

  test('the probe changes the decisions, so the agreement above needs the GPU to read the probe rows', async () => {
    const probed = await runRecorded(reference, prompts[0], CONFIGS[0][0], TOKENS);
    const plain = await runRecorded(reference, prompts[0], { ...CONFIGS[0][0], params: { base: 0, weight: 0 } }, TOKENS);
    expect(probed.decisions).not.toEqual(plain.decisions);
  });
});

describe('what the probe has marked, as the page sees it (the watched layer)', async () => {
  const { prompts, onGpu, reference } = await agreementSetup();
  const cache: CacheConfig = { policy: 'answer-probe', budget: 48, mode: 'think', params: { base: 0 } };

  /** Each step's watched layer: positions held and their probe scores, per KV head. */
  async function marks(backend: ForwardBackend) {
    const steps: { positions: Int32Array[]; probe: Float32Array[] }[] = [];
    await generate(backend, { prompt: prompts[0], maxNewTokens: 80, sampling: GREEDY, cache, telemetry: { watchLayer: 1 } }, {
      onStep: (s) => {
        const w = s.cache?.watched;
        if (w) steps.push({ positions: w.positions, probe: w.probe! });
      },
    });
    return steps;
  }

  test('the GPU engine reads back the scores the CPU reference holds, step by step (f32 against f64: 1e-5)', async () => {
    const want = await marks(reference);
    const got = await marks(onGpu);
    expect(got.length).toBe(want.length);
    let marked = 0;
    want.forEach((step, k) => {
      step.positions.forEach((positions, h) => {
        expect(Array.from(got[k].positions[h]), `step ${k} head ${h}`).toEqual(Array.from(positions));
        expectClose(`step ${k} head ${h} probe`, got[k].probe[h], step.probe[h], { atol: 1e-5 });
        marked += step.probe[h].filter((v) => v > 0.01).length;
      });
    });
    expect(marked).toBeGreaterThan(100); // the probe marked entries, step after step
  });
});
