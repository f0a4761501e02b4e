import { describe, expect, test } from 'vitest';
import { createBuffer, createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { siluMul } from '../../src/kernels/silu-mul.ts';
import { siluMulRef } from '../../src/kernels/silu-mul.ref.ts';
import { expectClose, randomArray } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// exp, one division and two products in f32: a few ulps relative, and GPU exp may be an
// approximation of a few ulps more; 1e-5 relative plus 1e-6 absolute (for silu near zero).
const TOL = { atol: 1e-6, rtol: 1e-5 };

async function run(rows: number, intermediate: number, gateUp: Float32Array, wg?: number): Promise<Float32Array> {
  const gpu = await testGpu();
  const out = createBuffer(gpu.device, 'out', rows * intermediate * 4);
  const d = siluMul(gpu, { intermediate, gateUp: createBufferFrom(gpu.device, 'gateUp', gateUp), out, wg });
  await runDispatches(gpu, [d], rows);
  return readF32(gpu.device, out, rows * intermediate);
}

describe('silu-mul', () => {
  const shapes = [
    { rows: 1, intermediate: 1 },
    { rows: 5, intermediate: 3 },
    { rows: 1, intermediate: 384 },
    { rows: 64, intermediate: 65 },
    { rows: 17, intermediate: 1000 },
    { rows: 3, intermediate: 96, wg: 32 },
  ];
  for (const s of shapes) {
    test(`rows ${s.rows} intermediate ${s.intermediate} wg ${s.wg ?? 'default'}`, async () => {
      const gateUp = randomArray(s.rows * 2 * s.intermediate, 5 + s.intermediate, 6); // gates into silu's curve and tails
      const got = await run(s.rows, s.intermediate, gateUp, s.wg);
      expectClose('silu-mul', got, siluMulRef(gateUp, s.rows, s.intermediate), TOL);
      expect(got.some((v) => v !== 0)).toBe(true);
    });
  }

  test('large |gate| gives no NaN or Inf', async () => {
    const gates = [100, -100, 88.8, -88.8, 1e4, -1e4, 0, -0.5];
    const intermediate = gates.length;
    const gateUp = new Float32Array(2 * intermediate);
    gateUp.set(gates);
    gateUp.fill(1.5, intermediate);
    const got = await run(1, intermediate, gateUp);
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose('silu-mul', got, siluMulRef(gateUp, 1, intermediate), TOL);
  });
});
