// A chat's second turn under a budget whose pool must grow for the longer prompt (kv-cache.ts
// grownTo): the GPU engine continues the sequence as the CPU reference does, token for token and
// eviction for eviction.
import { expect, test } from 'vitest';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { engineFromCore, type Engine } from '../../src/engine/engine.ts';
import { GREEDY, type ChatMessage, type GenerateRequest } from '../../src/engine/types.ts';
import { testGpu } from '../helpers/gpu.ts';

const URL_ = '/models/tiny-reasoner-qwen3/';

async function twoTurns(engine: Engine, cache: GenerateRequest['cache'], q1: string, q2: string) {
  const turn = async (messages: ChatMessage[]) => {
    const g = engine.generate({ messages, maxNewTokens: 300, sampling: GREEDY, cache, reusePrefix: true, telemetry: {} });
    const evicted: number[] = [];
    for await (const s of g) evicted.push(...s.cache!.evicted);
    return { result: await g.result, evicted };
  };
  await engine.resetChat();
  const first = await turn([{ role: 'user', content: q1 }]);
  const second = await turn([{ role: 'user', content: q1 }, { role: 'assistant', content: first.result.answer }, { role: 'user', content: q2 }]);
  return { first, second };
}

test('GPU and CPU reference continue a chat alike when the budget pool grows', async () => {
  const cases = (await (await fetch(URL_ + 'golden.json')).json()).cases;
  const gpu = engineFromCore(createEngineCore({ gpu: testGpu }));
  const cpu = engineFromCore(createEngineCore());
  await gpu.load({ url: URL_ });
  await cpu.load({ url: URL_, backend: 'cpu-reference' });
  for (const cache of [{ policy: 'h2o', budget: 160 }, { policy: 'streaming', budget: 64 }]) {
    const g = await twoTurns(gpu, cache, cases[0].user, cases[1].user);
    const c = await twoTurns(cpu, cache, cases[0].user, cases[1].user);
    expect(g.second.result.reusedTokens, cache.policy).toBe(g.first.result.promptTokens);
    expect(g.second.result.prefilledTokens).toBe(g.second.result.promptTokens - g.first.result.promptTokens);
    expect(g.second.result.kv.evictions, cache.policy).toBeGreaterThan(0);
    for (const turn of ['first', 'second'] as const) {
      expect(g[turn].result.generatedIds, `${cache.policy} ${turn}`).toEqual(c[turn].result.generatedIds);
      expect(g[turn].evicted, `${cache.policy} ${turn}`).toEqual(c[turn].evicted);
    }
  }
});
