/**
 * CPU reference of select-victim.wgsl: gathers each head like src/policies/cpu-chooser.ts, then runs
 * the policy's own score (passed in as scoreOf: streaming's for the position rule, h2o's for
 * score, tova's for layer, crystal-lite's for crystal) and select.ts's markCandidates +
 * lowestCandidate, in f64; bursts take the lowest few like the CPU chooser's lowest(), the layer
 * rule totals positions like its fromLayer.
 */
import type { PolicyState } from './policy-state.ts';
import { lowestCandidate, lowestPosition, markCandidates } from './select.ts';
import { headEntries, type HeadEntries, type ScoreFn } from './head-entries.ref.ts';
import { NO_CANDIDATE, NOT_FULL, type KernelRule } from './eviction-rules.ts';

export interface SelectVictimRefArgs {
  rule: KernelRule; // the policy's gpu.victim: 'layer' totals the heads' scores per position; every other rule is per head
  scoreOf: ScoreFn; // the policy's score at step t (crystal's carries its lambda)
  sinks: number;
  recent: number;
  pageSize: number;
  maxPages: number;
  kvHeads: number;
  cap?: number; // victims per head (default 1)
  nearTie?: number; // cap 1: relative distance from the lowest score that still ties
  burst?: number; // cap > 1: extra victims beyond the excess
  protectBelow: number;
  t: number;
  slotPos: ArrayLike<number>; // (numSlots)
  blockTable: ArrayLike<number>; // (kvHeads, maxPages): this layer's slice
  headSlots: ArrayLike<number>; // (kvHeads): this layer's slice
  score: ArrayLike<number>; // (numSlots)
  probe?: ArrayLike<number>; // (numSlots) the answer-first probe's score (the probe rule); default 0
  stamp: ArrayLike<number>; // (numSlots)
  limits: ArrayLike<number>; // (kvHeads)
  counts: ArrayLike<number>; // (kvHeads)
}

interface Gathered extends HeadEntries {
  scores: Float64Array;
  candidate: Uint8Array;
}

/** victims (kvHeads, cap): logical slots in eviction order, NOT_FULL after the last, or NO_CANDIDATE. */
export function selectVictimRef(a: SelectVictimRefArgs): Uint32Array {
  const { pageSize, maxPages, slotPos, blockTable } = a;
  const cap = a.cap ?? 1;
  const state: PolicyState = { score: Float64Array.from(a.score), stamp: Float64Array.from(a.stamp), history: new Float64Array(1), probe: a.probe ? Float64Array.from(a.probe) : new Float64Array(a.score.length) };
  const gather = (g: number): Gathered => {
    const head = headEntries({ blockTable, used: a.headSlots[g], slotPos, g, maxPages, pageSize });
    const scores = new Float64Array(head.length);
    a.scoreOf(state, head, a.t, scores);
    const candidate = new Uint8Array(head.length);
    markCandidates(head, a.sinks, a.recent, a.protectBelow, candidate);
    return { ...head, scores, candidate };
  };
  const victims = new Uint32Array(a.kvHeads * cap).fill(NOT_FULL);
  const heads = Array.from({ length: a.kvHeads }, (_, g) => gather(g));
  // The layer rule: each position's mean score over the heads (the CPU chooser's fromLayer), lowest first.
  let layerBest = -1;
  if (a.rule.rule === 'layer') {
    const total = new Map<number, number>();
    for (const v of heads) {
      for (let i = 0; i < v.length; i++) {
        if (v.candidate[i]) total.set(v.positions[i], (total.get(v.positions[i]) ?? 0) + v.scores[i] / a.kvHeads);
      }
    }
    layerBest = lowestPosition(total, a.nearTie ?? 0);
  }
  for (let g = 0; g < a.kvHeads; g++) {
    if (a.counts[g] < a.limits[g]) continue;
    const v = heads[g];
    if (a.rule.rule === 'layer') {
      const i = v.positions.indexOf(layerBest);
      victims[g * cap] = layerBest < 0 || i < 0 ? NO_CANDIDATE : v.logical[i];
    } else if (cap === 1) {
      const best = lowestCandidate(v, v.scores, v.candidate, a.nearTie);
      victims[g] = best < 0 ? NO_CANDIDATE : v.logical[best];
    } else {
      const want = Math.min(cap, a.counts[g] + 1 - a.limits[g] + (a.burst ?? 0));
      const order: number[] = [];
      for (let i = 0; i < v.length; i++) if (v.candidate[i]) order.push(i);
      order.sort((x, y) => v.scores[x] - v.scores[y] || v.logical[x] - v.logical[y]);
      for (let j = 0; j < want; j++) victims[g * cap + j] = j < order.length ? v.logical[order[j]] : NO_CANDIDATE;
    }
  }
  return victims;
}
