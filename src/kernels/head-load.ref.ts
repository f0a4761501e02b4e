/**
 * CPU reference of head-load.wgsl: gathers each head like src/policies/cpu-chooser.ts and counts the
 * live entries the budget counts (stamp >= t - window): what the CPU chooser's loads() computes (policies/cpu-chooser.ts).
 */
import type { ModelTables } from './model-tables.ts';
import { layerHeadEntries } from './head-entries.ref.ts';

export interface HeadLoadRefArgs extends ModelTables<ArrayLike<number>> {
  window: number;
  protectBelow: number;
  t: number;
  stamp: ArrayLike<number>; // (numSlots)
}

/** loads (layers * kvHeads). */
export function headLoadRef(a: HeadLoadRefArgs): Float64Array {
  const loads = new Float64Array(a.layers * a.kvHeads);
  for (let l = 0; l < a.layers; l++) {
    for (let g = 0; g < a.kvHeads; g++) {
      const head = layerHeadEntries(a, l, g);
      let load = 0;
      for (let i = 0; i < head.length; i++) if (head.positions[i] >= a.protectBelow && a.stamp[head.slots[i]] >= a.t - a.window) load++;
      loads[l * a.kvHeads + g] = load;
    }
  }
  return loads;
}
