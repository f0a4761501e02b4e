/**
 * CPU reference of head-load.wgsl: gathers each head like src/policies/evictor.ts and counts the
 * live entries the budget counts (stamp >= t - window): what evictor.ts rebalance computes.
 */
import { headEntries } from './head-entries.ref.ts';

export interface HeadLoadRefArgs {
  window: number;
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
  stamp: ArrayLike<number>; // (numSlots)
}

/** loads (layers * kvHeads). */
export function headLoadRef(a: HeadLoadRefArgs): Float64Array {
  const loads = new Float64Array(a.layers * a.kvHeads);
  for (let l = 0; l < a.layers; l++) {
    for (let g = 0; g < a.kvHeads; g++) {
      const head = headEntries({
        blockTable: a.blockTables,
        tableBase: l * a.tableStride,
        used: a.headSlots[l * a.slotsStride + g],
        slotPos: a.slotPos,
        g,
        maxPages: a.maxPages,
        pageSize: a.pageSize,
      });
      let load = 0;
      for (let i = 0; i < head.length; i++) if (head.positions[i] >= a.protectBelow && a.stamp[head.slots[i]] >= a.t - a.window) load++;
      loads[l * a.kvHeads + g] = load;
    }
  }
  return loads;
}
