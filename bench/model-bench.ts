/**
 * The model benchmark, without a page: the browser page (bench-page.ts) and Node on Dawn
 * (node-bench.ts) both call it with a device, a loaded model and a log. Prints medians over several
 * runs: decode tok/s and ms/token with the full cache, prefill tok/s, and the GPU time of each
 * kernel in one decode step. The CPU reference's decode speed is measured in the same run, as a
 * ratio. Then, per policy the GPU engine evicts with, the step time against full at the same cache
 * length and against generated length, and KV bytes (policy-cost.ts). A real-shape model (no task
 * beside it, `evalPrompt` null) gets real-model.ts instead.
 */
import { createGpuBackend } from '../src/engine/gpu-backend.ts';
import type { ForwardBackend } from '../src/model/forward-backend.ts';
import { promptIds } from '../src/engine/decode-loop.ts';
import type { Gpu } from '../src/gpu/device.ts';
import type { LoadedModel } from '../src/model/load-model.ts';
import { createReferenceBackend } from '../src/model/reference.ts';
import { gpuPolicyIds } from '../src/policies/registry.ts';
import { policyCost } from './policy-cost.ts';
import { probeCost } from './probe-cost.ts';
import { realModelBench, REAL_BUDGET, REAL_CONTEXTS } from './real-model.ts';
import { decodeStepCost, forecastNote, STEP_COST_HEADER, stepCostColumns, type ForecastDevice } from './step-cost.ts';
import { fmt, median } from './stats.ts';

export interface ModelBenchOptions {
  runs: number;
  tokens: number; // decode steps timed per run
  /** Real-shape models: prompt lengths (the contexts decode starts at) and crystal's budget. */
  contexts?: number[];
  budget?: number;
  /** The device the step-cost forecast is for (step-cost.ts). */
  forecast: ForecastDevice;
}

const GREEDY_U = { temperature: 0, topP: 1, u: 0 };

/** Prefills the prompt, then decodes `tokens` steps feeding back the sampled token (eos ignored). */
async function timeRun(backend: ForwardBackend, prompt: number[], tokens: number) {
  backend.reset();
  const t0 = performance.now();
  let token = 0;
  for (let at = 0; at < prompt.length; at += backend.maxStepTokens) {
    token = (await backend.forward(prompt.slice(at, at + backend.maxStepTokens), at, GREEDY_U)).token;
  }
  const prefillMs = performance.now() - t0;
  const steps: number[] = [];
  for (let i = 0; i < tokens; i++) {
    const s = performance.now();
    token = (await backend.forward([token], prompt.length + i, GREEDY_U)).token;
    steps.push(performance.now() - s);
  }
  return { prefillMs, stepMs: median(steps) };
}

/** `evalPrompt`: the first prompt of the model's eval.jsonl, or null for a real-shape model. */
export async function modelBench(gpu: Gpu, model: LoadedModel, evalPrompt: string | null, log: (line: string) => void, o: ModelBenchOptions): Promise<void> {
  const c = model.config;
  log(`model          ${model.name} (${c.architecture}, ${c.numLayers} layers, hidden ${c.hiddenSize}, heads ${c.numHeads}/${c.numKvHeads}, vocab ${c.vocabSize})`);
  if (evalPrompt === null) {
    // A real-shape model: no task to take a prompt from, and a CPU reference far too slow to time.
    const contexts = o.contexts ?? REAL_CONTEXTS;
    const backend = await createGpuBackend(gpu, model, { maxStepTokens: 64, contextLength: Math.max(...contexts) + o.tokens + 64 });
    await realModelBench(backend, o.tokens, o.runs, log, { contexts, budget: o.budget ?? REAL_BUDGET, forecast: o.forecast });
    backend.dispose();
    return;
  }
  const gpuBackend = await createGpuBackend(gpu, model, { maxStepTokens: 64 });
  const prompt = promptIds(gpuBackend, evalPrompt);
  log(`prompt         ${prompt.length} tokens; decode ${o.tokens} tokens; ${o.runs} runs (+1 warm-up); full cache`);
  gpuBackend.reset(); // the KV cache is allocated at reset: the full cache here
  log(`weights        ${(gpuBackend.weightBytes / 2 ** 20).toFixed(2)} MiB; KV cache ${(gpuBackend.kvBytes / 2 ** 20).toFixed(2)} MiB (context ${gpuBackend.contextLength})`);

  await timeRun(gpuBackend, prompt, 8); // warm-up: pipelines, caches
  const runs = [];
  for (let r = 0; r < o.runs; r++) runs.push(await timeRun(gpuBackend, prompt, o.tokens));
  const stepMs = median(runs.map((r) => r.stepMs));
  const prefillMs = median(runs.map((r) => r.prefillMs));

  const reference = createReferenceBackend(model);
  const refRuns = [];
  for (let r = 0; r < Math.min(o.runs, 3); r++) refRuns.push(await timeRun(reference, prompt, Math.min(o.tokens, 32)));
  const refStepMs = median(refRuns.map((r) => r.stepMs));

  log('');
  log('metric                          median');
  log(`decode ms/token             ${fmt(stepMs, 3)}`);
  log(`decode tok/s                ${fmt(1000 / stepMs, 1)}`);
  log(`prefill tok/s               ${fmt((prompt.length * 1000) / prefillMs, 1)}   (${prompt.length} tokens in tiles of 64, ${fmt(prefillMs, 1).trim()} ms)`);
  log(`CPU reference ms/token      ${fmt(refStepMs, 3)}   (GPU is ${(refStepMs / stepMs).toFixed(2)}x the reference's speed)`);

  // Kernel times of one decode step near the end of a generation, summed per kernel over layers.
  const profiles: Map<string, number[]> = new Map();
  const stepTotals: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    gpuBackend.reset();
    for (let at = 0; at < prompt.length; at += 64) await gpuBackend.forward(prompt.slice(at, at + 64), at, GREEDY_U);
    const times = await gpuBackend.profile([1], prompt.length);
    const perLabel = new Map<string, number>();
    for (const t of times) perLabel.set(t.label, (perLabel.get(t.label) ?? 0) + t.ms);
    for (const [label, ms] of perLabel) profiles.set(label, [...(profiles.get(label) ?? []), ms]);
    stepTotals.push(times.reduce((s, t) => s + t.ms, 0));
    if (r === 0) log(`\none decode step: ${times.length} dispatches (${gpu.hasTimestamps ? 'GPU timestamps' : 'wall time per dispatch'})`);
  }
  log('kernel              ms/step   share');
  const total = median(stepTotals);
  for (const [label, values] of [...profiles].sort((a, b) => median(b[1]) - median(a[1]))) {
    log(`${label.padEnd(18)} ${fmt(median(values), 4)} ${fmt((100 * median(values)) / total, 1)}%`);
  }
  log(`${'sum'.padEnd(18)} ${fmt(total, 4)}`);

  // Counted, not timed: what one decode step at the end of the prompt submits and reads, per cache.
  const heads = c.numLayers * c.numKvHeads;
  log('');
  log(forecastNote(o.forecast));
  log(`cache              ${STEP_COST_HEADER}`);
  for (const [name, cache, held] of [
    ['full', undefined, prompt.length],
    ['crystal all 96', { policy: 'crystal', budget: 96, mode: 'all' as const }, Math.min(prompt.length, 96)],
  ] as const) {
    gpuBackend.reset(cache, prompt.length);
    log(`${name.padEnd(18)} ${stepCostColumns(decodeStepCost(gpuBackend, held * heads, o.forecast))}`);
  }
  await policyCost(gpuBackend, prompt, gpuPolicyIds(), log);
  await probeCost(gpuBackend, prompt, log);
  gpuBackend.dispose();
}
