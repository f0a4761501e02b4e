import { describe, expect, test } from 'vitest';
import { appendTokens, createKvLayout, kvGeometry, physicalSlot } from '../../src/kv/kv-layout.ts';
import { pagedSlot } from '../../src/kernels/paged-slot.ref.ts';

describe('paged KV bookkeeping (full cache)', () => {
  const g = kvGeometry({ numLayers: 2, numKvHeads: 3, headDim: 8, pageSize: 4, capacityPerHead: 10, maxStepTokens: 5 });

  test('geometry: pages per head and 256-byte aligned layer strides', () => {
    expect(g.maxPagesPerHead).toBe(3);
    expect(g.numPages).toBe(18);
    for (const s of [g.tableLayerStride, g.headSlotsLayerStride, g.slotMapLayerStride]) expect(s % 64).toBe(0);
  });

  test('appending fills each head page by page; every slot is distinct and records its position', () => {
    const layout = createKvLayout(g);
    const maps = [appendTokens(layout, 0, 5), appendTokens(layout, 5, 1), appendTokens(layout, 6, 4)];
    const seen = new Set<number>();
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 3; h++) {
        expect(layout.headSlots[l * g.headSlotsLayerStride + h]).toBe(10);
        expect(layout.pages[l * 3 + h]).toHaveLength(3);
        for (let s = 0; s < 10; s++) {
          const slot = physicalSlot(layout, l, h, s);
          expect(layout.slotPos[slot]).toBe(s);
          expect(seen.has(slot)).toBe(false);
          seen.add(slot);
          // the block table the kernel reads agrees with the host's page list
          expect(pagedSlot(layout.blockTables, l * g.tableLayerStride + h * g.maxPagesPerHead, 4, s)).toBe(slot);
        }
      }
    }
    // slot maps point at the slot holding each token
    expect(layout.slotPos[maps[0][1 * g.slotMapLayerStride + 3 * 3 + 2]]).toBe(3);
    expect(layout.slotPos[maps[2][0 * g.slotMapLayerStride + 1 * 3 + 1]]).toBe(7);
  });

  test('a head past its capacity and a step over the tile are refused', () => {
    const layout = createKvLayout(g);
    expect(() => appendTokens(layout, 0, 6)).toThrow(/tile/);
    appendTokens(layout, 0, 5);
    appendTokens(layout, 5, 5);
    expect(() => appendTokens(layout, 10, 3)).toThrow(/full/);
  });
});

describe('eviction leaves holes that the next token of that head reuses', () => {
  const g = kvGeometry({ numLayers: 1, numKvHeads: 2, headDim: 8, pageSize: 4, capacityPerHead: 8, maxStepTokens: 8 });
  test('evict then append', async () => {
    const { evictSlot } = await import('../../src/kv/kv-layout.ts');
    const layout = createKvLayout(g);
    appendTokens(layout, 0, 6);
    evictSlot(layout, 0, 1, 2); // head 1 loses position 2
    expect(layout.count[1]).toBe(5);
    expect(layout.slotPos[physicalSlot(layout, 0, 1, 2)]).toBe(-1);
    expect(() => evictSlot(layout, 0, 1, 2)).toThrow(/already empty/);
    const map = appendTokens(layout, 6, 1);
    // head 1 writes position 6 into the hole; head 0 grows to logical slot 6
    expect(map[1]).toBe(physicalSlot(layout, 0, 1, 2));
    expect(layout.slotPos[physicalSlot(layout, 0, 1, 2)]).toBe(6);
    expect(layout.headSlots[1]).toBe(6);
    expect(layout.headSlots[0]).toBe(7);
    expect([layout.count[0], layout.count[1]]).toEqual([7, 6]);
  });
});
