/**
 * What eviction costs on the GPU engine, per policy, measured in one run:
 * 1. the decode step time relative to `full` at the same cache length: `full` is timed once its
 *    cache holds about L entries per head, each policy at `all` budget L once it is full (so every
 *    timed step also scores and evicts); `full` and every policy take turns over `rounds` rounds,
 *    each ratio is against its own round's `full`, and the medians over rounds are printed (a
 *    shared machine's drift hits both sides of a ratio alike), beside the GPU time of the
 *    policy's own kernels in one step (timestamps, or wall time per dispatch without them);
 * 2. the step time against generated length at a fixed budget: medians over bins of generated
 *    tokens (a policy's should stay flat while `full`'s grows with its cache);
 * 3. KV bytes: what the pool allocates for the sequence, and the peak held (entries x K and V).
 * Tokens are fed back greedily with end-of-sequence ignored, so every run decodes the same count.
 */
import type { CacheConfig } from '../src/kv/budget.ts';
import type { GpuBackend } from '../src/engine/gpu-backend.ts';
import { fmt, median } from './stats.ts';

const GREEDY_U = { temperature: 0, topP: 1, u: 0 };

/** The dispatches a policy adds to a step (their labels). */
const EVICTION_KERNELS = new Set(['score-update', 'value-norm', 'policy-score', 'select-victim', 'select-model']);

interface Trace {
  stepMs: number[]; // per decode step
  heldBytes: number; // peak K and V bytes held
  poolBytes: number; // K and V bytes the pool allocates
}

async function decodeTrace(backend: GpuBackend, prompt: number[], steps: number, cache?: CacheConfig): Promise<Trace> {
  const c = backend.model.config;
  const entryBytes = 2 * c.headDim * 4; // K and V, f32
  backend.reset(cache, prompt.length);
  let token = 0;
  for (let at = 0; at < prompt.length; at += backend.maxStepTokens) {
    token = (await backend.forward(prompt.slice(at, at + backend.maxStepTokens), at, GREEDY_U)).token;
  }
  await backend.finishPrefill(prompt.length);
  const held = () => backend.occupancy().reduce((s, n) => s + n, 0) * entryBytes;
  let heldBytes = held();
  const stepMs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    token = (await backend.forward([token], prompt.length + i, GREEDY_U)).token;
    stepMs.push(performance.now() - t0);
    heldBytes = Math.max(heldBytes, held());
  }
  return { stepMs, heldBytes, poolBytes: backend.kvBytes };
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(3).padStart(8);

export async function policyCost(
  backend: GpuBackend,
  prompt: number[],
  policies: readonly string[],
  log: (line: string) => void,
  { cacheLength = 192, timed = 32, rounds = 3, generated = 384, bin = 64, budget = 96 } = {},
): Promise<void> {
  // 1. Same cache length L: full at positions L..L+timed, each policy full at budget L, in turns.
  log('');
  log(`step time at the same cache length (${cacheLength} entries per head): median of ${timed} steps, median over ${rounds} rounds`);
  log('policy          ms/step   vs full   its kernels ms/step');
  const settle = Math.max(0, cacheLength - prompt.length);
  await decodeTrace(backend, prompt, 8); // warm-up: pipelines
  const fullMs: number[] = [];
  const ms = new Map<string, number[]>(policies.map((p) => [p, []]));
  const ratios = new Map<string, number[]>(policies.map((p) => [p, []]));
  for (let r = 0; r < rounds; r++) {
    const full = median((await decodeTrace(backend, prompt, settle + timed)).stepMs.slice(settle));
    fullMs.push(full);
    for (const policy of policies) {
      // After the prompt cut, the cache holds L from the first step whenever the prompt exceeds L.
      const step = median((await decodeTrace(backend, prompt, settle + timed, { policy, budget: cacheLength, mode: 'all' })).stepMs.slice(settle));
      ms.get(policy)!.push(step);
      ratios.get(policy)!.push(step / full);
    }
  }
  log(`${'full'.padEnd(14)} ${fmt(median(fullMs), 3)}   ${fmt(1, 2)}x`);
  for (const policy of policies) {
    // The policy's own dispatches in one step at this length (score-update, policy-score, select-*, value-norm).
    await decodeTrace(backend, prompt, settle + 1, { policy, budget: cacheLength, mode: 'all' });
    const times = await backend.profile([0], prompt.length + settle + 1);
    const own = times.filter((t) => EVICTION_KERNELS.has(t.label)).reduce((sum, t) => sum + t.ms, 0);
    log(`${policy.padEnd(14)} ${fmt(median(ms.get(policy)!), 3)}   ${fmt(median(ratios.get(policy)!), 2)}x   ${fmt(own, 3)}`);
  }

  // 2 and 3. Step time against generated length at a fixed budget, and KV bytes.
  const bins = Math.floor(generated / bin);
  log('');
  log(`step time (ms, median per bin) against generated tokens, all budget ${budget}; KV bytes (MiB)`);
  const header = Array.from({ length: bins }, (_, b) => `${b * bin}-${(b + 1) * bin}`.padStart(9)).join('');
  log(`${'policy'.padEnd(14)}${header}  growth  pool MiB  peak held`);
  const rows: [string, CacheConfig | undefined][] = [['full', undefined], ...policies.map((p): [string, CacheConfig] => [p, { policy: p, budget, mode: 'all' }])];
  for (const [name, cache] of rows) {
    const t = await decodeTrace(backend, prompt, bins * bin, cache);
    const medians = Array.from({ length: bins }, (_, b) => median(t.stepMs.slice(b * bin, (b + 1) * bin)));
    const growth = medians[bins - 1] / medians[0];
    log(`${name.padEnd(14)}${medians.map((m) => fmt(m, 2)).join('')}  ${fmt(growth, 2).trim().padStart(5)}x ${MiB(t.poolBytes)}  ${MiB(t.heldBytes)}`);
  }
}
