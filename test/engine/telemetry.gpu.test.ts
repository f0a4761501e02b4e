import { describe, expect, test } from 'vitest';
import type { ForwardBackend } from '../../src/model/forward-backend.ts';
import { analyzeAnswer } from '../../src/engine/answer-first.ts';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GREEDY, type CacheSnapshot } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { testGpu } from '../helpers/gpu.ts';

// The page's occupancy grid and heatmap read Step.cache; the GPU engine must report what the CPU
// reference reports: the same counts, limits and evictions, the same watched positions, and the
// watched layer's attention within f32 rounding (1e-4 absolute, probabilities in [0, 1]).
const BASE = '/models/tiny-reasoner-qwen3/';

describe('Step.cache on the GPU engine equals the CPU reference', async () => {
  const gpu = await testGpu();
  const model = await loadModel(urlModelSource(BASE));
  const prompt = JSON.parse((await (await fetch(BASE + 'eval.jsonl')).text()).split('\n')[0]).prompt as string;
  const onGpu = await createGpuBackend(gpu, model);
  const reference = createReferenceBackend(model);

  async function snapshots(backend: ForwardBackend, watchLayer: number): Promise<CacheSnapshot[]> {
    const out: CacheSnapshot[] = [];
    const cache = { policy: 'crystal', budget: 48, mode: 'think' as const };
    await generate(backend, { prompt, maxNewTokens: 400, sampling: GREEDY, cache, telemetry: { watchLayer } }, { onStep: (s) => out.push(s.cache!) });
    return out;
  }

  test('crystal, think 48, watching layer 2', async () => {
    const want = await snapshots(reference, 2);
    const got = await snapshots(onGpu, 2);
    expect(got.length).toBe(want.length);
    expect(want.some((s) => s.evicted.length > 0)).toBe(true);
    expect(new Set(want.map((s) => s.limits.join())).size).toBeGreaterThan(1); // crystal moved budgets
    // A step's evictions as a set: a re-division drops several per head, in kernel order on the GPU.
    const triples = (e: Int32Array) => Array.from({ length: e.length / 3 }, (_, i) => e.subarray(3 * i, 3 * i + 3).join(':')).sort();
    got.forEach((g, k) => {
      const w = want[k];
      expect([g.counts, g.limits, triples(g.evicted), g.heldBytes, g.fullBytes]).toEqual([w.counts, w.limits, triples(w.evicted), w.heldBytes, w.fullBytes]);
      expect(g.watched!.positions).toEqual(w.watched!.positions);
      g.watched!.attention.forEach((a, h) => a.forEach((x, i) => expect(Math.abs(x - w.watched!.attention[h][i])).toBeLessThan(1e-4)));
    });
  });

  // The answer-first analysis watches every layer at once (one probe copy per layer on the GPU).
  test('the answer-first analysis: every layer watched, the same ranking within f32 rounding', async () => {
    const r = await generate(reference, { prompt, maxNewTokens: 400, sampling: GREEDY });
    const want = await analyzeAnswer(reference, prompt, r.generatedIds);
    const got = await analyzeAnswer(onGpu, prompt, r.generatedIds);
    expect([got.thinkStart, got.thinkEnd, got.answerQueries]).toEqual([want.thinkStart, want.thinkEnd, want.answerQueries]);
    got.attention.forEach((x, i) => expect(Math.abs(x - want.attention[i])).toBeLessThan(1e-5));
    const top = (a: Float32Array) => Array.from(a.keys()).sort((x, y) => a[y] - a[x]).slice(0, 5);
    expect(top(got.attention)).toEqual(top(want.attention));
  });
});
