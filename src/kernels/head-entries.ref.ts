/**
 * The kernel references' view of one KV head in a paged table: its valid entries in logical
 * order, as the GPU kernels walk them (slot s at pagedSlot(blockTable, g * maxPages, pageSize, s);
 * slotPos < 0 is empty).
 */
import type { ModelTables } from './model-tables.ts';
import { pagedSlot } from './paged-slot.ref.ts';
import type { HeadSlots, PolicyState } from './policy-state.ts';

/**
 * A policy's score, as the references take it (an EvictionPolicy's `score` fits): the scores of
 * the head's valid entries at step `position`, lowest evicted first.
 */
export type ScoreFn = (state: PolicyState, head: HeadSlots, position: number, out: Float64Array) => void;

export interface HeadEntries extends HeadSlots {
  logical: Int32Array; // logical slot of each entry
}

export interface HeadEntriesArgs {
  blockTable: ArrayLike<number>; // (kvHeads, maxPages) from tableBase: one layer's table
  tableBase?: number; // where the layer's table starts in blockTable (default 0)
  used: number; // logical slots in use (headSlots[g])
  slotPos: ArrayLike<number>; // (numSlots)
  g: number;
  maxPages: number;
  pageSize: number;
  skip?: (slot: number) => boolean; // entries to leave out (victims already chosen)
  layer?: number;
}

/** Head g of layer l in every layer's tables (the model-wide kernels' view). */
export function layerHeadEntries(t: ModelTables<ArrayLike<number>>, l: number, g: number, skip?: (slot: number) => boolean): HeadEntries {
  return headEntries({
    blockTable: t.blockTable,
    tableBase: l * t.tableStride,
    used: t.headSlots[l * t.slotsStride + g],
    slotPos: t.slotPos,
    g,
    maxPages: t.maxPages,
    pageSize: t.pageSize,
    skip,
    layer: l,
  });
}

export function headEntries(a: HeadEntriesArgs): HeadEntries {
  const base = (a.tableBase ?? 0) + a.g * a.maxPages;
  const slots: number[] = [];
  const positions: number[] = [];
  const logical: number[] = [];
  for (let s = 0; s < Math.min(a.used, a.maxPages * a.pageSize); s++) {
    const slot = pagedSlot(a.blockTable, base, a.pageSize, s);
    if (a.slotPos[slot] < 0 || a.skip?.(slot)) continue;
    slots.push(slot);
    positions.push(a.slotPos[slot]);
    logical.push(s);
  }
  return {
    layer: a.layer ?? 0,
    kvHead: a.g,
    slots: Int32Array.from(slots),
    positions: Int32Array.from(positions),
    logical: Int32Array.from(logical),
    length: slots.length,
  };
}
