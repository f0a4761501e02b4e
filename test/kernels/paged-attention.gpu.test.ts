import { describe, expect, test } from 'vitest';
import { createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { pagedAttention } from '../../src/kernels/paged-attention.ts';
import { pagedAttentionRef } from '../../src/kernels/paged-attention.ref.ts';
import { floatToHalf, halfToFloat } from '../../src/gpu/half.ts';
import { expectClose, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { shuffledPagedGeometry } from '../helpers/paged-fixture.ts';

// Inputs ~N(0, 1) and SCALE = 1/sqrt(headDim), so scores are O(1-5): f32 dot products over <= 128
// terms, f32 exp and sums over <= 100 slots land within ~1e-6 of the f64 reference; 1e-5 absolute
// leaves room without hiding a wrong slot (one misplaced probability moves values by >= 1e-3).
const TOL = { atol: 1e-5 };
const PAGE_SIZE = 16;

function gaussian(n: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return out;
}

interface Case {
  name: string;
  heads: number;
  kvHeads: number;
  headDim: number;
  lengths: number[]; // logical slots per KV head (headSlots)
  rows: number;
  posStart: number;
  holeRate: number; // share of the older slots that are holes (slotPos -1)
  sliced: boolean; // bind this layer's blockTable/headSlots as slices of two-layer buffers
  allHoles?: number; // a KV head whose every slot is a hole: its rows have no valid slot
  wg?: number;
}

const cases: Case[] = [
  { name: 'GQA 1, decode, lengths 1/15/16/17',
    heads: 4, kvHeads: 4, headDim: 32, lengths: [1, 15, 16, 17], rows: 1, posStart: 200, holeRate: 0.1, sliced: true },
  { name: 'GQA 2, decode, headDim 64, lengths 100/17',
    heads: 4, kvHeads: 2, headDim: 64, lengths: [100, 17], rows: 1, posStart: 150, holeRate: 0.2, sliced: false },
  { name: 'GQA 4, tile of 5, headDim 8, lengths 100/16',
    heads: 8, kvHeads: 2, headDim: 8, lengths: [100, 16], rows: 5, posStart: 120, holeRate: 0.15, sliced: true },
  { name: 'GQA 4, prefill from 0 (causal only)',
    heads: 4, kvHeads: 1, headDim: 32, lengths: [17], rows: 17, posStart: 0, holeRate: 0, sliced: true },
  { name: 'GQA 2, headDim 128 > WG, tile of 8',
    heads: 4, kvHeads: 2, headDim: 128, lengths: [100, 33], rows: 8, posStart: 300, holeRate: 0.1, sliced: true },
  { name: 'GQA 1, odd headDim 5, wg 256',
    heads: 2, kvHeads: 2, headDim: 5, lengths: [100, 15], rows: 3, posStart: 97, holeRate: 0.3, sliced: false, wg: 256 },
  { name: 'GQA 2, wg 32, one head empty and one all holes',
    heads: 6, kvHeads: 3, headDim: 32, lengths: [0, 9, 40], rows: 1, posStart: 60, holeRate: 0.1, sliced: true, allHoles: 1, wg: 32 },
];

// Each case twice: f32 pools, and the f16 pairs 16-bit models store (even head dims only, as RoPE
// needs), where the reference reads the same halves decoded.
for (const kvF16 of [false, true]) describe(`paged-attention${kvF16 ? ', f16 pools' : ''}`, () => {
  cases.forEach((c, ci) => {
    if (kvF16 && c.headDim % 2 !== 0) return;
    test(c.name, async () => {
      const gpu = await testGpu();
      const { heads, kvHeads, headDim: D, rows: T, posStart } = c;
      const rand = seededRandom(100 + ci);
      const randInt = (n: number) => Math.floor(rand() * n);
      // Two layers' pages plus spares, shuffled (this layer is bound as the second slice where sliced).
      const { maxPages, maxSlots, tableStride, slotsStride, numPages, numSlots, order } = shuffledPagedGeometry(rand, kvHeads, c.lengths, PAGE_SIZE);
      const slotPos = new Int32Array(numSlots);
      for (let i = 0; i < numSlots; i++) slotPos[i] = randInt(posStart + 1);
      const layer = c.sliced ? 1 : 0;
      const blockTables = new Uint32Array((c.sliced ? 2 : 1) * tableStride);
      const headSlotsAll = new Uint32Array((c.sliced ? 2 : 1) * slotsStride);
      if (c.sliced) {
        // layer 0 points at other pages with full lengths: reading it would change every result.
        for (let i = 0; i < kvHeads * maxPages; i++) blockTables[i] = order[numPages - 1 - (i % Math.floor(numPages / 2))];
        for (let g = 0; g < kvHeads; g++) headSlotsAll[g] = maxSlots;
      }
      const blockTable = blockTables.subarray(layer * tableStride);
      const headSlots = headSlotsAll.subarray(layer * slotsStride);
      let next = 0;
      for (let g = 0; g < kvHeads; g++) {
        const len = c.lengths[g];
        headSlots[g] = len;
        for (let j = 0; j < maxPages; j++) blockTable[g * maxPages + j] = order[next++];
        const phys = (s: number) => blockTable[g * maxPages + Math.floor(s / PAGE_SIZE)] * PAGE_SIZE + (s % PAGE_SIZE);
        // The tile's tokens go into random logical slots (appended, or reusing holes), the rest
        // are older tokens or holes; slots past len keep valid-looking positions.
        const tileSlots = new Set<number>();
        while (tileSlots.size < Math.min(T, len)) tileSlots.add(randInt(len));
        let t = 0;
        for (let s = 0; s < len; s++) {
          if (tileSlots.has(s)) slotPos[phys(s)] = posStart + t++;
          else if (posStart === 0 || rand() < c.holeRate) slotPos[phys(s)] = -1;
          else slotPos[phys(s)] = randInt(posStart);
        }
        if (c.allHoles === g) for (let s = 0; s < len; s++) slotPos[phys(s)] = -1;
      }

      const q = gaussian(T * heads * D, 1000 + ci);
      const halves = (x: Float32Array) => Uint16Array.from(x, floatToHalf);
      const k16 = halves(gaussian(numSlots * D, 2000 + ci));
      const v16 = halves(gaussian(numSlots * D, 3000 + ci));
      const kPool = kvF16 ? Float32Array.from(k16, halfToFloat) : gaussian(numSlots * D, 2000 + ci);
      const vPool = kvF16 ? Float32Array.from(v16, halfToFloat) : gaussian(numSlots * D, 3000 + ci);
      const dev = gpu.device;
      const step = createStepBuffer(dev);
      writeStep(dev, step, T, posStart);
      const tablesBuf = createBufferFrom(dev, 'blockTables', blockTables);
      const slotsBuf = createBufferFrom(dev, 'headSlots', headSlotsAll);
      const out = createBufferFrom(dev, 'out', new Float32Array(T * heads * D).fill(7)); // garbage to overwrite
      const probs = createBufferFrom(dev, 'probs', new Float32Array(T * heads * maxSlots).fill(7));
      const d = pagedAttention(gpu, {
        heads,
        kvHeads,
        headDim: D,
        pageSize: PAGE_SIZE,
        maxPages,
        scale: 1 / Math.sqrt(D),
        step,
        q: createBufferFrom(dev, 'q', q),
        kPool: createBufferFrom(dev, 'kPool', kvF16 ? k16 : kPool),
        vPool: createBufferFrom(dev, 'vPool', kvF16 ? v16 : vPool),
        kvF16,
        slotPos: createBufferFrom(dev, 'slotPos', slotPos),
        blockTable: c.sliced ? { buffer: tablesBuf, offset: tableStride * 4, size: kvHeads * maxPages * 4 } : tablesBuf,
        headSlots: c.sliced ? { buffer: slotsBuf, offset: slotsStride * 4, size: kvHeads * 4 } : slotsBuf,
        out,
        probs,
        wg: c.wg,
      });
      await runDispatches(gpu, [d], T);
      const gotOut = await readF32(dev, out, T * heads * D);
      const gotProbs = await readF32(dev, probs, T * heads * maxSlots);
      const want = pagedAttentionRef({
        heads,
        kvHeads,
        headDim: D,
        pageSize: PAGE_SIZE,
        maxPages,
        scale: 1 / Math.sqrt(D),
        rows: T,
        posStart,
        q,
        kPool,
        vPool,
        slotPos,
        blockTable,
        headSlots,
      });
      expectClose('out', gotOut, want.out, TOL);

      // probs are defined for s < headSlots[g] only: compare those, and check each row sums to 1
      // over its valid slots (0 when it has none) with invalid slots exactly 0.
      const got: number[] = [];
      const ref: number[] = [];
      let validRows = 0;
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < heads; h++) {
          const g = Math.floor(h / (heads / kvHeads));
          const row = (t * heads + h) * maxSlots;
          let sum = 0;
          let anyValid = false;
          for (let s = 0; s < headSlots[g]; s++) {
            const pos = slotPos[blockTable[g * maxPages + Math.floor(s / PAGE_SIZE)] * PAGE_SIZE + (s % PAGE_SIZE)];
            const valid = pos >= 0 && pos <= posStart + t;
            if (!valid) expect(gotProbs[row + s], `probs[${t}, ${h}, ${s}] of an invalid slot`).toBe(0);
            anyValid ||= valid;
            sum += gotProbs[row + s];
            got.push(gotProbs[row + s]);
            ref.push(want.probs[row + s]);
          }
          expect(Math.abs(sum - (anyValid ? 1 : 0)), `probs row (${t}, ${h}) sums to ${sum}`).toBeLessThanOrEqual(TOL.atol);
          if (anyValid) validRows++;
          else for (let i = 0; i < D; i++) expect(gotOut[(t * heads + h) * D + i]).toBe(0);
        }
      }
      expectClose('probs', got, ref, TOL);
      expect(validRows).toBeGreaterThan(0);
      expect(gotOut.some((v) => v !== 0)).toBe(true);
    });
  });
});
