/**
 * The benchmark for a real-shape model (no eval.jsonl beside it): decode ms/token and tok/s, prefill
 * tok/s and KV bytes at each context (prompt length decode starts at; default 1K, 4K, 16K), with the
 * full cache and with crystal at a 1024-entry `all` budget, in one run. A prompt longer than the
 * budget is cut at prefill, so at 4K and 16K every timed crystal step scores and evicts while the
 * full cache holds the whole context. Printed against the benchmark goals: crystal's step time
 * stays flat as the context grows, and is within 10% of full's at an equal cache length (full at the
 * context nearest the budget). Medians over runs; tokens fed back greedily, eos ignored.
 */
import type { CacheConfig } from '../src/kv/budget.ts';
import type { GpuBackend } from '../src/engine/gpu-backend.ts';
import { fmt, median } from './stats.ts';
import { ASSUMED_DEVICE, decodeStepCost, forecastNote, STEP_COST_HEADER, stepCostColumns, type StepCost } from './step-cost.ts';

const GREEDY_U = { temperature: 0, topP: 1, u: 0 };
export const REAL_CONTEXTS = [1024, 4096, 16384];
export const REAL_BUDGET = 1024;

/** Any text the tokenizer splits finely, repeated until it is long enough, then cut exactly. */
function promptOf(backend: GpuBackend, tokens: number): number[] {
  let ids: number[] = [];
  for (let i = 0; ids.length < tokens; i++) ids = ids.concat(backend.model.tokenizer.encode(`Step ${i}: let x_${i} = x_${i - 1} * ${i % 7} + ${i % 13}; `));
  return ids.slice(0, tokens);
}

interface Row {
  context: number;
  name: string;
  ms: number;
  prefillMs: number;
  kvBytes: number;
  held: number; // KV entries held after the last step, all layers and heads
  cost: StepCost; // what one decode step submits and reads, counted (step-cost.ts)
}

async function measure(backend: GpuBackend, prompt: number[], tokens: number, runs: number, cache: CacheConfig | undefined) {
  const stepMs: number[] = [];
  const prefills: number[] = [];
  let kvBytes = 0;
  let held = 0;
  for (let r = 0; r < runs; r++) {
    backend.reset(cache, prompt.length);
    kvBytes = backend.kvBytes;
    const t0 = performance.now();
    let token = 0;
    for (let at = 0; at < prompt.length; at += backend.maxStepTokens) {
      token = (await backend.forward(prompt.slice(at, at + backend.maxStepTokens), at, GREEDY_U)).token;
    }
    await backend.finishPrefill(prompt.length);
    prefills.push(performance.now() - t0);
    const steps: number[] = [];
    for (let i = 0; i < tokens; i++) {
      const s = performance.now();
      token = (await backend.forward([token], prompt.length + i, GREEDY_U)).token;
      steps.push(performance.now() - s);
    }
    stepMs.push(median(steps));
    held = backend.occupancy().reduce((s, n) => s + n, 0);
  }
  return { ms: median(stepMs), prefillMs: median(prefills), kvBytes, held };
}

export async function realModelBench(
  backend: GpuBackend,
  tokens: number,
  runs: number,
  log: (line: string) => void,
  { contexts = REAL_CONTEXTS, budget = REAL_BUDGET, forecast = ASSUMED_DEVICE } = {},
): Promise<void> {
  const m = backend.model;
  const c = m.config;
  const heads = c.numLayers * c.numKvHeads;
  log(`contexts       ${contexts.join(', ')} tokens; decode ${tokens} tokens; ${runs} runs (+1 warm-up)`);
  log(`weights        ${(backend.weightBytes / 2 ** 20).toFixed(1)} MiB on the GPU (${m.format.kind === 'mlc' ? m.format.quantization : 'hf'})`);
  const caches: [string, CacheConfig | undefined][] = [
    ['full', undefined],
    [`crystal all ${budget}`, { policy: 'crystal', budget, mode: 'all' }],
  ];
  await measure(backend, promptOf(backend, Math.min(...contexts)), 4, 1, caches[1][1]); // warm-up: pipelines
  const rows: Row[] = [];
  for (const context of contexts) {
    const prompt = promptOf(backend, context);
    for (const [name, cache] of caches) {
      const m = await measure(backend, prompt, tokens, runs, cache);
      rows.push({ context, name, ...m, cost: decodeStepCost(backend, m.held, forecast) }); // the plan of the sequence just measured
    }
  }
  const full = (context: number) => rows.find((r) => r.context === context && r.name === 'full')!;
  // "Equal cache length": full where its cache held about as many entries per head as crystal's budget.
  const nearBudget = contexts.reduce((a, b) => (Math.abs(b - budget) < Math.abs(a - budget) ? b : a));
  log('');
  log(`context  cache                ms/token    tok/s  prefill tok/s  KV pool MiB  entries/head  vs full same ctx  vs full ${nearBudget}`);
  for (const r of rows) {
    log(
      `${String(r.context).padStart(7)}  ${r.name.padEnd(18)} ${fmt(r.ms, 3)} ${fmt(1000 / r.ms, 1)}  ${fmt((r.context * 1000) / r.prefillMs, 1)}      ${fmt(r.kvBytes / 2 ** 20, 1)}  ${fmt(r.held / heads, 0)}     ${fmt(r.ms / full(r.context).ms, 2)}x        ${fmt(r.ms / full(nearBudget).ms, 2)}x`,
    );
  }
  log('');
  log(forecastNote(forecast));
  log(`context  cache              ${STEP_COST_HEADER}  measured ms/token`);
  for (const r of rows) log(`${String(r.context).padStart(7)}  ${r.name.padEnd(18)} ${stepCostColumns(r.cost)}  ${fmt(r.ms, 3)}`);
  const crystal = rows.filter((r) => r.name !== 'full');
  const growth = crystal[crystal.length - 1].ms / crystal[0].ms;
  const worst = Math.max(...crystal.map((r) => r.ms / full(nearBudget).ms));
  log('');
  log(`goal: crystal flat as the context grows   ${growth.toFixed(2)}x from ${contexts[0]} to ${contexts[contexts.length - 1]} (goal <= 1.10x)  ${growth <= 1.1 ? 'met' : 'MISSED'}`);
  log(`goal: crystal within 10% of full at equal cache length (full at ${nearBudget})   worst ${worst.toFixed(2)}x  ${worst <= 1.1 ? 'met' : 'MISSED'}`);
}
