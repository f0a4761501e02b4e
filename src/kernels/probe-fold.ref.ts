/**
 * CPU reference of probe-fold.wgsl, in f64: what the CPU engine's admit and observeProbe
 * (policies/cpu-chooser.ts, probe.ts foldProbe) do to the probe scores over one step, given the
 * step's attention rows and where its probe blocks sit (step.wgsl).
 */
import { pagedSlot } from './paged-slot.ref.ts';

export interface ProbeFoldRefArgs {
  heads: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  decay: number;
  rows: number;
  posStart: number;
  realRows: number;
  answerRows: number;
  probs: ArrayLike<number>; // (rows, heads, maxPages * pageSize)
  slotPos: ArrayLike<number>; // (numSlots)
  blockTable: ArrayLike<number>; // (kvHeads, maxPages): this layer's slice
  headSlots: ArrayLike<number>; // (kvHeads): this layer's slice
  probe: Float64Array; // (numSlots) updated in place
}

export function probeFoldRef(a: ProbeFoldRefArgs): void {
  const maxSlots = a.maxPages * a.pageSize;
  const group = a.heads / a.kvHeads;
  const answerEnd = a.realRows + a.answerRows;
  const blocks = [
    [a.realRows, answerEnd],
    [answerEnd, a.rows],
  ].filter(([first, end]) => end > first);
  for (let g = 0; g < a.kvHeads; g++) {
    for (let s = 0; s < Math.min(a.headSlots[g], maxSlots); s++) {
      const phys = pagedSlot(a.blockTable, g * a.maxPages, a.pageSize, s);
      if (a.slotPos[phys] < 0) continue;
      let value = a.slotPos[phys] >= a.posStart ? 0 : a.probe[phys];
      // policies/probe.ts foldProbe, block by block (kernels sit below the policies, so not imported).
      for (const [first, end] of blocks) {
        let seen = 0;
        for (let t = first; t < end; t++) {
          let sum = 0;
          for (let h = g * group; h < (g + 1) * group; h++) sum += a.probs[(t * a.heads + h) * maxSlots + s];
          seen = Math.max(seen, sum);
        }
        value = Math.max(a.decay * value, seen);
      }
      a.probe[phys] = value;
    }
  }
}
