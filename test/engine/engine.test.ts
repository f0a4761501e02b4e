import { describe, expect, test } from 'vitest';
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { engineFromCore } from '../../src/engine/engine.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { GREEDY, type Step } from '../../src/engine/types.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';

// The Engine contract the UI codes against, exercised in-thread on the CPU reference backend
// (the worker exposes the same core through Comlink).
describe('Engine: load, stream steps, abort', async () => {
  const engine = engineFromCore(createEngineCore({ source: dirModelSource, tokenizerLib: nodeWebTokenizers() }));
  const info = await engine.load({ url: BUNDLED_MODEL_DIR, name: 'tiny', backend: 'cpu-reference' });
  const golden = readGolden()[0];

  test('model info', () => {
    expect(info).toMatchObject({ name: 'tiny', architecture: 'qwen3', numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 32, vocabSize: 104 });
    expect(info.parameters).toBeGreaterThan(900_000);
    expect(info.parameters).toBeLessThan(1_100_000);
  });

  test('generate streams every token with its phase, then the result', async () => {
    const generation = engine.generate({ prompt: golden.user, maxNewTokens: 500, sampling: GREEDY });
    const steps: Step[] = [];
    for await (const step of generation) steps.push(step);
    const result = await generation.result;
    expect(steps.map((s) => s.token)).toEqual(golden.generated_ids);
    expect(steps.map((s) => s.text).join('')).toBe(golden.generated_text);
    const endThink = golden.generated_ids.indexOf(101);
    expect(steps.slice(0, endThink).every((s) => s.phase === 'think')).toBe(true);
    expect(steps.slice(endThink).every((s) => s.phase === 'answer')).toBe(true);
    expect(result).toMatchObject({ answer: golden.answer, closedThink: true, thinkTokens: endThink - 1, stopReason: 'eos' });
    expect(steps.every((s) => s.stepMs >= 0)).toBe(true);
  });

  test('abort stops a generation and the engine stays usable', async () => {
    const generation = engine.generate({ prompt: golden.user, maxNewTokens: 500, sampling: GREEDY });
    let seen = 0;
    for await (const _ of generation) {
      if (++seen === 10) await engine.abort();
    }
    const result = await generation.result;
    expect(result.stopReason).toBe('aborted');
    // In-thread, a few steps may already be queued when abort lands; it must still stop early.
    expect(result.generatedIds.length).toBeLessThan(golden.generated_ids.length / 2);
    const again = engine.generate({ prompt: golden.user, maxNewTokens: 500, sampling: GREEDY });
    expect((await again.result).answer).toBe(golden.answer);
  });

  test('errors reach the caller through the stream', async () => {
    const generation = engine.generate({ prompt: 'x'.repeat(5000), maxNewTokens: 5, sampling: GREEDY });
    await expect(generation.result).rejects.toThrow(/context holds/);
  });
});
