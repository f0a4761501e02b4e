/**
 * CPU reference of policy-score.wgsl: gathers each full head like src/policies/cpu-chooser.ts and runs
 * the policy's own score (passed in as scoreOf: snapkv-d's or r-kv's, with their window, pool and
 * r-kv's lambda and threshold), in f64.
 */
import type { PolicyState } from './policy-state.ts';
import { headEntries, type ScoreFn } from './head-entries.ref.ts';

export interface PolicyScoreRefArgs {
  scoreOf: ScoreFn; // reads state.history and (r-kv) state.keys
  headDim: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  slotPos: ArrayLike<number>; // (numSlots)
  blockTable: ArrayLike<number>; // (kvHeads, maxPages): this layer's slice
  headSlots: ArrayLike<number>; // (kvHeads): this layer's slice
  history: ArrayLike<number>; // (numSlots, the policy's window)
  kPool: ArrayLike<number>; // (numSlots, headDim)
  limits: ArrayLike<number>; // (kvHeads)
  counts: ArrayLike<number>; // (kvHeads)
  score: ArrayLike<number>; // (numSlots) before: kept where a head is not full
}

/** (numSlots) scores after the kernel. */
export function policyScoreRef(a: PolicyScoreRefArgs): Float64Array {
  const { pageSize, maxPages, slotPos, blockTable } = a;
  const out = Float64Array.from(a.score);
  const state: PolicyState = {
    score: new Float64Array(out.length),
    stamp: new Float64Array(out.length),
    history: Float64Array.from(a.history),
    probe: new Float64Array(a.history.length),
    keys: { data: a.kPool, dim: a.headDim },
  };
  for (let g = 0; g < a.kvHeads; g++) {
    if (a.counts[g] < a.limits[g]) continue;
    const head = headEntries({ blockTable, used: a.headSlots[g], slotPos, g, maxPages, pageSize });
    const scores = new Float64Array(head.length);
    a.scoreOf(state, head, 0, scores);
    for (let i = 0; i < head.length; i++) out[head.slots[i]] = scores[i];
  }
  return out;
}
