import { describe, expect, test } from 'vitest';
import { createBuffer, createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { gemv } from '../../src/kernels/gemv.ts';
import { gemvRef } from '../../src/kernels/gemv.ref.ts';
import { siluMulRef } from '../../src/kernels/silu-mul.ref.ts';
import { uploadLinear } from '../../src/model/gpu-weights.ts';
import { interleaveHalves } from '../../src/model/linear.ts';
import { expectClose, randomArray } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

const X_SCALE = 1;
const W_SCALE = 0.5;

// An f32 sum of K products against f64: rounding errors grow like sqrt(K) times the size of the
// terms (X_SCALE * W_SCALE), and 1e-5 per unit leaves a wide margin over the ~1e-7 per-add
// error; rtol covers the bias and the accumulated output (values up to ~8).
const tolerance = (k: number) => ({ atol: 1e-5 * Math.sqrt(k) * X_SCALE * W_SCALE, rtol: 1e-5 });

interface Case {
  n: number;
  k: number;
  rows: number;
  bias?: boolean;
  accumulate?: boolean;
  onlyLastRow?: boolean;
  wg?: number;
  lanes: 1 | 32;
}

async function check(c: Case): Promise<void> {
  const gpu = await testGpu();
  const seed = c.n * 7919 + c.k * 31 + c.rows;
  const x = randomArray(c.rows * c.k, seed + 1, X_SCALE);
  const w = randomArray(c.n * c.k, seed + 2, W_SCALE);
  const bias = c.bias ? randomArray(c.n, seed + 3) : undefined;
  const outRows = c.onlyLastRow ? 1 : c.rows;
  const before = c.accumulate ? randomArray(outRows * c.n, seed + 4, 2) : undefined;
  const out = before ? createBufferFrom(gpu.device, 'out', before) : createBuffer(gpu.device, 'out', outRows * c.n * 4);
  const step = createStepBuffer(gpu.device);
  writeStep(gpu.device, step, c.rows, 5);
  const d = gemv(gpu, {
    n: c.n,
    k: c.k,
    x: createBufferFrom(gpu.device, 'x', x),
    weight: { format: 'f32', data: createBufferFrom(gpu.device, 'w', w) },
    bias: bias && createBufferFrom(gpu.device, 'bias', bias),
    out,
    step,
    accumulate: c.accumulate,
    onlyLastRow: c.onlyLastRow,
    wg: c.wg,
    lanes: c.lanes,
  });
  await runDispatches(gpu, [d], c.rows);
  const got = await readF32(gpu.device, out, outRows * c.n);
  const xRows = c.onlyLastRow ? x.subarray((c.rows - 1) * c.k) : x;
  const want = gemvRef(xRows, w, bias, outRows, c.n, c.k, before && Float64Array.from(before), c.accumulate);
  expectClose('gemv', got, want, tolerance(c.k));
  expect(got.some((v) => v !== 0)).toBe(true);
  if (before) expect(got.some((v, i) => v !== before[i])).toBe(true);
}

const name = (c: Case) =>
  `lanes ${c.lanes} n ${c.n} k ${c.k} rows ${c.rows}` +
  (c.bias ? ' bias' : '') +
  (c.accumulate ? ' accumulate' : '') +
  (c.onlyLastRow ? ' only-last-row' : '') +
  (c.wg ? ` wg ${c.wg}` : '');

// Both paths on every shape: 32 lanes per output (what GPUs run) and 1 (what CPU adapters run).
for (const lanes of [32, 1] as const) {
  describe(`gemv lanes ${lanes}`, () => {
    // Every (n, k) pair; rows cycle through decode (1), a partial tile (5), a tile and one row
    // (9: the second tile takes the single-row path) and a full prefill tile (64); bias alternates.
    const sizes = [1, 3, 31, 32, 33, 128, 1000];
    const rowsCycle = [1, 5, 64, 9];
    const cases: Case[] = [];
    let i = 0;
    for (const n of sizes) {
      for (const k of sizes) {
        cases.push({ n, k, rows: rowsCycle[i % 4], bias: Math.floor(i / 4) % 2 === 0, lanes });
        i++;
      }
    }
    cases.push(
      { n: 33, k: 128, rows: 5, accumulate: true, lanes },
      { n: 128, k: 1000, rows: 1, bias: true, accumulate: true, lanes },
      { n: 1000, k: 31, rows: 64, bias: true, accumulate: true, lanes },
      { n: 3, k: 1, rows: 1, onlyLastRow: true, lanes },
      { n: 1000, k: 128, rows: 5, onlyLastRow: true, lanes },
      { n: 31, k: 33, rows: 64, bias: true, onlyLastRow: true, lanes },
      { n: 128, k: 1000, rows: 17, accumulate: true, onlyLastRow: true, lanes },
      { n: 1000, k: 33, rows: 64, bias: true, wg: 64, lanes },
      { n: 33, k: 1000, rows: 1, wg: 256, lanes },
      // Vocabulary-sized outputs (lm_head) with one output per workgroup, so the grid needs y as
      // well as x (each of these takes seconds on SwiftShader at 32 lanes).
      { n: 70000, k: 64, rows: 1, wg: lanes, lanes },
    );
    if (lanes === 1) {
      cases.push({ n: 70000, k: 64, rows: 1, lanes }, { n: 70000, k: 64, rows: 3, onlyLastRow: true, lanes });
    }
    for (const c of cases) test(name(c), () => check(c));
  });
}

// The gated form's silu (gate_up with SwiGLU fused in, as silu-mul was): large |gate| must give
// no NaN or Inf. x = 1 and k = 1, so each gate is its weight; every up row is 1.5.
test('gemv gated: large |gate| gives no NaN or Inf', async () => {
  const gpu = await testGpu();
  const gates = [100, -100, 88.8, -88.8, 1e4, -1e4, 0, -0.5];
  const n = gates.length;
  const hf = { storage: 'f32' as const, rows: 2 * n, cols: 1, data: Float32Array.from([...gates, ...gates.map(() => 1.5)]) };
  const weight = uploadLinear(gpu.device, 'gate_up', interleaveHalves(hf));
  for (const lanes of [1, 32] as const) {
    const out = createBuffer(gpu.device, 'out', n * 4);
    const step = createStepBuffer(gpu.device);
    writeStep(gpu.device, step, 1, 0);
    const d = gemv(gpu, { n, k: 1, x: createBufferFrom(gpu.device, 'x', new Float32Array([1])), weight, out, step, gated: true, lanes });
    await runDispatches(gpu, [d], 1);
    const got = await readF32(gpu.device, out, n);
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose(`gated lanes ${lanes}`, got, siluMulRef(hf.data, 1, n), { atol: 1e-6, rtol: 1e-5 });
  }
});
