import { describe, expect, test } from 'vitest';
import { sequenceGeometry } from '../../src/model/forward-backend.ts';
import { budgetPages } from '../../src/kv/budget.ts';
import { compactHead, compactHeads } from '../../src/kv/compact.ts';
import { appendTokens, createKvLayout, evictSlot, kvBytes, kvGeometry, physicalSlot, type KvLayout } from '../../src/kv/kv-layout.ts';
import { reallocateBudgets } from '../../src/policies/reallocate.ts';
import { seededRandom } from '../helpers/close.ts';

/** Positions held by head (l, h), in logical order (holes skipped). */
function positions(layout: KvLayout, l: number, h: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < layout.headSlots[l * layout.geometry.headSlotsLayerStride + h]; s++) {
    const p = layout.slotPos[physicalSlot(layout, l, h, s)];
    if (p >= 0) out.push(p);
  }
  return out;
}

describe('compaction gathers a shrunk head into its first pages and frees the rest', () => {
  const g = kvGeometry({ numLayers: 1, numKvHeads: 2, headDim: 4, pageSize: 4, capacityPerHead: 16, maxStepTokens: 16 });

  test('a hand-worked head: 14 entries, 9 evicted, 5 survivors into page 0 and one slot of page 1', () => {
    const layout = createKvLayout(g);
    appendTokens(layout, 0, 14); // both heads: logical slots 0..13 = positions 0..13, 4 pages each
    for (const s of [0, 2, 3, 5, 6, 8, 9, 10, 12]) evictSlot(layout, 0, 1, s);
    const pagesBefore = [...layout.pages[1]];
    const freeBefore = layout.pool.free.length;
    const slot = (s: number) => physicalSlot(layout, 0, 1, s);
    // Survivors 1, 4, 7, 11, 13: n = 5, so 7, 11 and 13 (slots >= 5) move into holes 0, 2 and 3.
    const want = [slot(7), slot(0), slot(11), slot(2), slot(13), slot(3)];
    const moves = compactHead(layout, 0, 1);
    expect(moves).toEqual(want);
    expect(positions(layout, 0, 1)).toEqual([7, 1, 11, 13, 4]);
    expect(layout.headSlots[1]).toBe(5);
    expect(layout.holes[1]).toEqual([]);
    expect(layout.pages[1]).toEqual(pagesBefore.slice(0, 2));
    // Pages 2 and 3 are back in the pool; the old source slots are empty.
    expect(layout.pool.free.length).toBe(freeBefore + 2);
    for (const p of pagesBefore.slice(2)) expect(layout.pool.used[p]).toBe(0);
    expect(layout.slotPos[want[0]]).toBe(-1);
    // The block table the kernels read agrees with the page list.
    expect(Array.from(layout.blockTables.subarray(g.maxPagesPerHead, g.maxPagesPerHead + 2))).toEqual(layout.pages[1]);
    // Head 0 is untouched; the next token of head 1 grows from slot 5, head 0 takes a new page.
    expect(positions(layout, 0, 0)).toEqual(Array.from({ length: 14 }, (_, i) => i));
    const map = appendTokens(layout, 14, 1);
    expect(map[1]).toBe(physicalSlot(layout, 0, 1, 5));
    expect(layout.count[1]).toBe(6);
  });

  test('compactHeads touches only heads holding more pages than their limit needs', () => {
    const layout = createKvLayout(g);
    appendTokens(layout, 0, 12); // 3 pages each
    for (const s of [1, 4, 7, 9]) evictSlot(layout, 0, 0, s); // head 0: 8 entries
    for (const s of [1, 4, 7, 9]) evictSlot(layout, 0, 1, s); // head 1: 8 entries
    // Head 0's limit 12 needs 3 pages: kept as is (holes and all). Head 1's limit 8 needs 2.
    const moves = compactHeads(layout, [12, 8]);
    expect(layout.pages[0]).toHaveLength(3);
    expect(layout.holes[0]).toHaveLength(4);
    expect(layout.pages[1]).toHaveLength(2);
    expect(moves.length / 2).toBe(3); // head 1's entries at slots 8, 10, 11 into holes 1, 4, 7
    expect(positions(layout, 0, 1).sort((a, b) => a - b)).toEqual([0, 2, 3, 5, 6, 8, 10, 11]);
    expect(() => compactHeads(layout, [7, 8])).toThrow(/over its limit/);
  });

  test('budgets that move for many rounds never need more pages than budgetPages', () => {
    // A crystal-like run: every R steps the budgets are re-divided by random loads; a head over
    // its new limit evicts random entries, shrunk heads are compacted, then every head appends.
    const heads = { numLayers: 3, numKvHeads: 2 };
    const pageSize = 4;
    for (const [mode, budget, prompt] of [['all', 13, 30], ['all', 9, 5], ['think', 7, 11]] as const) {
      const n = heads.numLayers * heads.numKvHeads;
      const pool = budgetPages({ mode, budget }, prompt, n, pageSize, true);
      const geometry = { ...kvGeometry({ ...heads, headDim: 4, pageSize, capacityPerHead: 400, maxStepTokens: 64 }), numPages: pool };
      const layout = createKvLayout(geometry);
      const rand = seededRandom(prompt);
      const evictDownTo = (head: number, limit: number) => {
        const [l, h] = [Math.floor(head / heads.numKvHeads), head % heads.numKvHeads];
        while (layout.count[head] > limit) {
          const live = [];
          for (let s = 0; s < layout.headSlots[l * geometry.headSlotsLayerStride + h]; s++) {
            const p = layout.slotPos[physicalSlot(layout, l, h, s)];
            if (p >= 0 && (mode === 'all' || p >= prompt)) live.push(s);
          }
          evictSlot(layout, l, h, live[Math.floor(rand() * live.length)]);
        }
      };
      appendTokens(layout, 0, prompt);
      let peak = pool - layout.pool.free.length;
      const base = mode === 'all' ? 0 : prompt;
      let budgets: Int32Array = new Int32Array(n).fill(budget);
      const limits = () => Array.from(budgets, (b) => b + base);
      for (let i = 0; i < n; i++) evictDownTo(i, limits()[i]);
      compactHeads(layout, limits());
      for (let pos = prompt; pos < prompt + 300; pos++) {
        if ((pos - prompt) % 5 === 4) {
          const loads = Float64Array.from({ length: n }, () => rand() ** 3);
          budgets = reallocateBudgets(loads, budgets, heads.numLayers, heads.numKvHeads, 2);
          for (let i = 0; i < n; i++) evictDownTo(i, limits()[i] - 1);
          compactHeads(layout, limits());
        }
        for (let i = 0; i < n; i++) evictDownTo(i, limits()[i] - 1);
        appendTokens(layout, pos, 1); // throws if the pool is exhausted
        peak = Math.max(peak, pool - layout.pool.free.length);
      }
      expect(peak).toBeLessThanOrEqual(pool);
      expect(peak).toBeGreaterThanOrEqual(pool - 1); // and the bound is tight (measured: 48/48, 18/18, 30/31)
    }
  });
});

describe('memory is allocated for the budget, not the context', () => {
  // The bundled model's shape: 4 layers x 2 KV heads, head dim 32, context 1024, pages of 16.
  const base = kvGeometry({ numLayers: 4, numKvHeads: 2, headDim: 32, pageSize: 16, capacityPerHead: 1024, maxStepTokens: 64 });
  const uniform = { granularity: 'head' as const, rebalance: undefined };
  const moving = { granularity: 'head' as const, rebalance: { period: 32, floor: 0.2 } };

  test('full cache: the whole context per head (unchanged)', () => {
    expect(sequenceGeometry(base, null, 100, uniform)).toBe(base);
    expect(kvBytes(base)).toBe(2 * 4 * 2 * 1024 * 32 * 4); // 2 MiB
  });

  test('all mode: max(prompt, budget) per head; think mode: prompt + budget; crystal: the sum of the moving budgets', () => {
    const pages = (spec: { mode: 'all' | 'think'; budget: number }, prompt: number, p: typeof uniform | typeof moving = uniform) =>
      sequenceGeometry(base, spec, prompt, p).numPages;
    expect(pages({ mode: 'all', budget: 96 }, 80)).toBe(8 * 6);
    expect(pages({ mode: 'all', budget: 96 }, 120)).toBe(8 * 8); // the whole prompt before the cut
    expect(pages({ mode: 'think', budget: 64 }, 100)).toBe(8 * 11);
    expect(pages({ mode: 'all', budget: 96 }, 80, moving)).toBe(48 + 7); // sum of ceil(b_h / 16) <= (768 + 8 * 15) / 16
    expect(pages({ mode: 'all', budget: 96 }, 200, moving)).toBe(8 * 13);
    // Never more than the context; the block tables stay context-sized for any head's share.
    expect(pages({ mode: 'all', budget: 2000 }, 80)).toBe(base.numPages);
    expect(sequenceGeometry(base, { mode: 'all', budget: 96 }, 80, moving).maxPagesPerHead).toBe(64);
    // Model-wide eviction (laprox) has no per-head limit: the context.
    expect(sequenceGeometry(base, { mode: 'all', budget: 96 }, 80, { granularity: 'model' })).toBe(base);
  });
});
