/**
 * Compaction: when a head's budget shrinks (crystal re-divides budgets), its survivors are
 * gathered into its first ceil(n / pageSize) logical pages and the pages after them go back to
 * the pool, where a head whose budget grew takes them (DESIGN.md section 3: no compaction in the
 * hot loop; only when a budget shrinks). Plain bookkeeping, shared by both engines: it returns the
 * move list, and the kv-compact kernel (or its CPU reference) copies K, V and the per-slot state.
 *
 * Which entries move: the survivors at logical slots >= n, in order, into the holes below n, in
 * order. Sources and destinations are disjoint, so every move can run at once.
 */
import { assert } from '../assert.ts';
import { physicalSlot, type KvLayout } from './kv-layout.ts';
import { releasePage } from './page-pool.ts';

/**
 * Gathers head (layer, kvHead)'s n entries into logical slots 0..n-1 and frees the pages after
 * ceil(n / pageSize). Updates pages, block table, headSlots, holes and slotPos (mirroring what
 * the kernel writes); appends the moves to `moves` as [from, to] physical slot pairs.
 */
export function compactHead(layout: KvLayout, layer: number, kvHead: number, moves: number[] = []): number[] {
  const g = layout.geometry;
  const head = layer * g.numKvHeads + kvHead;
  const slotsIndex = layer * g.headSlotsLayerStride + kvHead;
  const n = layout.count[head];
  const used = layout.headSlots[slotsIndex];
  const holes: number[] = [];
  const tail: number[] = [];
  for (let s = 0; s < used; s++) {
    const empty = layout.slotPos[physicalSlot(layout, layer, kvHead, s)] < 0;
    if (s < n && empty) holes.push(s);
    if (s >= n && !empty) tail.push(s);
  }
  assert(holes.length === tail.length, `head (${layer}, ${kvHead}): ${tail.length} entries past slot ${n} for ${holes.length} holes`);
  for (let i = 0; i < tail.length; i++) {
    const from = physicalSlot(layout, layer, kvHead, tail[i]);
    const to = physicalSlot(layout, layer, kvHead, holes[i]);
    layout.slotPos[to] = layout.slotPos[from];
    layout.slotPos[from] = -1;
    moves.push(from, to);
  }
  const pages = layout.pages[head];
  const keep = Math.ceil(n / g.pageSize);
  const table = layer * g.tableLayerStride + kvHead * g.maxPagesPerHead;
  for (let p = keep; p < pages.length; p++) {
    releasePage(layout.pool, pages[p]);
    layout.blockTables[table + p] = 0;
  }
  pages.length = Math.min(pages.length, keep);
  layout.headSlots[slotsIndex] = n;
  layout.holes[head] = [];
  return moves;
}

/**
 * Compacts every head that holds more pages than its limit needs (ceil(limit / pageSize)): the
 * heads whose budget shrank. Afterwards head h holds at most ceil(limit_h / pageSize) pages, so a
 * pool of sum_h ceil(limit_h / pageSize) pages always suffices (kv/budget.ts budgetPages).
 * Returns the moves, (count, 2) [from, to] physical slots.
 */
export function compactHeads(layout: KvLayout, limits: ArrayLike<number>): Uint32Array {
  const g = layout.geometry;
  const moves: number[] = [];
  for (let l = 0; l < g.numLayers; l++) {
    for (let h = 0; h < g.numKvHeads; h++) {
      const head = l * g.numKvHeads + h;
      assert(layout.count[head] <= limits[head], `head (${l}, ${h}) holds ${layout.count[head]} entries over its limit ${limits[head]}`);
      if (layout.pages[head].length > Math.ceil(limits[head] / g.pageSize)) compactHead(layout, l, h, moves);
    }
  }
  return Uint32Array.from(moves);
}
