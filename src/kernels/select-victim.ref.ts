/**
 * CPU reference of select-victim.wgsl: gathers each head like src/policies/evictor.ts, then runs
 * the policies' own score and select.ts's markCandidates + lowestCandidate, in f64.
 */
import { crystalScore } from '../policies/crystal-lite.ts';
import { createH2o } from '../policies/h2o.ts';
import type { HeadSlots, PolicyState } from '../policies/policy.ts';
import { lowestCandidate, markCandidates } from '../policies/select.ts';
import { createStreaming } from '../policies/streaming.ts';
import { NO_CANDIDATE, NOT_FULL, type VictimRule } from './select-victim.ts';

export interface SelectVictimRefArgs {
  rule: VictimRule;
  lambda: number; // crystal
  sinks: number;
  recent: number;
  pageSize: number;
  maxPages: number;
  kvHeads: number;
  protectBelow: number;
  t: number;
  slotPos: ArrayLike<number>; // (numSlots)
  blockTable: ArrayLike<number>; // (kvHeads, maxPages): this layer's slice
  headSlots: ArrayLike<number>; // (kvHeads): this layer's slice
  score: ArrayLike<number>; // (numSlots)
  stamp: ArrayLike<number>; // (numSlots)
  limits: ArrayLike<number>; // (kvHeads)
  counts: ArrayLike<number>; // (kvHeads)
}

/** victims (kvHeads): logical slot, NOT_FULL or NO_CANDIDATE. */
export function selectVictimRef(a: SelectVictimRefArgs): Uint32Array {
  const { pageSize, maxPages, slotPos, blockTable } = a;
  const state: PolicyState = { score: Float64Array.from(a.score), stamp: Float64Array.from(a.stamp), history: new Float64Array(1) };
  const victims = new Uint32Array(a.kvHeads);
  for (let g = 0; g < a.kvHeads; g++) {
    if (a.counts[g] < a.limits[g]) {
      victims[g] = NOT_FULL;
      continue;
    }
    const slots: number[] = [];
    const positions: number[] = [];
    const logical: number[] = [];
    for (let s = 0; s < Math.min(a.headSlots[g], maxPages * pageSize); s++) {
      const slot = blockTable[g * maxPages + Math.floor(s / pageSize)] * pageSize + (s % pageSize);
      if (slotPos[slot] < 0) continue;
      slots.push(slot);
      positions.push(slotPos[slot]);
      logical.push(s);
    }
    const head: HeadSlots = { layer: 0, kvHead: g, slots: Int32Array.from(slots), positions: Int32Array.from(positions), length: slots.length };
    const scores = new Float64Array(head.length);
    if (a.rule === 'position') createStreaming().score(state, head, a.t, scores);
    else if (a.rule === 'score') createH2o().score(state, head, a.t, scores);
    else crystalScore(state, head, a.t, a.lambda, scores);
    const candidate = new Uint8Array(head.length);
    markCandidates(head, a.sinks, a.recent, a.protectBelow, candidate);
    const best = lowestCandidate(head, scores, candidate);
    victims[g] = best < 0 ? NO_CANDIDATE : logical[best];
  }
  return victims;
}
