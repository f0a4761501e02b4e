/**
 * Expected future attention, a base rule for the answer-first policies (arXiv 2510.00636,
 * "Expected Attention"; the RoPE-aware form after arXiv 2604.04921). Per (layer, query head) it
 * keeps running statistics of the recent queries before RoPE: an exponential moving mean mu and a
 * diagonal variance s2, the variance averaged within each rotary pair (i, i + d/2) so that
 * rotating to a position leaves it unchanged. A future query at position p is modelled as R(p) q
 * with q ~ N(mu, diag s2), so for an entry's key k (after RoPE at its own position)
 *   E[exp(q_p . k / sqrt(d))] = exp(R(p) mu . k / sqrt(d) + 1/2 sum_i s2_i k_i^2 / d).
 * Summed over the next `horizon` positions (the query about to be written first), normalised over
 * the head's entries into an expected share of attention, summed over the KV group's query heads,
 * and weighted by the entry's value norm ||v||: what the entry is expected to contribute.
 * CPU reference only (it reads the key and value pools and the rotary tables, PolicyState).
 */
import { assert } from '../assert.ts';
import type { HeadSlots, PolicyState } from '../kernels/policy-state.ts';
import { ropeRef } from '../kernels/rope.ref.ts';

/** Running query statistics per (layer, query head), before RoPE. */
export class QueryStats {
  private readonly mean = new Map<number, Float64Array>(); // layer -> (heads, dim)
  private readonly square = new Map<number, Float64Array>(); // layer -> (heads, dim) moving mean of q^2

  constructor(
    /** Weight of the past per new query (an exponential moving average). */
    readonly keep: number,
  ) {}

  observe(layer: number, q: Float64Array): void {
    const m = this.mean.get(layer);
    if (!m) {
      this.mean.set(layer, q.slice());
      this.square.set(layer, q.map((x) => x * x));
      return;
    }
    const s = this.square.get(layer)!;
    for (let i = 0; i < q.length; i++) {
      m[i] = this.keep * m[i] + (1 - this.keep) * q[i];
      s[i] = this.keep * s[i] + (1 - this.keep) * q[i] * q[i];
    }
  }

  /** The query heads' (heads, dim) mean and variance of a layer (expectedAttention averages it within rotary pairs); undefined before its first query. */
  of(layer: number): { mean: Float64Array; variance: Float64Array } | undefined {
    const m = this.mean.get(layer);
    if (!m) return undefined;
    const s = this.square.get(layer)!;
    return { mean: m, variance: s.map((x, i) => Math.max(0, x - m[i] * m[i])) };
  }
}

/**
 * The expected-attention score of each of the head's entries at step `position` (higher: more
 * expected use), into out.
 */
export function expectedAttention(stats: QueryStats, state: PolicyState, head: HeadSlots, position: number, horizon: number, out: Float64Array): void {
  const { keys, values, rope } = state;
  assert(keys !== undefined && values !== undefined && rope !== undefined, 'expected attention needs the key and value pools and the rotary tables (the CPU reference)');
  const { heads, kvHeads } = rope;
  const s = stats.of(head.layer);
  out.fill(0, 0, head.length);
  if (!s) return;
  const d = keys.dim;
  const half = d / 2;
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(d);
  const rotated = new Float64Array(horizon * d); // the mean rotated to each future position
  const logit = new Float64Array(head.length);
  for (let h = head.kvHead * group; h < (head.kvHead + 1) * group; h++) {
    const mu = s.mean.subarray(h * d, (h + 1) * d);
    const v2 = s.variance.subarray(h * d, (h + 1) * d);
    // The mean at each future position; positions past the rotary tables take the last one's.
    const inTable = Math.max(1, Math.min(horizon, rope.cos.length / half - position));
    for (let j = 0; j < horizon; j++) rotated.set(mu, j * d);
    ropeRef(rotated, inTable, 1, d, Math.min(position, rope.cos.length / half - 1), rope.cos, rope.sin);
    for (let j = inTable; j < horizon; j++) rotated.copyWithin(j * d, (inTable - 1) * d, inTable * d);
    let max = -Infinity;
    for (let e = 0; e < head.length; e++) {
      const k = head.slots[e] * d;
      let spread = 0;
      for (let i = 0; i < half; i++) {
        const pair = (v2[i] + v2[i + half]) / 2;
        spread += pair * (keys.data[k + i] ** 2 + keys.data[k + i + half] ** 2);
      }
      // log sum_j exp(rotated_j . k / sqrt(d)), by its largest term.
      let top = -Infinity;
      const dots = new Float64Array(horizon);
      for (let j = 0; j < horizon; j++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += rotated[j * d + i] * keys.data[k + i];
        dots[j] = dot * scale;
        top = Math.max(top, dots[j]);
      }
      let sum = 0;
      for (let j = 0; j < horizon; j++) sum += Math.exp(dots[j] - top);
      logit[e] = top + Math.log(sum) + (0.5 * spread) / d;
      max = Math.max(max, logit[e]);
    }
    let z = 0;
    for (let e = 0; e < head.length; e++) z += Math.exp(logit[e] - max);
    for (let e = 0; e < head.length; e++) out[e] += Math.exp(logit[e] - max) / z;
  }
  for (let e = 0; e < head.length; e++) {
    const v = head.slots[e] * d;
    let norm = 0;
    for (let i = 0; i < d; i++) norm += values.data[v + i] ** 2;
    out[e] *= Math.sqrt(norm);
  }
}
