import { describe, expect, test } from 'vitest';
import { createBufferFrom, readBuffer, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { kvAppend } from '../../src/kernels/kv-append.ts';
import { kvAppendRef } from '../../src/kernels/kv-append.ref.ts';
import { floatToHalf, halfToFloat } from '../../src/gpu/half.ts';
import { expectClose, randomArray, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// Copies: every f32 and position must come back exactly.
const TOL = { atol: 0 };
const PAGE_SIZE = 16;

interface Case {
  rows: number;
  kvHeads: number;
  headDim: number;
  posStart: number;
  pages: number;
  wg?: number;
  /** Also map some (token, head) pairs past the pool: they must be skipped. */
  skips?: boolean;
}

/** Distinct slots in shuffled order, so pages and offsets are scattered and non-contiguous. */
function scatteredSlots(c: Case, seed: number): Uint32Array {
  const numSlots = c.pages * PAGE_SIZE;
  const rand = seededRandom(seed);
  const all = Array.from({ length: numSlots }, (_, i) => i);
  for (let i = numSlots - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  const map = Uint32Array.from(all.slice(0, c.rows * c.kvHeads));
  if (c.skips) for (let i = 1; i < map.length; i += 3) map[i] = i % 2 ? 0xffffffff : numSlots;
  return map;
}

describe('kv-append', () => {
  const cases: Case[] = [
    { rows: 1, kvHeads: 1, headDim: 2, posStart: 0, pages: 1 },
    { rows: 1, kvHeads: 2, headDim: 32, posStart: 300, pages: 5 },
    { rows: 5, kvHeads: 4, headDim: 64, posStart: 17, pages: 3 },
    { rows: 15, kvHeads: 1, headDim: 33, posStart: 1, pages: 2 },
    { rows: 17, kvHeads: 2, headDim: 32, posStart: 64, pages: 4, skips: true },
    { rows: 64, kvHeads: 4, headDim: 64, posStart: 128, pages: 20 },
    { rows: 64, kvHeads: 2, headDim: 31, posStart: 0, pages: 9, wg: 32 },
  ];
  for (const c of cases) {
    const label =
      `rows ${c.rows} kvHeads ${c.kvHeads} headDim ${c.headDim} posStart ${c.posStart} pages ${c.pages}` +
      (c.wg ? ` wg ${c.wg}` : '') +
      (c.skips ? ' with skipped slots' : '');
    test(label, async () => {
      const gpu = await testGpu();
      const numSlots = c.pages * PAGE_SIZE;
      const seed = c.rows * 101 + c.kvHeads * 7 + c.headDim;
      const k = randomArray(c.rows * c.kvHeads * c.headDim, seed + 1);
      const v = randomArray(c.rows * c.kvHeads * c.headDim, seed + 2);
      const slotMap = scatteredSlots(c, seed + 3);
      // Pools hold earlier entries (random) and empty slots (-1) that must survive untouched.
      const kPool = randomArray(numSlots * c.headDim, seed + 4);
      const vPool = randomArray(numSlots * c.headDim, seed + 5);
      const slotPos = new Int32Array(numSlots).map((_, i) => (i % 3 === 0 ? -1 : 1000 + i));
      const step = createStepBuffer(gpu.device);
      writeStep(gpu.device, step, c.rows, c.posStart);
      const kPoolBuf = createBufferFrom(gpu.device, 'kPool', kPool);
      const vPoolBuf = createBufferFrom(gpu.device, 'vPool', vPool);
      const slotPosBuf = createBufferFrom(gpu.device, 'slotPos', slotPos);
      const d = kvAppend(gpu, {
        kvHeads: c.kvHeads,
        headDim: c.headDim,
        step,
        k: createBufferFrom(gpu.device, 'k', k),
        v: createBufferFrom(gpu.device, 'v', v),
        slotMap: createBufferFrom(gpu.device, 'slotMap', slotMap),
        kPool: kPoolBuf,
        vPool: vPoolBuf,
        slotPos: slotPosBuf,
        wg: c.wg,
      });
      await runDispatches(gpu, [d], c.rows);
      const gotK = await readF32(gpu.device, kPoolBuf, kPool.length);
      const gotV = await readF32(gpu.device, vPoolBuf, vPool.length);
      const gotPos = new Int32Array(await readBuffer(gpu.device, slotPosBuf, numSlots * 4));

      const wantK = Float32Array.from(kPool);
      const wantV = Float32Array.from(vPool);
      const wantPos = Int32Array.from(slotPos);
      kvAppendRef(k, v, slotMap, c.rows, c.kvHeads, c.headDim, c.posStart, wantK, wantV, wantPos);
      expectClose('kPool', gotK, wantK, TOL);
      expectClose('vPool', gotV, wantV, TOL);
      expectClose('slotPos', gotPos, wantPos, TOL);
      // Non-trivial: every mapped slot changed and now holds its token's position.
      for (let t = 0; t < c.rows; t++) {
        for (let h = 0; h < c.kvHeads; h++) {
          const slot = slotMap[t * c.kvHeads + h];
          if (slot < numSlots) expect(gotPos[slot]).toBe(c.posStart + t);
        }
      }
      expect(gotK.some((x, i) => x !== kPool[i])).toBe(true);
    });
  }
});

// 16-bit models keep K and V as f16 pairs (pack2x16float): each value must come back as the
// nearest half (ties to even), exactly as the reference rounds it, and other slots untouched.
describe('kv-append, f16 pools', () => {
  const cases: Case[] = [
    { rows: 1, kvHeads: 1, headDim: 2, posStart: 0, pages: 1 },
    { rows: 7, kvHeads: 3, headDim: 16, posStart: 0, pages: 3 },
    { rows: 5, kvHeads: 4, headDim: 64, posStart: 17, pages: 3 },
    { rows: 17, kvHeads: 2, headDim: 32, posStart: 64, pages: 4, skips: true },
  ];
  for (const c of cases) {
    test(`rows ${c.rows} kvHeads ${c.kvHeads} headDim ${c.headDim}${c.skips ? ' with skipped slots' : ''}`, async () => {
      const gpu = await testGpu();
      const numSlots = c.pages * PAGE_SIZE;
      const seed = c.rows * 31 + c.headDim;
      const k = randomArray(c.rows * c.kvHeads * c.headDim, seed + 1, 3);
      const v = randomArray(c.rows * c.kvHeads * c.headDim, seed + 2, 3);
      const slotMap = scatteredSlots(c, seed + 3);
      const before = Uint16Array.from(randomArray(numSlots * c.headDim, seed + 4), floatToHalf);
      const slotPos = new Int32Array(numSlots).fill(-1);
      const step = createStepBuffer(gpu.device);
      writeStep(gpu.device, step, c.rows, c.posStart);
      const kPoolBuf = createBufferFrom(gpu.device, 'kPool', before);
      const vPoolBuf = createBufferFrom(gpu.device, 'vPool', before);
      const d = kvAppend(gpu, {
        kvHeads: c.kvHeads, headDim: c.headDim, step, kvF16: true,
        k: createBufferFrom(gpu.device, 'k', k), v: createBufferFrom(gpu.device, 'v', v),
        slotMap: createBufferFrom(gpu.device, 'slotMap', slotMap),
        kPool: kPoolBuf, vPool: vPoolBuf, slotPos: createBufferFrom(gpu.device, 'slotPos', slotPos),
      });
      await runDispatches(gpu, [d], c.rows);
      const decode = (b: ArrayBuffer) => Float64Array.from(new Uint16Array(b, 0, numSlots * c.headDim), halfToFloat);
      const gotK = decode(await readBuffer(gpu.device, kPoolBuf, numSlots * c.headDim * 2));
      const gotV = decode(await readBuffer(gpu.device, vPoolBuf, numSlots * c.headDim * 2));
      const wantK = Float64Array.from(before, halfToFloat);
      const wantV = Float64Array.from(before, halfToFloat);
      kvAppendRef(k, v, slotMap, c.rows, c.kvHeads, c.headDim, c.posStart, wantK, wantV, Int32Array.from(slotPos), true);
      expectClose('kPool f16', gotK, wantK, TOL);
      expectClose('vPool f16', gotV, wantV, TOL);
      expect(gotK.some((x, i) => x !== halfToFloat(before[i]))).toBe(true);
    });
  }
});
