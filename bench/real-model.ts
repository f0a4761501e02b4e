/**
 * The benchmark for a real-shape model (no eval.jsonl beside it): decode speed, weight bytes and
 * KV bytes with the full cache and with crystal at a 1024-entry budget (?budget=). The prompt is
 * 1100 tokens (?prompt=), so crystal's `all` budget cuts it at prefill and every timed step scores and evicts;
 * the full cache holds the whole prompt and grows. Medians over runs; tokens fed back greedily.
 */
import type { CacheConfig } from '../src/model/forward-backend.ts';
import type { GpuBackend } from '../src/engine/gpu-backend.ts';
import { fmt, median } from './stats.ts';

const GREEDY_U = { temperature: 0, topP: 1, u: 0 };
export const REAL_PROMPT_TOKENS = 1100;
export const REAL_BUDGET = 1024;

export async function realModelBench(
  backend: GpuBackend,
  tokens: number,
  runs: number,
  log: (line: string) => void,
  { promptTokens = REAL_PROMPT_TOKENS, budget = REAL_BUDGET } = {},
): Promise<void> {
  const m = backend.model;
  // Any text the tokenizer splits finely; repeated until it is long enough, then cut exactly.
  let ids: number[] = [];
  for (let i = 0; ids.length < promptTokens; i++) ids = ids.concat(m.tokenizer.encode(`Step ${i}: let x_${i} = x_${i - 1} * ${i % 7} + ${i % 13}; `));
  const prompt = ids.slice(0, promptTokens);
  log(`prompt         ${prompt.length} tokens; decode ${tokens} tokens; ${runs} runs (+1 warm-up)`);
  log(`weights        ${(backend.weightBytes / 2 ** 20).toFixed(1)} MiB on the GPU (${m.format.kind === 'mlc' ? m.format.quantization : 'hf'})`);
  log('');
  log('cache                  ms/token    tok/s   KV pool MiB  prefill ms');
  for (const cache of [undefined, { policy: 'crystal', budget, mode: 'all' }] as (CacheConfig | undefined)[]) {
    const stepMs: number[] = [];
    const prefills: number[] = [];
    let kvBytes = 0;
    for (let r = 0; r <= runs; r++) {
      backend.reset(cache, prompt.length);
      kvBytes = backend.kvBytes;
      const t0 = performance.now();
      let token = 0;
      for (let at = 0; at < prompt.length; at += backend.maxStepTokens) {
        token = (await backend.forward(prompt.slice(at, at + backend.maxStepTokens), at, GREEDY_U)).token;
      }
      await backend.finishPrefill(prompt.length);
      const prefillMs = performance.now() - t0;
      const steps: number[] = [];
      for (let i = 0; i < (r === 0 ? 4 : tokens); i++) {
        const s = performance.now();
        token = (await backend.forward([token], prompt.length + i, GREEDY_U)).token;
        steps.push(performance.now() - s);
      }
      if (r > 0) {
        stepMs.push(median(steps));
        prefills.push(prefillMs);
      }
    }
    const ms = median(stepMs);
    const name = cache ? `crystal all ${budget}` : 'full';
    log(`${name.padEnd(20)} ${fmt(ms, 3)} ${fmt(1000 / ms, 1)} ${fmt(kvBytes / 2 ** 20, 1)}   ${fmt(median(prefills), 0)}`);
  }
}
