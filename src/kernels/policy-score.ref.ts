/**
 * CPU reference of policy-score.wgsl: gathers each full head like src/policies/evictor.ts and runs
 * the policy's own score (snapkv-d.ts, r-kv.ts), in f64.
 */
import type { EvictionPolicy, PolicyState } from '../policies/policy.ts';
import { createRkv } from '../policies/r-kv.ts';
import { createSnapkvD } from '../policies/snapkv-d.ts';
import { headEntries } from './head-entries.ref.ts';
import type { PolicyScoreRule } from './policy-score.ts';

export interface PolicyScoreRefArgs {
  rule: PolicyScoreRule;
  window: number;
  pool: number;
  lambda?: number;
  threshold?: number;
  headDim: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  slotPos: ArrayLike<number>; // (numSlots)
  blockTable: ArrayLike<number>; // (kvHeads, maxPages): this layer's slice
  headSlots: ArrayLike<number>; // (kvHeads): this layer's slice
  history: ArrayLike<number>; // (numSlots, window)
  kPool: ArrayLike<number>; // (numSlots, headDim)
  limits: ArrayLike<number>; // (kvHeads)
  counts: ArrayLike<number>; // (kvHeads)
  score: ArrayLike<number>; // (numSlots) before: kept where a head is not full
}

/** (numSlots) scores after the kernel. */
export function policyScoreRef(a: PolicyScoreRefArgs): Float64Array {
  const { pageSize, maxPages, slotPos, blockTable } = a;
  const policy: EvictionPolicy =
    a.rule === 'snapkv-d'
      ? createSnapkvD({ window: a.window, pool: a.pool })
      : createRkv({ window: a.window, pool: a.pool, ...(a.lambda !== undefined && { lambda: a.lambda }), ...(a.threshold !== undefined && { threshold: a.threshold }) });
  const out = Float64Array.from(a.score);
  const state: PolicyState = {
    score: new Float64Array(out.length),
    stamp: new Float64Array(out.length),
    history: Float64Array.from(a.history),
    keys: { data: a.kPool, dim: a.headDim },
  };
  for (let g = 0; g < a.kvHeads; g++) {
    if (a.counts[g] < a.limits[g]) continue;
    const head = headEntries({ blockTable, used: a.headSlots[g], slotPos, g, maxPages, pageSize });
    const scores = new Float64Array(head.length);
    policy.score(state, head, 0, scores);
    for (let i = 0; i < head.length; i++) out[head.slots[i]] = scores[i];
  }
  return out;
}
