import { describe, expect, test } from 'vitest';
import { createBufferFrom, readU32, UNIFORM } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { NO_CANDIDATE, NOT_FULL } from '../../src/kernels/eviction-rules.ts';
import { selectModel } from '../../src/kernels/select-model.ts';
import { rankScratchWords } from '../../src/kernels/position-rank.ts';
import { selectModelRef } from '../../src/kernels/select-model.ref.ts';
import { createLaprox } from '../../src/policies/laprox.ts';
import { seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { gpuRuleOf } from '../helpers/gpu-rule.ts';
import { modelPagedGeometry, modelTables } from '../helpers/paged-fixture.ts';

// The victims are choices, so they must match exactly. History and value norms are random f32, so
// distinct pooled / mean ratios differ by far more than f32 rounding (~1e-6 relative); heads that
// are copies of another (same positions, slots, history and norms) give exact ties, which both
// sides break by position, then (layer, head).
const PAGE_SIZE = 16;

interface Case {
  name: string;
  layers: number;
  kvHeads: number;
  lengths: number; // logical slots per head (each head a little fewer or more)
  sinks: number;
  recent: number;
  protectBelow: number;
  window: number;
  pool: number;
  cap: number;
  evict: number;
  holeRate: number;
  copies?: boolean; // head (l, 1) is a copy of head (l, 0)
  duplicates?: boolean; // some positions held twice in a head: ranks (position, slot), cuts with multiplicity
  wg?: number;
}

const cases: Case[] = [
  { name: 'decode: evict 8 of 4 layers x 2 heads, recent 16', layers: 4, kvHeads: 2, lengths: 60, sinks: 0, recent: 16, protectBelow: 0,
    window: 32, pool: 7, cap: 8, evict: 8, holeRate: 0.1 },
  { name: 'fewer than cap, copied heads tie, sinks 2, protectBelow 30', layers: 3, kvHeads: 2, lengths: 45, sinks: 2, recent: 4, protectBelow: 30,
    window: 8, pool: 5, cap: 9, evict: 6, holeRate: 0.15, copies: true },
  { name: 'evict more than cap (a cut round), wg 32', layers: 2, kvHeads: 2, lengths: 40, sinks: 0, recent: 8, protectBelow: 0, window: 4,
    pool: 7, cap: 20, evict: 50, holeRate: 0.05, wg: 32 },
  { name: 'candidates run out: NO_CANDIDATE', layers: 2, kvHeads: 1, lengths: 12, sinks: 1, recent: 6, protectBelow: 0, window: 4, pool: 3,
    cap: 12, evict: 12, holeRate: 0 },
  { name: 'positions held twice in a head, sinks 3', layers: 2, kvHeads: 2, lengths: 40, sinks: 3, recent: 6, protectBelow: 0, window: 4,
    pool: 5, cap: 10, evict: 10, holeRate: 0.1, duplicates: true },
  { name: 'nothing to evict', layers: 2, kvHeads: 2, lengths: 20, sinks: 0, recent: 4, protectBelow: 0, window: 4, pool: 7, cap: 4, evict: 0,
    holeRate: 0.1 },
];

describe('select-model', () => {
  cases.forEach((c, ci) => {
    test(c.name, async () => {
      const gpu = await testGpu();
      const rand = seededRandom(1700 + ci);
      const randInt = (n: number) => Math.floor(rand() * n);
      const lengths = Array.from({ length: c.layers * c.kvHeads }, () => c.lengths + randInt(9) - 4);
      const geo = modelPagedGeometry(rand, c.layers, c.kvHeads, lengths, PAGE_SIZE);
      const { maxPages, tableStride, slotsStride, numSlots } = geo;
      // Head (l, 1) of the copies case is a copy of head (l, 0): the same length too.
      const layerLengths = Array.from({ length: c.layers }, (_, l) => lengths.slice(l * c.kvHeads, (l + 1) * c.kvHeads));
      if (c.copies) for (const layer of layerLengths) layer[1] = layer[0];
      const { blockTables, headSlots, phys } = modelTables(geo, layerLengths);
      const W = c.window;
      // Unowned slots look valid and score lowest: reading one changes a choice.
      const slotPos = new Int32Array(numSlots).map(() => randInt(500));
      const history = new Float32Array(numSlots * W);
      const stamp = new Float32Array(numSlots).fill(1e-3);
      for (let l = 0; l < c.layers; l++) {
        for (let h = 0; h < c.kvHeads; h++) {
          const copy = c.copies && h === 1;
          const len = layerLengths[l][h];
          const positions = Array.from({ length: 500 }, (_, i) => i).sort(() => rand() - 0.5);
          for (let s = 0; s < len; s++) {
            const slot = phys(l, h, s);
            if (copy) {
              const src = phys(l, 0, s);
              slotPos[slot] = slotPos[src];
              stamp[slot] = stamp[src];
              history.copyWithin(slot * W, src * W, (src + 1) * W);
              continue;
            }
            if (rand() < c.holeRate) {
              slotPos[slot] = -1;
              continue;
            }
            const earlier = c.duplicates && s > 0 ? slotPos[phys(l, h, randInt(s))] : -1;
            slotPos[slot] = c.duplicates && earlier >= 0 && rand() < 0.25 ? earlier : positions.pop()!;
            stamp[slot] = 0.5 + rand() * 3;
            for (let r = 0; r < W; r++) history[slot * W + r] = rand() < 0.2 ? 0 : rand() * rand();
          }
        }
      }

      // LaProx's GPU rule (gpu.victim: 'model' and its POOL) and its score, the rule's CPU mirror.
      const laprox = createLaprox({ window: W, pool: c.pool, recent: c.recent });
      const dev = gpu.device;
      const victims = createBufferFrom(dev, 'victims', new Uint32Array(2 * c.cap).fill(12345));
      const d = selectModel(gpu, {
        layers: c.layers,
        kvHeads: c.kvHeads,
        pageSize: PAGE_SIZE,
        maxPages,
        tableStride,
        slotsStride,
        sinks: c.sinks,
        recent: c.recent,
        window: W,
        rule: gpuRuleOf(laprox).victim!,
        cap: c.cap,
        params: createBufferFrom(dev, 'params', new Uint32Array([c.protectBelow, 0, 0, c.evict]), UNIFORM),
        slotPos: createBufferFrom(dev, 'slotPos', slotPos),
        blockTable: createBufferFrom(dev, 'blockTables', blockTables),
        headSlots: createBufferFrom(dev, 'headSlots', headSlots),
        history: createBufferFrom(dev, 'history', history),
        stamp: createBufferFrom(dev, 'stamp', stamp),
        score: createBufferFrom(dev, 'score', new Float32Array(numSlots)),
        victims,
        order: createBufferFrom(dev, 'order', new Uint32Array(numSlots).fill(7)),
        positions: 500,
        rankScratch: createBufferFrom(dev, 'rankScratch', new Uint32Array(rankScratchWords(500)).fill(0xa5a5a5a5)),
        wg: c.wg,
      });
      await runDispatches(gpu, [d], 1);
      const scoreOf = laprox.score;
      const want = selectModelRef({ ...c, scoreOf, pageSize: PAGE_SIZE, maxPages, tableStride, slotsStride, slotPos, blockTable: blockTables, headSlots, history, stamp });
      const got = await readU32(dev, victims, want.length);
      expect(Array.from(got)).toEqual(Array.from(want));
      // The data exercises what it claims.
      const chosen = Array.from(want).filter((_, i) => i % 2 === 0 && want[i] < NO_CANDIDATE);
      if (c.evict === 0) expect(Array.from(want)).toEqual([NOT_FULL]);
      else expect(new Set(chosen.map((h) => Math.floor(h / c.kvHeads))).size).toBeGreaterThan(1); // choices across layers
      if (c.name.startsWith('candidates run out')) expect(want).toContain(NO_CANDIDATE);
      if (c.copies) {
        // Every choice ties with the copy in the other head: head 0's goes first, head 1's only after it.
        const pairs = Array.from({ length: chosen.length }, (_, k) => [want[2 * k], want[2 * k + 1]]);
        expect(pairs.some(([h]) => h % 2 === 0)).toBe(true);
        pairs.forEach(([h, s], k) => {
          if (h % 2 === 1) expect(pairs.slice(0, k).some(([h0, s0]) => h0 === h - 1 && s0 === s)).toBe(true);
        });
      }
    });
  });
});
