import { describe, expect, test } from 'vitest';
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { engineFromCore } from '../../src/engine/engine.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';

// The answer-first analysis on the bundled model, whose answer `x=V` copies V from the think line
// that computed x: that digit must be the entry the answer read most.
describe('answer-first analysis (Crystal-KV section 3)', async () => {
  const engine = engineFromCore(createEngineCore({ source: dirModelSource, tokenizerLib: nodeWebTokenizers() }));
  await engine.load({ url: BUNDLED_MODEL_DIR, name: 'tiny', backend: 'cpu-reference' });

  for (const golden of readGolden().slice(0, 2)) {
    test(`the digit the answer copies (${golden.answer}) is the think entry it read most`, async () => {
      const r = await engine.generate({ prompt: golden.user, maxNewTokens: 500, sampling: GREEDY }).result;
      const a = await engine.analyzeAnswer(golden.user, r.generatedIds);
      const n = a.thinkEnd - a.thinkStart;
      expect(n).toBe(r.thinkTokens);
      expect(a.attention.length).toBe(n);
      expect(a.answerQueries).toBe(r.generatedIds.length - 1 - r.generatedIds.indexOf(101));
      // Means of attention probabilities: each in [0, 1], together at most 1.
      expect(Math.min(...a.attention)).toBeGreaterThanOrEqual(0);
      expect(a.attention.reduce((s, x) => s + x, 0)).toBeLessThanOrEqual(1 + 1e-9);
      expect(a.tier.filter((t) => t === 'crystal').length).toBe(Math.round(0.3 * n));
      expect(a.tier.filter((t) => t === 'slip').length).toBe(Math.round(0.3 * n));
      // Every crystal entry got at least the attention of every slip entry.
      const lowestCrystal = Math.min(...a.attention.filter((_, i) => a.tier[i] === 'crystal'));
      const highestSlip = Math.max(...a.attention.filter((_, i) => a.tier[i] === 'slip'));
      expect(lowestCrystal).toBeGreaterThanOrEqual(highestSlip);
      // The line `x=...=V` of the queried variable x: its result digit V, which the answer copies,
      // is the think entry the answer attended most.
      const variable = golden.answer.split('=')[0];
      const think = r.text.slice(r.text.indexOf('<think>') + '<think>'.length, r.text.indexOf('</think>'));
      const start = think.indexOf(`\n${variable}=`) + 1; // one token per character on this model
      expect(start).toBeGreaterThan(0);
      const digit = think.indexOf('\n', start) - 1;
      expect(think[digit]).toBe(golden.answer.split('=')[1]);
      expect(a.attention.indexOf(Math.max(...a.attention))).toBe(digit);
      expect(a.tier[digit]).toBe('crystal');
    });
  }

  test('a generation that never closed </think> is refused with a clear error', async () => {
    const golden = readGolden()[0];
    const r = await engine.generate({ prompt: golden.user, maxNewTokens: 10, sampling: GREEDY }).result;
    await expect(engine.analyzeAnswer(golden.user, r.generatedIds)).rejects.toThrow(/closed <\/think>/);
  });
});
