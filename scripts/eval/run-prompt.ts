/** One prompt under every config, on whichever engine: the CPU reference's worker threads and the GPU path share it. */
import { generate } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import type { ForwardBackend } from '../../src/model/forward-backend.ts';
import type { ReferenceBackend } from '../../src/model/reference.ts';
import type { EvalConfig, EvalItem, EvalOutcome } from './score.ts';

export async function runPrompt(backend: ForwardBackend, item: EvalItem, itemIndex: number, configs: EvalConfig[], maxNewTokens: number): Promise<EvalOutcome[]> {
  const outcomes: EvalOutcome[] = [];
  for (let index = 0; index < configs.length; index++) {
    const config = configs[index];
    const cache =
      config.mode === 'none' ? undefined : { policy: config.policy, budget: config.budget ?? undefined, mode: config.mode, params: config.params };
    const r = await generate(backend, { prompt: item.prompt, maxNewTokens, sampling: GREEDY, cache });
    outcomes.push({
      item: itemIndex,
      config: index,
      correct: r.answer === item.answer,
      answer: r.answer,
      thinkTokens: r.thinkTokens,
      closedThink: r.closedThink,
      generatedTokens: r.generatedIds.length,
      report: 'eviction' in backend ? (backend as ReferenceBackend).eviction().runner.policy.report?.() : undefined,
    });
  }
  return outcomes;
}
