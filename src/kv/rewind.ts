/**
 * A chat's next turn continues the cached sequence: the entries of the prefix it shares with the
 * previous sequence stay, everything after (the earlier turn's think and answer) is freed, and only
 * the new tokens are prefilled. Both engines' caches do it through the KvStore port.
 */
import { assert } from '../assert.ts';
import { physicalSlot, type KvGeometry, type KvLayout } from './kv-layout.ts';
import { createPagePool } from './page-pool.ts';
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
 * Pages the pool needs to continue the sequence from `keep` with `tokens` new entries in every
 * head before the prompt cut (asked before dropFrom changes anything): a head refills its holes
 * first, then grows by pages. Null when a head would pass its block table.
 */
export function continuationPages(layout: KvLayout, keep: number, tokens: number): number | null {
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
      if (need > g.maxPagesPerHead) return null;
      pages += need;
    }
  }
  return pages;
}

/**
 * The same layout over a larger pool (numPages from `g`): pages, tables and slot positions are
 * kept, the new pages are free. What a cache grown for a chat's longer next prompt starts from.
 */
export function grownLayout(layout: KvLayout, g: KvGeometry): KvLayout {
  const old = layout.geometry;
  assert(g.numPages >= old.numPages && g.maxPagesPerHead === old.maxPagesPerHead && g.pageSize === old.pageSize, 'a layout only grows by pages');
  const pool = createPagePool(g.numPages);
  pool.free = [...pool.free.slice(0, g.numPages - old.numPages), ...layout.pool.free]; // the old free pages go first
  pool.used.set(layout.pool.used);
  const slotPos = new Int32Array(g.numPages * g.pageSize).fill(-1);
  slotPos.set(layout.slotPos);
  return { ...layout, geometry: g, pool, slotPos };
}
