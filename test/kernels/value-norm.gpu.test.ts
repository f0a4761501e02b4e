import { describe, test } from 'vitest';
import { createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { valueNorm } from '../../src/kernels/value-norm.ts';
import { valueNormRef } from '../../src/kernels/value-norm.ref.ts';
import { expectClose, randomArray, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// Each factor is a mean of norms of HIDDEN dot products of HEAD_DIM terms: f32 sums against f64
// land within ~1e-6 relative, so 1e-5 relative. A wrong query-head column, a missed row or a
// wrong slot moves a factor by far more. Slots nobody writes keep their garbage exactly.
const TOL = { atol: 1e-6, rtol: 1e-5 };

interface Case {
  rows: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  wg?: number;
  skips?: boolean; // some (token, head) pairs map past the pool: skipped
  /** v read from the forward's fused qkv rows (heads + 2 kvHeads, headDim), v heads last. */
  fromQkv?: boolean;
}

const cases: Case[] = [
  { rows: 1, hidden: 128, heads: 4, kvHeads: 2, headDim: 32 },
  { rows: 5, hidden: 96, heads: 8, kvHeads: 2, headDim: 16 },
  { rows: 3, hidden: 33, heads: 3, kvHeads: 3, headDim: 7, wg: 32 },
  { rows: 17, hidden: 200, heads: 4, kvHeads: 1, headDim: 8, skips: true },
  { rows: 5, hidden: 96, heads: 8, kvHeads: 2, headDim: 16, fromQkv: true },
  { rows: 3, hidden: 64, heads: 4, kvHeads: 4, headDim: 8, fromQkv: true, skips: true },
];

/** v (rows, kvHeads, headDim) inside rows of (heads + 2 kvHeads) heads, the others random. */
function inQkv(c: Case, v: Float32Array, seed: number): { rows: Float32Array; layout: { rowWidth: number; firstColumn: number } } {
  const kvDim = c.kvHeads * c.headDim;
  const rowWidth = (c.heads + 2 * c.kvHeads) * c.headDim;
  const firstColumn = rowWidth - kvDim;
  const rows = randomArray(c.rows * rowWidth, seed);
  for (let t = 0; t < c.rows; t++) rows.set(v.subarray(t * kvDim, (t + 1) * kvDim), t * rowWidth + firstColumn);
  return { rows, layout: { rowWidth, firstColumn } };
}

describe('value-norm', () => {
  for (const c of cases) {
    const label = `rows ${c.rows} hidden ${c.hidden} heads ${c.heads}/${c.kvHeads} headDim ${c.headDim}` +
      (c.wg ? ` wg ${c.wg}` : '') + (c.skips ? ' with skipped slots' : '') + (c.fromQkv ? ' from qkv rows' : '');
    test(label, async () => {
      const gpu = await testGpu();
      const dev = gpu.device;
      const seed = c.rows * 31 + c.hidden;
      const v = randomArray(c.rows * c.kvHeads * c.headDim, seed + 1);
      const o = randomArray(c.hidden * c.heads * c.headDim, seed + 2, 0.2);
      const numSlots = c.rows * c.kvHeads * 3 + 5;
      const rand = seededRandom(seed + 3);
      const free = Array.from({ length: numSlots }, (_, i) => i).sort(() => rand() - 0.5);
      const slotMap = Uint32Array.from({ length: c.rows * c.kvHeads }, (_, i) => (c.skips && i % 3 === 1 ? numSlots : free.pop()!));
      const stamp = new Float32Array(numSlots).fill(-7);
      const step = createStepBuffer(dev);
      writeStep(dev, step, c.rows, 40);
      const stampBuf = createBufferFrom(dev, 'stamp', stamp);
      const fused = c.fromQkv ? inQkv(c, v, seed + 4) : null;
      const d = valueNorm(gpu, {
        hidden: c.hidden,
        heads: c.heads,
        kvHeads: c.kvHeads,
        headDim: c.headDim,
        step,
        v: createBufferFrom(dev, 'v', fused ? fused.rows : v),
        vLayout: fused?.layout,
        o: createBufferFrom(dev, 'o', o),
        slotMap: createBufferFrom(dev, 'slotMap', slotMap),
        stamp: stampBuf,
        wg: c.wg,
      });
      await runDispatches(gpu, [d], c.rows);
      const got = await readF32(dev, stampBuf, numSlots);
      const want = valueNormRef({ ...c, v, o, slotMap, stamp });
      expectClose('stamp', got, want, TOL);
    });
  }
});
