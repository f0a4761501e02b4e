/**
 * CPU reference of head-load.wgsl: gathers each head like src/policies/evictor.ts and counts the
 * live entries the budget counts (stamp >= t - window): what evictor.ts rebalance computes.
 */

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
      let load = 0;
      for (let s = 0; s < Math.min(a.headSlots[l * a.slotsStride + g], a.maxPages * a.pageSize); s++) {
        const slot = a.blockTables[l * a.tableStride + g * a.maxPages + Math.floor(s / a.pageSize)] * a.pageSize + (s % a.pageSize);
        if (a.slotPos[slot] >= 0 && a.slotPos[slot] >= a.protectBelow && a.stamp[slot] >= a.t - a.window) load++;
      }
      loads[l * a.kvHeads + g] = load;
    }
  }
  return loads;
}
