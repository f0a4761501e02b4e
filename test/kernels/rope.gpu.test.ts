import { describe, expect, test } from 'vitest';
import { createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { rope } from '../../src/kernels/rope.ts';
import { defaultInvFreq, ropeRef, ropeTables } from '../../src/kernels/rope.ref.ts';
import { expectClose, randomArray } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// Two f32 products and one f32 sum per element, |x| <= 4 and |cos|, |sin| <= 1: a few ulps of 8,
// so 2e-6 absolute covers it (the f64 reference uses the same f32 tables).
const TOL = { atol: 2e-6 };
const MAX_POSITIONS = 400;

describe('rope tables', () => {
  test('inverse frequencies are 1 / theta^(2i/d) rounded like float32 PyTorch', () => {
    expect(Array.from(defaultInvFreq(4, 10000))).toEqual([1, Math.fround(0.01)]);
    // numpy float32: np.float32(1) / (np.float32(1e6) ** (np.arange(0, 128, 2, dtype=np.float32) / np.float32(128)))
    const inv = defaultInvFreq(128, 1e6);
    expect([inv[0], inv[1], inv[17], inv[63]]).toEqual([
      1.0, 0.8058422207832336, 0.025482967495918274, 1.2409377632138785e-6,
    ]);
    // numpy float32: np.cos / np.sin of (inv * np.float32(345)) at i = 1, 17, 63. numpy's (like
    // PyTorch's) vectorised float32 sin/cos is accurate to 1 ulp, ours is the correctly rounded f64
    // result, so they may differ by one ulp (they do at sin, i = 17).
    const { cos, sin } = ropeTables(128, 346, inv);
    const at = (table: Float32Array, i: number) => table[345 * 64 + i];
    const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);
    const numpy = [
      [at(cos, 1), 0.015385271050035954],
      [at(cos, 17), -0.8061653971672058],
      [at(cos, 63), 0.9999998807907104],
      [at(sin, 1), 0.9998816251754761],
      [at(sin, 17), 0.5916903018951416],
      [at(sin, 63), 0.0004281235160306096],
    ];
    for (const [ours, theirs] of numpy) expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(ulp(theirs));
  });
});

describe('rope', () => {
  const shapes = [
    { rows: 1, heads: 1, headDim: 2, posStart: 0 },
    { rows: 1, heads: 4, headDim: 64, posStart: 333 },
    { rows: 5, heads: 2, headDim: 32, posStart: 7 },
    { rows: 3, heads: 1, headDim: 64, posStart: 0 },
    { rows: 64, heads: 4, headDim: 32, posStart: 300 },
    { rows: 17, heads: 2, headDim: 2, posStart: 250, wg: 32 },
    { rows: 64, heads: 4, headDim: 64, posStart: 129, wg: 256 },
  ];
  for (const s of shapes) {
    test(`rows ${s.rows} heads ${s.heads} headDim ${s.headDim} posStart ${s.posStart} wg ${s.wg ?? 'default'}`, async () => {
      const gpu = await testGpu();
      const n = s.rows * s.heads * s.headDim;
      const x = randomArray(n, 3 + n + s.posStart);
      const { cos, sin } = ropeTables(s.headDim, MAX_POSITIONS, defaultInvFreq(s.headDim, s.headDim === 64 ? 1e6 : 10000));
      const step = createStepBuffer(gpu.device);
      writeStep(gpu.device, step, s.rows, s.posStart);
      const xBuf = createBufferFrom(gpu.device, 'x', x);
      const d = rope(gpu, {
        heads: s.heads,
        headDim: s.headDim,
        step,
        x: xBuf,
        cos: createBufferFrom(gpu.device, 'cos', cos),
        sin: createBufferFrom(gpu.device, 'sin', sin),
        wg: s.wg,
      });
      await runDispatches(gpu, [d], s.rows);
      const got = await readF32(gpu.device, xBuf, n);
      const want = ropeRef(Float64Array.from(x), s.rows, s.heads, s.headDim, s.posStart, cos, sin);
      expectClose('rope', got, want, TOL);
      expect(got.some((v) => v !== 0)).toBe(true);
      if (s.posStart > 0) expect(got.some((v, i) => v !== x[i])).toBe(true); // the rotation did something
    });
  }

  test('leaves rows past step.rows untouched', async () => {
    const gpu = await testGpu();
    const heads = 2;
    const headDim = 32;
    const x = randomArray(4 * heads * headDim, 99);
    const { cos, sin } = ropeTables(headDim, MAX_POSITIONS, defaultInvFreq(headDim, 10000));
    const step = createStepBuffer(gpu.device);
    writeStep(gpu.device, step, 3, 40);
    const xBuf = createBufferFrom(gpu.device, 'x', x);
    const d = rope(gpu, {
      heads,
      headDim,
      step,
      x: xBuf,
      cos: createBufferFrom(gpu.device, 'cos', cos),
      sin: createBufferFrom(gpu.device, 'sin', sin),
    });
    await runDispatches(gpu, [d], 4); // the grid covers a 4th row that step.rows excludes
    const got = await readF32(gpu.device, xBuf, x.length);
    const want = ropeRef(Float64Array.from(x), 3, heads, headDim, 40, cos, sin);
    expectClose('rope', got, want, TOL);
  });
});
