import { describe, expect, test } from 'vitest';
import { createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { runDispatches, type Dispatch } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { pagedAttention, pagedAttentionDispatches, type PagedAttentionArgs } from '../../src/kernels/paged-attention.ts';
import { pagedAttentionRef, rowPosition } from '../../src/kernels/paged-attention.ref.ts';
import { floatToHalf, halfToFloat } from '../../src/gpu/half.ts';
import { expectClose, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { layerTables, shuffledPagedGeometry } from '../helpers/paged-fixture.ts';

// Inputs ~N(0, 1) and SCALE = 1/sqrt(headDim), so scores are O(1-5): f32 dot products over <= 128
// terms, f32 exp and sums over <= 200 slots land within ~1e-6 of the f64 reference; 1e-5 absolute
// leaves room without hiding a wrong slot (one misplaced probability moves values by >= 1e-3).
// The split path's (m, l, o) recombination adds one exp and a few products per split: the same bound holds.
const TOL = { atol: 1e-5 };
const UNWRITTEN = 7; // probs and out start as this garbage; probs past headSlots must keep it

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
  pageSize?: number; // default 16
  nanHoles?: boolean; // holes' K and V rows hold NaN: a kernel must never read them into a result
  qScale?: number; // scales q: scores of ~100 overflow f32 exp unless the max subtracted is the true one
  /** Answer-first probe rows after the first realRows (step.wgsl): their K/V sit in scratch slots past the pool's pages. */
  probe?: { realRows: number; answerRows: number };
}

/** Builds a case's cache, runs `attend` on it and checks out and probs against the reference. */
async function checkCase(gpu: Gpu, c: Case, seed: number, kvF16: boolean, attend: (a: PagedAttentionArgs) => Dispatch[], runs = 1): Promise<void> {
  const { heads, kvHeads, headDim: D, rows: T, posStart } = c;
  const pageSize = c.pageSize ?? 16;
  const rand = seededRandom(100 + seed);
  const randInt = (n: number) => Math.floor(rand() * n);
  // Two layers' pages plus spares, shuffled (this layer is bound as the second slice where sliced).
  const tables = layerTables(shuffledPagedGeometry(rand, kvHeads, c.lengths, pageSize), c.lengths, c.sliced);
  const { maxPages, maxSlots, blockTable, headSlots, phys } = tables;
  // Probe rows' K/V go to scratch slots after the pages, (rows, kvHeads) of them, in no block table.
  const scratch = tables.numSlots;
  const numSlots = scratch + (c.probe ? T * kvHeads : 0);
  const slotMap = Uint32Array.from({ length: T * kvHeads }, (_, i) => scratch + i);
  const realRows = c.probe?.realRows ?? T;
  const slotPos = new Int32Array(numSlots);
  for (let i = 0; i < numSlots; i++) slotPos[i] = randInt(posStart + 1);
  for (let t = 0; c.probe && t < T; t++) for (let g = 0; g < kvHeads; g++) slotPos[scratch + t * kvHeads + g] = rowPosition(posStart, t, c.probe);
  for (let g = 0; g < kvHeads; g++) {
    const len = c.lengths[g];
    // The tile's tokens go into random logical slots (appended, or reusing holes), the rest
    // are older tokens or holes; slots past len keep valid-looking positions.
    const tileSlots = new Set<number>();
    while (tileSlots.size < Math.min(realRows, len)) tileSlots.add(randInt(len));
    let t = 0;
    for (let s = 0; s < len; s++) {
      if (tileSlots.has(s)) slotPos[phys(g, s)] = posStart + t++;
      else if (posStart === 0 || rand() < c.holeRate) slotPos[phys(g, s)] = -1;
      else slotPos[phys(g, s)] = randInt(posStart);
    }
    if (c.allHoles === g) for (let s = 0; s < len; s++) slotPos[phys(g, s)] = -1;
  }

  const q = gaussian(T * heads * D, 1000 + seed).map((x) => x * (c.qScale ?? 1));
  const halves = (x: Float32Array) => Uint16Array.from(x, floatToHalf);
  const k16 = halves(gaussian(numSlots * D, 2000 + seed));
  const v16 = halves(gaussian(numSlots * D, 3000 + seed));
  const kPool = kvF16 ? Float32Array.from(k16, halfToFloat) : gaussian(numSlots * D, 2000 + seed);
  const vPool = kvF16 ? Float32Array.from(v16, halfToFloat) : gaussian(numSlots * D, 3000 + seed);
  if (c.nanHoles) {
    for (let i = 0; i < numSlots; i++) {
      if (slotPos[i] !== -1) continue;
      kPool.fill(NaN, i * D, (i + 1) * D); // the reference never reads a hole either
      vPool.fill(NaN, i * D, (i + 1) * D);
      k16.fill(0x7e00, i * D, (i + 1) * D);
      v16.fill(0x7e00, i * D, (i + 1) * D);
    }
  }
  const dev = gpu.device;
  const step = createStepBuffer(dev);
  writeStep(dev, step, T, posStart, c.probe);
  const out = createBufferFrom(dev, 'out', new Float32Array(T * heads * D).fill(UNWRITTEN));
  const probs = createBufferFrom(dev, 'probs', new Float32Array(T * heads * maxSlots).fill(UNWRITTEN));
  const dispatches = attend({
    heads,
    kvHeads,
    headDim: D,
    pageSize,
    maxPages,
    scale: 1 / Math.sqrt(D),
    step,
    q: createBufferFrom(dev, 'q', q),
    kPool: createBufferFrom(dev, 'kPool', kvF16 ? k16 : kPool),
    vPool: createBufferFrom(dev, 'vPool', kvF16 ? v16 : vPool),
    kvF16,
    slotPos: createBufferFrom(dev, 'slotPos', slotPos),
    ...tables.bind(dev),
    out,
    probs,
    slotMap: createBufferFrom(dev, 'slotMap', slotMap),
    wg: c.wg,
  });
  await runDispatches(gpu, dispatches, T);
  const gotOut = await readF32(dev, out, T * heads * D);
  const gotProbs = await readF32(dev, probs, T * heads * maxSlots);
  for (let r = 1; r < runs; r++) {
    // Runs again on the same inputs: the result is the same to the bit (no order that varies per run).
    await runDispatches(gpu, dispatches, T);
    expect(await readF32(dev, out, T * heads * D), 'out of a second run').toEqual(gotOut);
    expect(await readF32(dev, probs, T * heads * maxSlots), 'probs of a second run').toEqual(gotProbs);
  }
  const want = pagedAttentionRef({
    heads,
    kvHeads,
    headDim: D,
    pageSize,
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
    probe: c.probe && { ...c.probe, slotMap },
  });
  expectClose('out', gotOut, want.out, TOL);

  // probs are defined for s < headSlots[g] only: compare those, and check each row sums to 1
  // over its valid slots (0 when it has none) with invalid slots exactly 0 and the rest untouched.
  const got: number[] = [];
  const ref: number[] = [];
  let validRows = 0;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      const row = (t * heads + h) * maxSlots;
      let sum = 0;
      let wantSum = 0; // 1 over the valid slots, less what a probe row pays its own block
      let anyValid = false;
      for (let s = 0; s < headSlots[g]; s++) {
        const pos = slotPos[phys(g, s)];
        const valid = pos >= 0 && pos <= rowPosition(posStart, t, c.probe);
        wantSum += want.probs[row + s];
        if (!valid) expect(gotProbs[row + s], `probs[${t}, ${h}, ${s}] of an invalid slot`).toBe(0);
        anyValid ||= valid;
        sum += gotProbs[row + s];
        got.push(gotProbs[row + s]);
        ref.push(want.probs[row + s]);
      }
      for (let s = headSlots[g]; s < maxSlots; s++) expect(gotProbs[row + s], `probs[${t}, ${h}, ${s}] past headSlots`).toBe(UNWRITTEN);
      expect(Math.abs(sum - (t < realRows ? (anyValid ? 1 : 0) : wantSum)), `probs row (${t}, ${h}) sums to ${sum}`).toBeLessThanOrEqual(TOL.atol);
      if (anyValid) validRows++;
      else if (t < realRows) for (let i = 0; i < D; i++) expect(gotOut[(t * heads + h) * D + i]).toBe(0);
    }
  }
  expectClose('probs', got, ref, TOL);
  expect(validRows).toBeGreaterThan(0);
  expect(gotOut.some((v) => v !== 0)).toBe(true);
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
  { name: 'probe rows: 1 real, an answer block of 5, a lookahead of 3 (GQA 2)',
    heads: 4, kvHeads: 2, headDim: 32, lengths: [100, 40], rows: 9, posStart: 150, holeRate: 0.1, sliced: true, probe: { realRows: 1, answerRows: 5 } },
  { name: 'probe rows, headDim 128 > WG (grouped output), wg 16, NaN holes',
    heads: 4, kvHeads: 2, headDim: 128, lengths: [70, 33], rows: 7, posStart: 90, holeRate: 0.2, sliced: false, wg: 16, nanHoles: true, probe: { realRows: 1, answerRows: 3 } },
  { name: "probe rows only: a lookahead's bootstrap block of 2 (no real row, no answer block), wg 256",
    heads: 2, kvHeads: 1, headDim: 16, lengths: [50], rows: 2, posStart: 60, holeRate: 0.1, sliced: true, wg: 256, probe: { realRows: 0, answerRows: 0 } },
];

// Each case twice: f32 pools, and the f16 pairs 16-bit models store (even head dims only, as RoPE
// needs), where the reference reads the same halves decoded.
for (const kvF16 of [false, true]) describe(`paged-attention${kvF16 ? ', f16 pools' : ''}`, () => {
  cases.forEach((c, ci) => {
    if (kvF16 && c.headDim % 2 !== 0) return;
    test(c.name, async () => {
      const gpu = await testGpu();
      await checkCase(gpu, c, ci, kvF16, (a) => [pagedAttention(gpu, a)]);
    });
  });
});

// The split-K decode path (paged-attention-split + paged-attention-reduce). Every case has splits
// past some head's headSlots (the split count comes from maxPages, as a plan fixes it), holes
// whose K/V are NaN, and heads whose headSlots is no multiple of the split.
interface SplitCase extends Case {
  split: number;
  reduceChunk?: number; // slots per reduce workgroup (default 1024: one chunk here)
}

const splitCases: SplitCase[] = [
  { name: 'GQA 2, headDim 32, split 64, reduce chunks of 48: lengths 200 (ends mid-split) / 17',
    heads: 4, kvHeads: 2, headDim: 32, lengths: [200, 17], rows: 1, posStart: 300, holeRate: 0.2, sliced: true, split: 64, reduceChunk: 48 },
  { name: 'GQA 1, split 8 < pageSize: splits end mid-page, lengths 1/15/16/33',
    heads: 4, kvHeads: 4, headDim: 16, lengths: [1, 15, 16, 33], rows: 1, posStart: 80, holeRate: 0.1, sliced: false, split: 8 },
  { name: 'GQA 4, pageSize 12, split 32 (mid-page), reduce chunks of 100, headDim 64, one head empty',
    heads: 8, kvHeads: 2, headDim: 64, lengths: [0, 150], rows: 1, posStart: 200, holeRate: 0.15, sliced: true, split: 32, pageSize: 12, reduceChunk: 100 },
  { name: 'GQA 2, headDim 128, wg 16 (threads own whole quads), lengths 96 (3 whole splits) / 40',
    heads: 4, kvHeads: 2, headDim: 128, lengths: [96, 40], rows: 1, posStart: 120, holeRate: 0.1, sliced: false, split: 32, wg: 16 },
  { name: 'GQA 2, wg 32, split 16, one head all holes, lengths 9/40/64',
    heads: 6, kvHeads: 3, headDim: 32, lengths: [9, 40, 64], rows: 1, posStart: 70, holeRate: 0.1, sliced: true, allHoles: 1, split: 16, wg: 32 },
  { name: 'GQA 2, split 256 > every head: one split',
    heads: 4, kvHeads: 2, headDim: 32, lengths: [70, 5], rows: 1, posStart: 90, holeRate: 0.2, sliced: true, split: 256 },
  { name: 'scores up to ~100 (q x 30), split 16: the max is the true one',
    heads: 4, kvHeads: 2, headDim: 32, lengths: [90, 41], rows: 1, posStart: 100, holeRate: 0.1, sliced: false, split: 16, qScale: 30 },
  { name: 'tile of 3 with a split: the prefill rows take the single-workgroup kernel',
    heads: 4, kvHeads: 2, headDim: 32, lengths: [100, 33], rows: 3, posStart: 150, holeRate: 0.1, sliced: true, split: 32 },
];

describe('paged-attention, split-K decode', async () => {
  const gpu = await testGpu();
  // The subgroup variant runs where the adapter has subgroups (SwiftShader does, with 4 lanes).
  const variants = gpu.hasSubgroups ? [false, true] : [false];
  console.log(`[${gpu.adapterInfo}] split variants: workgroup${gpu.hasSubgroups ? ', subgroups' : ' (no subgroups on this adapter)'}`);
  for (const subgroups of variants) {
    for (const kvF16 of [false, true]) {
      splitCases.forEach((c, ci) => {
        test(`${subgroups ? 'subgroups' : 'workgroup'}, ${kvF16 ? 'f16' : 'f32'} pools: ${c.name}`, async () => {
          const withNaN = { ...c, nanHoles: true };
          await checkCase(gpu, withNaN, 50 + ci, kvF16, (a) => pagedAttentionDispatches(gpu, { ...a, split: c.split, subgroups, reduceChunk: c.reduceChunk }), ci === 0 ? 2 : 1);
        });
      });
    }
  }
});
