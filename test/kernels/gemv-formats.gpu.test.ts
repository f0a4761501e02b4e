/**
 * gemv and embed over every weight format (f16, bf16 and MLC's q4 with f16 or f32 scales, f32
 * for comparison), against the CPU reference that dequantizes the same bytes
 * (model/linear.ts dequantizeRows). Shapes: N = 1, odd N, K at the q4 group boundary (32, 64)
 * and off it (padded last group: 40, 8, 33), a vocabulary-sized N = 151936, and prefill tiles;
 * also the MLP's gated form (gate_up with silu·mul, rows interleaved as the forward uploads them).
 */
import { describe, expect, test } from 'vitest';
import { createBuffer, createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { embed } from '../../src/kernels/embed.ts';
import { gemv } from '../../src/kernels/gemv.ts';
import { gemvRowsRef } from '../../src/kernels/gemv.ref.ts';
import { uploadLinear } from '../../src/model/gpu-weights.ts';
import { dequantizeRows, interleaveHalves } from '../../src/model/linear.ts';
import { siluMulRef } from '../../src/kernels/silu-mul.ref.ts';
import { expectClose, randomArray, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { randomLinear, TEST_FORMATS, type TestFormat } from '../helpers/random-linear.ts';

// Every decoded weight is exact in f32 on both sides (halves, bf16 and code * scale are), so what
// differs is only the f32 summation order against f64: the gemv test's bound, |w| <= 0.5.
const tolerance = (k: number) => ({ atol: 1e-5 * Math.sqrt(k) * 0.5, rtol: 1e-5 });

interface Case {
  n: number;
  k: number;
  rows: number;
  bias?: boolean;
  onlyLastRow?: boolean;
  /** gate_up with SwiGLU fused in: 2n rows, interleaved on upload as the forward does. */
  gated?: boolean;
  lanes: 1 | 32;
}

async function check(format: TestFormat, c: Case): Promise<void> {
  const gpu = await testGpu();
  const seed = c.n * 13 + c.k * 7 + c.rows;
  const rowsOfW = c.gated ? 2 * c.n : c.n;
  const w = randomLinear(format, rowsOfW, c.k, seed, 0.5, c.bias);
  const x = randomArray(c.rows * c.k, seed + 1);
  const outRows = c.onlyLastRow ? 1 : c.rows;
  const out = createBuffer(gpu.device, 'out', outRows * c.n * 4);
  const step = createStepBuffer(gpu.device);
  writeStep(gpu.device, step, c.rows, 0);
  const weight = uploadLinear(gpu.device, 'w', c.gated ? interleaveHalves(w) : w);
  const d = gemv(gpu, { n: c.n, k: c.k, x: createBufferFrom(gpu.device, 'x', x), weight, bias: weight.bias, out, step, onlyLastRow: c.onlyLastRow, gated: c.gated, lanes: c.lanes });
  await runDispatches(gpu, [d], c.rows);
  const got = await readF32(gpu.device, out, outRows * c.n);
  const xRows = c.onlyLastRow ? x.subarray((c.rows - 1) * c.k) : x;
  const dots = gemvRowsRef(xRows, (first, count) => dequantizeRows(w, first, count), w.bias, outRows, rowsOfW, c.k);
  // SwiGLU after the f32 sums: silu's slope is at most 1.1 and |up| stays small, so twice the bound.
  const want = c.gated ? siluMulRef(dots, outRows, c.n) : dots;
  const tol = tolerance(c.k);
  expectClose(`gemv ${format}${c.gated ? ' gated' : ''}`, got, want, c.gated ? { ...tol, atol: 2 * tol.atol } : tol);
  expect(got.some((v) => v !== 0)).toBe(true);
}

for (const format of TEST_FORMATS) {
  describe(`gemv ${format}`, () => {
    const cases: Case[] = [
      { n: 1, k: 32, rows: 1, lanes: 1 },
      { n: 3, k: 64, rows: 5, bias: true, lanes: 1 },
      { n: 33, k: 40, rows: 9, lanes: 1 },
      { n: 31, k: 8, rows: 1, bias: true, lanes: 32 },
      { n: 17, k: 33, rows: 64, lanes: 32 },
      { n: 129, k: 96, rows: 1, lanes: 32 },
      { n: 64, k: 256, rows: 12, bias: true, lanes: 1 },
      { n: 151936, k: 64, rows: 3, onlyLastRow: true, lanes: 1 },
      { n: 1, k: 32, rows: 1, gated: true, lanes: 1 },
      { n: 33, k: 40, rows: 9, gated: true, lanes: 1 },
      { n: 31, k: 8, rows: 1, gated: true, lanes: 32 },
      { n: 17, k: 96, rows: 64, gated: true, lanes: 32 },
    ];
    for (const c of cases) {
      test(`n ${c.n} k ${c.k} rows ${c.rows} lanes ${c.lanes}${c.bias ? ' bias' : ''}${c.onlyLastRow ? ' only-last-row' : ''}${c.gated ? ' gated' : ''}`, () => check(format, c));
    }
  });

  test(`embed ${format}: vocabulary 151936, hidden 64 and 40 (a padded q4 group)`, async () => {
    const gpu = await testGpu();
    for (const hidden of [64, 40]) {
      const vocab = 151936;
      const table = randomLinear(format, vocab, hidden, hidden);
      const rand = seededRandom(hidden);
      const tokens = Uint32Array.from({ length: 6 }, (_, t) => (t === 0 ? vocab - 1 : Math.floor(rand() * vocab)));
      const out = createBuffer(gpu.device, 'out', tokens.length * hidden * 4);
      const d = embed(gpu, { hidden, tokens: createBufferFrom(gpu.device, 'tokens', tokens), table: uploadLinear(gpu.device, 'table', table), out });
      await runDispatches(gpu, [d], tokens.length);
      const got = await readF32(gpu.device, out, tokens.length * hidden);
      const want = new Float32Array(tokens.length * hidden);
      tokens.forEach((id, t) => want.set(dequantizeRows(table, id, 1), t * hidden));
      expectClose(`embed ${format}`, got, want, { atol: 0 }); // a lookup: exact
    }
  });
}
