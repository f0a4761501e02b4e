import { describe, expect, test } from 'vitest';
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { engineFromCore } from '../../src/engine/engine.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { GREEDY, type ChatMessage, type GenerateRequest, type GenerationResult } from '../../src/engine/types.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';

// A chat's second turn on the CPU reference: the prefix shared with the first turn stays in the
// cache, the first turn's think entries go, and only the new tokens are prefilled.
describe('multi-turn: prefix reuse', async () => {
  const core = createEngineCore({ source: dirModelSource, tokenizerLib: nodeWebTokenizers() });
  const engine = engineFromCore(core);
  await engine.load({ url: BUNDLED_MODEL_DIR, name: 'tiny', backend: 'cpu-reference' });
  const [first, second] = readGolden();
  const run = (r: Partial<GenerateRequest>): Promise<GenerationResult> =>
    engine.generate({ maxNewTokens: 400, sampling: GREEDY, ...r }).result;

  /** The history after turn one: the assistant turn holds its answer only (OpenAI's content). */
  const history = (turn1: GenerationResult): ChatMessage[] => [
    { role: 'user', content: first.user },
    { role: 'assistant', content: turn1.answer },
    { role: 'user', content: second.user },
  ];

  // h2o 224 holds either turn's prompt in its pool; at 160 (turn one evicts) and crystal's think
  // budget (the pool is sized to the prompt) the longer second prompt makes the pool grow.
  const caches = [undefined, { policy: 'h2o', budget: 224, mode: 'all' as const }, { policy: 'h2o', budget: 160, mode: 'all' as const }, { policy: 'crystal', budget: 48, mode: 'think' as const }];
  for (const cache of caches) {
    const label = cache ? `${cache.policy} budget ${cache.budget}` : 'full cache';
    test(`${label}: the second turn prefills only what follows the first turn's prompt`, async () => {
      await engine.resetChat();
      const turn1 = await run({ messages: [{ role: 'user', content: first.user }], reusePrefix: true, cache });
      expect(turn1.reusedTokens).toBe(0);
      expect(turn1.closedThink).toBe(true);
      const messages = history(turn1);
      const generation = engine.generate({ maxNewTokens: 400, sampling: GREEDY, messages, reusePrefix: true, cache, telemetry: {} });
      let held = -1;
      for await (const step of generation) if (step.index === 0) held = step.cache!.counts.reduce((a, b) => a + b, 0);
      const turn2 = await generation.result;
      // The first turn's prompt is the shared prefix: its think text is not in the new history.
      expect(turn2.reusedTokens).toBe(turn1.promptTokens);
      expect(turn2.prefilledTokens).toBe(turn2.promptTokens - turn1.promptTokens);
      // What the cache holds once the prompt is in: the kept prefix and the new tokens, none of turn one's think.
      const cut = cache?.mode === 'all' ? cache.budget : Infinity; // `all` cuts the prompt to the budget; `think` keeps it
      expect(held).toBe(Math.min(turn2.promptTokens, cut) * 8); // 4 layers x 2 KV heads
      if (cache) expect(turn2.kv.evictions).toBeGreaterThan(0); // the continued sequence goes on under its budget
      if (!cache) {
        // The full cache: the same answer as a fresh run on the same history.
        const fresh = await run({ messages });
        expect(fresh.reusedTokens).toBe(0);
        expect(fresh.prefilledTokens).toBe(turn2.promptTokens);
        expect(turn2.generatedIds).toEqual(fresh.generatedIds);
      }
    });
  }

  test('a change of cache settings, resetChat or a plain prompt start a fresh sequence', async () => {
    const turn1 = await run({ messages: [{ role: 'user', content: first.user }], reusePrefix: true });
    const other = await run({ messages: history(turn1), reusePrefix: true, cache: { policy: 'streaming', budget: 64 } });
    expect(other.reusedTokens).toBe(0);
    // The same settings again: the pool sized for a 64-entry budget grows for the longer prompt.
    const again = await run({ messages: [...history(turn1), { role: 'assistant', content: other.answer }, { role: 'user', content: first.user }], reusePrefix: true, cache: { policy: 'streaming', budget: 64 } });
    expect(again.reusedTokens).toBeGreaterThan(other.promptTokens - 10); // streaming kept the prompt's first entries, not all
    expect(again.prefilledTokens).toBe(again.promptTokens - again.reusedTokens);
    await engine.resetChat();
    expect((await run({ messages: history(turn1), reusePrefix: true, cache: { policy: 'streaming', budget: 64 } })).reusedTokens).toBe(0);
    expect((await run({ messages: history(turn1) })).reusedTokens).toBe(0);
  });

  test('thinking off: the answer opens after an empty think block', async () => {
    const r = await run({ prompt: first.user, enableThinking: false, maxNewTokens: 40 });
    expect(r.thinkTokens).toBe(0);
    expect(r.generatedIds).not.toContain(100); // no <think> written by the model
  });

  test('a stop string ends the generation and is cut from the text', async () => {
    const full = await run({ prompt: first.user });
    const stop = full.text.slice(10, 14);
    const r = await run({ prompt: first.user, stop: [stop] });
    expect(r.stopReason).toBe('stop');
    expect(r.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
  });

  test('the result reports KV held against the full cache and evictions', async () => {
    const r = await run({ prompt: first.user, cache: { policy: 'h2o', budget: 48 } });
    expect(r.kv.evictions).toBeGreaterThan(0);
    expect(r.kv.heldBytes).toBeLessThan(r.kv.fullBytes);
    const full = await run({ prompt: first.user });
    expect(full.kv).toMatchObject({ evictions: 0, heldBytes: full.kv.fullBytes });
    expect(full.prefillTokensPerSecond).toBeGreaterThan(0);
  });
});
