/**
 * What the answer-first probe (src/policies/probe.ts) costs a decode step on the GPU engine, as
 * it is: its rows share the step's tile with the real token, so the weights are read once (the
 * bytes are unchanged) and the dispatches grow only by probe-fold (one per layer); what grows is
 * the rows every kernel computes and the attention each probe row pays the cache. Per setting,
 * at the same cache length L (every head full at `all` budget L, so each timed step also scores,
 * folds and evicts): the probe rows per step, the dispatches, the weight bytes, and the step time
 * against `full` (median of `timed` steps, ratios per round, the median over rounds).
 * The probe rows are fixed tokens (end-of-think, the template's text after it, answer and
 * lookahead tokens): the cost does not depend on which tokens they are.
 */
import type { GpuBackend } from '../src/engine/gpu-backend.ts';
import type { CacheConfig } from '../src/kv/budget.ts';
import { AFTER_THINK_TEXT, type ProbeRequest } from '../src/policies/probe.ts';
import { fmt, median } from './stats.ts';
import { decodeWeightBytes } from './step-cost.ts';

const GREEDY_U = { temperature: 0, topP: 1, u: 0 };

async function stepTimes(backend: GpuBackend, prompt: number[], settle: number, timed: number, cache?: CacheConfig, probe?: ProbeRequest): Promise<number[]> {
  backend.reset(cache, prompt.length);
  let token = 0;
  for (let at = 0; at < prompt.length; at += backend.maxStepTokens) {
    token = (await backend.forward(prompt.slice(at, at + backend.maxStepTokens), at, GREEDY_U)).token;
  }
  await backend.finishPrefill(prompt.length);
  const ms: number[] = [];
  for (let i = 0; i < settle + timed; i++) {
    const t0 = performance.now();
    token = (await backend.forward([token], prompt.length + i, GREEDY_U, 'none', probe)).token;
    if (i >= settle) ms.push(performance.now() - t0);
  }
  return ms;
}

export async function probeCost(backend: GpuBackend, prompt: number[], log: (line: string) => void, { cacheLength = 192, timed = 32, rounds = 3 } = {}): Promise<void> {
  const model = backend.model;
  if (model.thinkEndId === null) return;
  const forced = [model.thinkEndId, ...model.tokenizer.encode(AFTER_THINK_TEXT)];
  const filler = (n: number) => Array.from({ length: n }, (_, i) => prompt[i % prompt.length]);
  const settings: [string, CacheConfig, ProbeRequest | undefined][] = [
    ['recency, no probe', { policy: 'answer-probe', budget: cacheLength, mode: 'all', params: { weight: 0 } }, undefined],
    ['probe, answer 3', { policy: 'answer-probe', budget: cacheLength, mode: 'all' }, { answer: [...forced, ...filler(3)], look: [], bootstrapLook: 0 }],
    ['probe, + look 6', { policy: 'answer-probe', budget: cacheLength, mode: 'all', params: { look: 6 } }, { answer: [...forced, ...filler(3)], look: filler(6), bootstrapLook: 0 }],
  ];
  log('');
  log(`the answer-first probe's cost at the same cache length (${cacheLength} entries per head): median of ${timed} steps, median over ${rounds} rounds`);
  log('setting              rows/step  dispatches  weights MB   ms/step   vs full');
  const settle = Math.max(0, cacheLength - prompt.length);
  await stepTimes(backend, prompt, 0, 8); // warm-up: pipelines
  const full: number[] = [];
  const ms = settings.map(() => [] as number[]);
  const ratios = settings.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const f = median(await stepTimes(backend, prompt, settle, timed));
    full.push(f);
    for (const [i, [, cache, probe]] of settings.entries()) {
      const m = median(await stepTimes(backend, prompt, settle, timed, cache, probe));
      ms[i].push(m);
      ratios[i].push(m / f);
    }
  }
  const weightsMB = fmt(decodeWeightBytes(model.weights) / 1e6, 2);
  backend.reset();
  log(`${'full'.padEnd(20)} ${'1'.padStart(9)}  ${String(backend.stepShape(1).dispatches).padStart(10)}  ${weightsMB}  ${fmt(median(full), 3)}   ${fmt(1, 2)}x`);
  for (const [i, [name, cache, probe]] of settings.entries()) {
    backend.reset(cache, prompt.length);
    const rows = 1 + (probe ? probe.answer.length + probe.look.length : 0);
    const dispatches = backend.stepShape(rows, probe !== undefined).dispatches;
    log(`${name.padEnd(20)} ${String(rows).padStart(9)}  ${String(dispatches).padStart(10)}  ${weightsMB}  ${fmt(median(ms[i]), 3)}   ${fmt(median(ratios[i]), 2)}x`);
  }
}
