import { describe, expect, test } from 'vitest';
import { createBufferFrom, readF32, UNIFORM } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { headLoad } from '../../src/kernels/head-load.ts';
import { headLoadRef } from '../../src/kernels/head-load.ref.ts';
import { expectClose, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { modelPagedGeometry, modelTables } from '../helpers/paged-fixture.ts';

// Counts of whole steps: exact.
const TOL = { atol: 0, rtol: 0 };
const WINDOW = 32;

interface Case {
  lengths: number[][]; // [layer][kvHead] logical slots in use
  pageSize: number;
  holeRate: number;
  protectBelow: number;
  wg?: number;
}

const cases: Case[] = [
  { lengths: [[1]], pageSize: 16, holeRate: 0, protectBelow: 0 },
  { lengths: [[17, 15], [16, 0], [40, 3]], pageSize: 16, holeRate: 0.2, protectBelow: 0 },
  { lengths: [[100, 33, 64, 7, 130]], pageSize: 16, holeRate: 0.1, protectBelow: 50, wg: 32 },
  { lengths: [[9, 10], [11, 12], [13, 14], [150, 1]], pageSize: 5, holeRate: 0.3, protectBelow: 20 },
];

describe('head-load', () => {
  cases.forEach((c, ci) => {
    test(`layers ${c.lengths.length} kvHeads ${c.lengths[0].length} pageSize ${c.pageSize} protectBelow ${c.protectBelow}${c.wg ? ` wg ${c.wg}` : ''}`, async () => {
      const gpu = await testGpu();
      const dev = gpu.device;
      const rand = seededRandom(500 + ci);
      const layers = c.lengths.length;
      const kvHeads = c.lengths[0].length;
      // Every head's pages, plus spares, shuffled: pages not owned by the head must never be read.
      const geo = modelPagedGeometry(rand, layers, kvHeads, c.lengths.flat(), c.pageSize);
      const { maxPages, tableStride, slotsStride, numSlots } = geo;
      const { blockTables, headSlots, phys } = modelTables(geo, c.lengths);
      const t = 400;
      // Unowned slots hold valid positions and live stamps: reading one changes a load.
      const slotPos = Int32Array.from({ length: numSlots }, () => Math.floor(rand() * t));
      const stamp = new Float32Array(numSlots).fill(t);
      for (let l = 0; l < layers; l++) {
        for (let g = 0; g < kvHeads; g++) {
          for (let s = 0; s < c.lengths[l][g]; s++) {
            const slot = phys(l, g, s);
            slotPos[slot] = rand() < c.holeRate ? -1 : Math.floor(rand() * t);
            // Last hits around the window's edge (t - 32 is live, t - 33 is not), some long ago.
            stamp[slot] = t - (rand() < 0.8 ? Math.floor(rand() * 40) : Math.floor(rand() * 300));
          }
        }
      }
      const loads = createBufferFrom(dev, 'loads', new Float32Array(layers * kvHeads).fill(-1));
      const d = headLoad(gpu, {
        window: WINDOW,
        layers,
        kvHeads,
        pageSize: c.pageSize,
        maxPages,
        tableStride,
        slotsStride,
        params: createBufferFrom(dev, 'params', new Uint32Array([c.protectBelow, t, 0, 0]), UNIFORM),
        slotPos: createBufferFrom(dev, 'slotPos', slotPos),
        blockTable: createBufferFrom(dev, 'blockTables', blockTables),
        headSlots: createBufferFrom(dev, 'headSlots', headSlots),
        stamp: createBufferFrom(dev, 'stamp', stamp),
        loads,
        wg: c.wg,
      });
      await runDispatches(gpu, [d], 1);
      const got = await readF32(dev, loads, layers * kvHeads);
      const want = headLoadRef({
        window: WINDOW, layers, kvHeads, pageSize: c.pageSize, maxPages, tableStride, slotsStride,
        protectBelow: c.protectBelow, t, slotPos, blockTable: blockTables, headSlots, stamp,
      });
      expectClose('loads', got, want, TOL);
      // Heads differ (the data is not uniform); an empty head has load 0.
      expect(new Set(Array.from(want)).size).toBeGreaterThan(Math.min(2, want.length - 1));
    });
  });
});
