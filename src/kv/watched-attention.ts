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
}

export function watchedAttention(
  layout: KvLayout,
  layer: number,
  numHeads: number,
  probs: ArrayLike<number>, // (heads, slots) the last query row's attention by logical slot
  slots: number, // the row's stride: maxPagesPerHead * pageSize
): WatchedAttention {
  const g = layout.geometry;
  const group = numHeads / g.numKvHeads;
  const positions: Int32Array[] = [];
  const attention: Float32Array[] = [];
  for (let h = 0; h < g.numKvHeads; h++) {
    const used = layout.headSlots[layer * g.headSlotsLayerStride + h];
    const pos: number[] = [];
    const att: number[] = [];
    for (let s = 0; s < used; s++) {
      const p = layout.slotPos[physicalSlot(layout, layer, h, s)];
      if (p < 0) continue; // a hole
      let sum = 0;
      for (let q = 0; q < group; q++) sum += probs[(h * group + q) * slots + s];
      pos.push(p);
      att.push(sum / group);
    }
    positions.push(Int32Array.from(pos));
    attention.push(Float32Array.from(att));
  }
  return { layer, positions, attention };
}
