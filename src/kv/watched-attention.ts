/**
 * One layer's attention, as the page's heatmap reads it: for each KV head, the positions it holds
 * and the attention each received from the step's last query, averaged over the group's query
 * heads. Both engines keep the same host layout, so both build it here from their probs row.
 */
import { physicalSlot, type KvLayout } from './kv-layout.ts';

export interface WatchedAttention {
  layer: number;
  /** Per KV head: the positions held, in the head's logical order. */
  positions: Int32Array[];
  /** Per KV head: the attention each entry received, the mean over the group's query heads. */
  attention: Float32Array[];
  /**
   * Per KV head, with a policy that runs the answer-first probe (policies/probe.ts): each entry's
   * probe score as the step's query found it (what the probe has marked so far; 0 for the step's
   * own new entries).
   */
  probe?: Float32Array[];
}

export function watchedAttention(
  layout: KvLayout,
  layer: number,
  numHeads: number,
  probs: ArrayLike<number>, // (heads, slots) the last query row's attention by logical slot
  slots: number, // the row's stride: maxPagesPerHead * pageSize
  probeScores?: { bySlot: ArrayLike<number>; newFrom: number }, // (numSlots) probe scores by physical slot; entries at newFrom.. are the step's own
): WatchedAttention {
  const g = layout.geometry;
  const group = numHeads / g.numKvHeads;
  const positions: Int32Array[] = [];
  const attention: Float32Array[] = [];
  const probe: Float32Array[] = [];
  for (let h = 0; h < g.numKvHeads; h++) {
    const used = layout.headSlots[layer * g.headSlotsLayerStride + h];
    const pos: number[] = [];
    const att: number[] = [];
    const marks: number[] = [];
    for (let s = 0; s < used; s++) {
      const slot = physicalSlot(layout, layer, h, s);
      const p = layout.slotPos[slot];
      if (p < 0) continue; // a hole
      let sum = 0;
      for (let q = 0; q < group; q++) sum += probs[(h * group + q) * slots + s];
      pos.push(p);
      att.push(sum / group);
      if (probeScores) marks.push(p >= probeScores.newFrom ? 0 : probeScores.bySlot[slot]);
    }
    positions.push(Int32Array.from(pos));
    attention.push(Float32Array.from(att));
    probe.push(Float32Array.from(marks));
  }
  return probeScores ? { layer, positions, attention, probe } : { layer, positions, attention };
}
