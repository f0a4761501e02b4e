import { describe, expect, test } from 'vitest';
import { createBuffer, createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { rmsnorm } from '../../src/kernels/rmsnorm.ts';
import { rmsnormRef } from '../../src/kernels/rmsnorm.ref.ts';
import { expectClose, randomArray } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// f32 sum of squares over <= 1000 terms against f64: relative error well under 1e-5.
const TOL = { atol: 1e-5, rtol: 1e-5 };

describe('rmsnorm', () => {
  const shapes = [
    { tokens: 1, rowsPerToken: 1, dim: 1 },
    { tokens: 3, rowsPerToken: 1, dim: 128 },
    { tokens: 5, rowsPerToken: 4, dim: 32 },
    { tokens: 2, rowsPerToken: 2, dim: 65 },
    { tokens: 17, rowsPerToken: 1, dim: 1000 },
  ];
  // The adapter's own workgroup (4 threads on SwiftShader) and a GPU's 64, on every adapter.
  for (const s of shapes) for (const wg of [undefined, 64]) {
    test(`tokens ${s.tokens} rowsPerToken ${s.rowsPerToken} dim ${s.dim}, wg ${wg ?? 'the adapter default'}`, async () => {
      const gpu = await testGpu();
      const rows = s.tokens * s.rowsPerToken;
      const x = randomArray(rows * s.dim, 1 + s.dim, 3);
      const weight = randomArray(s.dim, 2 + s.dim);
      const eps = 1e-6;
      const out = createBuffer(gpu.device, 'out', rows * s.dim * 4);
      const d = rmsnorm(gpu, {
        dim: s.dim,
        eps,
        rowsPerToken: s.rowsPerToken,
        x: createBufferFrom(gpu.device, 'x', x),
        weight: createBufferFrom(gpu.device, 'w', weight),
        out,
        wg,
      });
      await runDispatches(gpu, [d], s.tokens);
      const got = await readF32(gpu.device, out, rows * s.dim);
      expectClose('rmsnorm', got, rmsnormRef(x, weight, rows, s.dim, eps), TOL);
      expect(got.some((v) => v !== 0)).toBe(true);
    });
  }
});
