/**
 * A chat's next turn continues the cached sequence: the entries of the prefix it shares with the
 * previous sequence stay, everything after (the earlier turn's think and answer) is freed, and only
 * the new tokens are prefilled. Both engines' caches do it through the KvStore port.
 */
import { physicalSlot, type KvLayout } from './kv-layout.ts';
import type { KvStore } from './kv-store.ts';

/**
 * Frees every entry at a position >= `keep`. Each head's highest logical slot goes first, so the
 * holes are refilled in logical order (appendTokens pops the last one freed): with the full cache
 * the continued sequence has a fresh prefill's layout, and its attention sums in the same order.
 */
export function dropFrom(store: KvStore, keep: number): void {
  const layout = store.layout;
  const g = layout.geometry;
  for (let l = 0; l < g.numLayers; l++) {
    for (let h = 0; h < g.numKvHeads; h++) {
      for (let s = layout.headSlots[l * g.headSlotsLayerStride + h] - 1; s >= 0; s--) {
        if (layout.slotPos[physicalSlot(layout, l, h, s)] >= keep) store.evict(l, h, s);
      }
    }
  }
}

/**
 * Whether the pool can continue the sequence from `keep` with `tokens` new entries in every head
 * before the prompt cut (asked before dropFrom changes anything): a head refills its holes first,
 * then grows by pages, and never past its block table.
 */
export function fitsContinuation(layout: KvLayout, keep: number, tokens: number): boolean {
  const g = layout.geometry;
  let pages = 0;
  for (let l = 0; l < g.numLayers; l++) {
    for (let h = 0; h < g.numKvHeads; h++) {
      const used = layout.headSlots[l * g.headSlotsLayerStride + h];
      let kept = 0;
      for (let s = 0; s < used; s++) {
        const p = layout.slotPos[physicalSlot(layout, l, h, s)];
        if (p >= 0 && p < keep) kept++;
      }
      const need = Math.max(layout.pages[l * g.numKvHeads + h].length, Math.ceil(Math.max(used, kept + tokens) / g.pageSize));
      if (need > g.maxPagesPerHead) return false;
      pages += need;
    }
  }
  return pages <= g.numPages;
}
