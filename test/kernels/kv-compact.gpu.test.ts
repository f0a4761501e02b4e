import { describe, expect, test } from 'vitest';
import { createBufferFrom, readBuffer, readF32, UNIFORM } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { floatToHalf, halfToFloat } from '../../src/gpu/half.ts';
import { kvCompact, kvCompactParams } from '../../src/kernels/kv-compact.ts';
import { kvCompactRef } from '../../src/kernels/kv-compact.ref.ts';
import { compactHeads } from '../../src/kv/compact.ts';
import { appendTokens, createKvLayout, evictSlot, kvGeometry } from '../../src/kv/kv-layout.ts';
import { expectClose, randomArray, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// A copy: every f32 and position must come back exactly (tolerance 0), moved and unmoved slots alike.
const TOL = { atol: 0 };

interface Case {
  layers: number;
  kvHeads: number;
  headDim: number;
  pageSize: number;
  tokens: number; // appended per head before the evictions
  keep: number; // share of entries that survive
  limitShare: number; // new limit / survivors' need: below 1 would be over the limit
  groupsX?: number; // moves per grid row (small: the moves cross rows)
  wg?: number;
}

const cases: Case[] = [
  { layers: 1, kvHeads: 1, headDim: 1, pageSize: 4, tokens: 9, keep: 0.3, limitShare: 1 },
  { layers: 2, kvHeads: 2, headDim: 32, pageSize: 16, tokens: 100, keep: 0.4, limitShare: 1 },
  { layers: 3, kvHeads: 4, headDim: 33, pageSize: 15, tokens: 47, keep: 0.5, limitShare: 1.2 },
  { layers: 2, kvHeads: 1, headDim: 64, pageSize: 17, tokens: 130, keep: 0.2, limitShare: 1, wg: 64 },
  { layers: 4, kvHeads: 2, headDim: 32, pageSize: 16, tokens: 64, keep: 0.3, limitShare: 1, groupsX: 5 },
];

// Each case with f32 pools and with the f16 pairs of 16-bit models (moved as words, exactly).
for (const kvF16 of [false, true]) describe(`kv-compact${kvF16 ? ', f16 pools' : ''}`, () => {
  cases.forEach((c, ci) => {
    if (kvF16 && c.headDim % 2 !== 0) return;
    const label = `layers ${c.layers} kvHeads ${c.kvHeads} headDim ${c.headDim} pageSize ${c.pageSize} tokens ${c.tokens}` +
      (c.groupsX ? ` groupsX ${c.groupsX}` : '') + (c.wg ? ` wg ${c.wg}` : '');
    test(label, async () => {
      const gpu = await testGpu();
      const dev = gpu.device;
      const rand = seededRandom(700 + ci);
      // The moves come from the layout logic: random evictions, then every head compacted to its new limit.
      const g = kvGeometry({ numLayers: c.layers, numKvHeads: c.kvHeads, headDim: c.headDim, pageSize: c.pageSize, capacityPerHead: c.tokens, maxStepTokens: c.tokens });
      const layout = createKvLayout(g);
      // Shuffle the pool so heads get scattered pages.
      for (let i = layout.pool.free.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [layout.pool.free[i], layout.pool.free[j]] = [layout.pool.free[j], layout.pool.free[i]];
      }
      appendTokens(layout, 0, c.tokens);
      const heads = c.layers * c.kvHeads;
      for (let l = 0; l < c.layers; l++) {
        for (let h = 0; h < c.kvHeads; h++) for (let s = 0; s < c.tokens; s++) if (rand() > c.keep) evictSlot(layout, l, h, s);
      }
      const slotPosBefore = layout.slotPos.slice();
      const limits = Array.from({ length: heads }, (_, i) => Math.max(1, Math.ceil(layout.count[i] * c.limitShare)));
      const moves = compactHeads(layout, limits);
      expect(moves.length).toBeGreaterThan(0);

      const numSlots = g.numPages * g.pageSize;
      const k16 = Uint16Array.from(randomArray(numSlots * c.headDim, 11 + ci), floatToHalf);
      const v16 = Uint16Array.from(randomArray(numSlots * c.headDim, 23 + ci), floatToHalf);
      const k = kvF16 ? Float32Array.from(k16, halfToFloat) : randomArray(numSlots * c.headDim, 11 + ci);
      const v = kvF16 ? Float32Array.from(v16, halfToFloat) : randomArray(numSlots * c.headDim, 23 + ci);
      const readPool = async (b: GPUBuffer) =>
        kvF16 ? Float32Array.from(new Uint16Array(await readBuffer(dev, b, k.length * 2)), halfToFloat) : readF32(dev, b, k.length);
      const score = randomArray(numSlots, 37 + ci, 3);
      const stamp = Float32Array.from({ length: numSlots }, () => Math.floor(rand() * 500));
      const window = ci % 2 === 0 ? 3 : 0; // the history ring moves too (policies with a window)
      const history = randomArray(numSlots * Math.max(1, window), 41 + ci, 1);
      const withProbe = ci % 2 === 1;
      const probe = randomArray(numSlots, 53 + ci, 1);
      const bufs = {
        kPool: createBufferFrom(dev, 'kPool', kvF16 ? k16 : k),
        vPool: createBufferFrom(dev, 'vPool', kvF16 ? v16 : v),
        slotPos: createBufferFrom(dev, 'slotPos', slotPosBefore),
        score: createBufferFrom(dev, 'score', score),
        stamp: createBufferFrom(dev, 'stamp', stamp),
        history: createBufferFrom(dev, 'history', history),
        probe: createBufferFrom(dev, 'probe', probe), // the probe score moves too (policies with a probe)
      };
      const count = moves.length / 2;
      const d = kvCompact(gpu, {
        headDim: c.headDim,
        count,
        groupsX: c.groupsX,
        params: createBufferFrom(dev, 'params', kvCompactParams(count, c.groupsX), UNIFORM),
        moves: createBufferFrom(dev, 'moves', moves),
        ...bufs,
        kvF16,
        window,
        moveProbe: withProbe,
        wg: c.wg,
      });
      await runDispatches(gpu, [d], 1);

      const want = { k: k.slice(), v: v.slice(), slotPos: slotPosBefore.slice(), score: score.slice(), stamp: stamp.slice(), history: history.slice(), probe: withProbe ? probe.slice() : undefined };
      kvCompactRef({ moves, headDim: c.headDim, ...want, window });
      // The layout logic's own slotPos mirror is what the kernel writes.
      expect(Array.from(want.slotPos)).toEqual(Array.from(layout.slotPos));
      expectClose('kPool', await readPool(bufs.kPool), want.k, TOL);
      expectClose('vPool', await readPool(bufs.vPool), want.v, TOL);
      expectClose('score', await readF32(dev, bufs.score, numSlots), want.score, TOL);
      expectClose('stamp', await readF32(dev, bufs.stamp, numSlots), want.stamp, TOL);
      expectClose('history', await readF32(dev, bufs.history, history.length), want.history, TOL);
      if (window > 0) expect(want.history).not.toEqual(history); // the ring moved
      // Moved with the policy's probe, untouched without it.
      expectClose('probe', await readF32(dev, bufs.probe, numSlots), withProbe ? want.probe! : probe, TOL);
      if (withProbe) expect(want.probe).not.toEqual(probe);
      const slotPos = new Int32Array(await readBuffer(dev, bufs.slotPos, numSlots * 4));
      expect(Array.from(slotPos)).toEqual(Array.from(want.slotPos));
      // The data moved something in every case, across rows when groupsX is small.
      if (c.groupsX) expect(count).toBeGreaterThan(2 * c.groupsX);
    });
  });

  test('the reference refuses overlapping moves (the kernel would race)', () => {
    const k = new Float32Array(8);
    expect(() => kvCompactRef({ moves: [1, 2, 2, 3], headDim: 2, k, v: k.slice() })).toThrow(/disjoint/);
  });
});
