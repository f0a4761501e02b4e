/**
 * CPU reference of head-load.wgsl: gathers each head like src/policies/evictor.ts and sums the
 * policy's own decayed CRF (crystal-lite.ts crystalScore) over the entries the budget counts, in
 * f64: what evictor.ts rebalance computes.
 */
import { crystalScore } from '../policies/crystal-lite.ts';
import type { HeadSlots, PolicyState } from '../policies/policy.ts';

export interface HeadLoadRefArgs {
  lambda: number;
  layers: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  tableStride: number;
  slotsStride: number;
  protectBelow: number;
  t: number;
  slotPos: ArrayLike<number>; // (numSlots)
  blockTables: ArrayLike<number>; // (layers, tableStride)
  headSlots: ArrayLike<number>; // (layers, slotsStride)
  score: ArrayLike<number>; // (numSlots)
  stamp: ArrayLike<number>; // (numSlots)
}

/** loads (layers * kvHeads). */
export function headLoadRef(a: HeadLoadRefArgs): Float64Array {
  const state: PolicyState = { score: Float64Array.from(a.score), stamp: Float64Array.from(a.stamp), history: new Float64Array(1) };
  const loads = new Float64Array(a.layers * a.kvHeads);
  for (let l = 0; l < a.layers; l++) {
    for (let g = 0; g < a.kvHeads; g++) {
      const slots: number[] = [];
      const positions: number[] = [];
      for (let s = 0; s < Math.min(a.headSlots[l * a.slotsStride + g], a.maxPages * a.pageSize); s++) {
        const slot = a.blockTables[l * a.tableStride + g * a.maxPages + Math.floor(s / a.pageSize)] * a.pageSize + (s % a.pageSize);
        if (a.slotPos[slot] < 0) continue;
        slots.push(slot);
        positions.push(a.slotPos[slot]);
      }
      const head: HeadSlots = { layer: l, kvHead: g, slots: Int32Array.from(slots), positions: Int32Array.from(positions), length: slots.length };
      const scores = new Float64Array(head.length);
      crystalScore(state, head, a.t, a.lambda, scores);
      let load = 0;
      for (let i = 0; i < head.length; i++) if (head.positions[i] >= a.protectBelow) load += scores[i];
      loads[l * a.kvHeads + g] = load;
    }
  }
  return loads;
}
