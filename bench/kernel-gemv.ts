/**
 * gemv (src/kernels/gemv.ts) at Qwen3-0.6B's Linear shapes, in the weight formats the models
 * ship: decode (rows 1) and a prefill tile (rows 64, the same kernel, each weight chunk decoded
 * once per 8 rows, so it reads the weight 8 times). Checked against linearRef (gemv.ref.ts over
 * the same bytes) at the benchmarked shape. Bytes = the weight's stored bytes (codes + scales for
 * q4) + x read + out written, each counted once: the least any kernel must move.
 */
import { assert } from '../src/assert.ts';
import type { Gpu } from '../src/gpu/device.ts';
import { floatToBf16, floatToHalf, halfToFloat } from '../src/gpu/half.ts';
import { readF32, UNIFORM } from '../src/gpu/buffers.ts';
import { STEP_BYTES, writeStep } from '../src/gpu/step-params.ts';
import { isCpuAdapter } from '../src/gpu/workgroup.ts';
import { gemv, type GemvArgs, type WeightFormat } from '../src/kernels/gemv.ts';
import { uploadLinear, type GpuLinear } from '../src/model/gpu-weights.ts';
import { linearBytes, linearRef, q4Layout, Q4_GROUP, type Linear } from '../src/model/linear.ts';
import { Arena, compare, copiesFor, formatRow, rowHeader, sweep, xorshift, type KernelRow, type Timer } from './kernel-measure.ts';

export interface LinearShape {
  name: string;
  k: number; // inputs
  n: number; // outputs
  /** Computed for the last row only when prefilling (lm_head): no rows-64 case. */
  decodeOnly?: boolean;
}

/** Qwen3-0.6B: hidden 1024, 16 heads and 8 KV heads of 128, intermediate 3072, vocabulary 151936. */
export const QWEN3_LINEARS: readonly LinearShape[] = [
  { name: 'q', k: 1024, n: 2048 },
  { name: 'k', k: 1024, n: 1024 },
  { name: 'v', k: 1024, n: 1024 },
  { name: 'o', k: 2048, n: 1024 },
  { name: 'gate_up', k: 1024, n: 6144 },
  { name: 'down', k: 3072, n: 1024 },
  { name: 'lm_head', k: 1024, n: 151936, decodeOnly: true },
];

/** A gemv variant: args over the defaults, swept over the workgroup sizes. */
export interface GemvVariant {
  name: string;
  args: Partial<GemvArgs>;
}

export interface GemvOptions {
  linears: readonly LinearShape[];
  formats: readonly WeightFormat[];
  rows: readonly number[];
  wgs: readonly number[];
  flushBytes: number;
  variants?: readonly GemvVariant[];
}

// As in test/kernels/gemv-formats.gpu.test.ts: every decoded weight is exact in f32 on both sides,
// so only the f32 summation order differs from the f64 reference, |w| <= 0.5 and |x| <= 1.
const tolerance = (k: number) => ({ atol: 1e-5 * Math.sqrt(k) * 0.5, rtol: 1e-5 });

/** Uniform in [-scale, scale) from a u32. */
const signed = (u: number, scale: number) => (u / 2 ** 32 - 0.5) * 2 * scale;

/** Bytes an (n, k) weight takes in `format` (the codes and scales for q4). */
function storedBytes(format: WeightFormat, n: number, k: number): number {
  if (format === 'f32') return 4 * n * k;
  if (format === 'f16' || format === 'bf16') return 2 * n * k;
  const { groupsPerRow, wordsPerRow } = q4Layout(k);
  return n * (4 * wordsPerRow + (format === 'q4f16' ? 2 : 4) * groupsPerRow);
}

/** A random (n, k) Linear, |w| < 0.5, in `format`; filled fast enough for a 152k-row lm_head. */
function randomLinear(format: WeightFormat, n: number, k: number, seed: number): Linear {
  const next = xorshift(seed);
  if (format === 'f32') return { storage: 'f32', rows: n, cols: k, data: Float32Array.from({ length: n * k }, () => signed(next(), 0.5)) };
  // 16-bit values and q4 scales from a table of 4096 random values: one table look-up per weight.
  const table16 = (encode: (v: number) => number, scale: number, offset = 0) => Uint16Array.from({ length: 4096 }, () => encode(offset + signed(next(), scale)));
  if (format === 'f16' || format === 'bf16') {
    const table = table16(format === 'f16' ? floatToHalf : floatToBf16, 0.5);
    const data = new Uint16Array(n * k);
    for (let i = 0; i < data.length; i++) data[i] = table[next() & 4095];
    return { storage: format, rows: n, cols: k, data };
  }
  if (k % Q4_GROUP !== 0) throw new Error(`q4 shapes here have k a multiple of ${Q4_GROUP}`); // no padded codes to zero
  const { groupsPerRow, wordsPerRow } = q4Layout(k);
  const codes = new Uint32Array(n * wordsPerRow);
  for (let i = 0; i < codes.length; i++) codes[i] = next(); // eight random codes, 15 included
  // |(code - 7) * scale| <= 8 * scale: scales in [0.2, 1.2) / 16 keep |w| < 0.5 like the others.
  const table = table16(floatToHalf, 0.5 / 16, 0.7 / 16);
  const halves = new Uint16Array(n * groupsPerRow);
  for (let i = 0; i < halves.length; i++) halves[i] = table[next() & 4095];
  const scales = format === 'q4f16' ? halves : Float32Array.from(halves, halfToFloat);
  return { storage: 'q4', rows: n, cols: k, groupSize: Q4_GROUP, scaleType: format === 'q4f16' ? 'f16' : 'f32', codes, scales };
}

export async function benchGemv(gpu: Gpu, timer: Timer, log: (line: string) => void, peak: number, o: GemvOptions): Promise<KernelRow[]> {
  const device = gpu.device;
  const lanes = isCpuAdapter(gpu) ? 1 : 32; // gemv's own default for this adapter
  const variants = o.variants ?? [{ name: `lanes ${lanes}`, args: {} }];
  const all: KernelRow[] = [];
  log(rowHeader('gemv (bytes: weight + x + out)'));
  for (const rows of o.rows) {
    for (const shape of o.linears) {
      if (rows > 1 && shape.decodeOnly) continue;
      for (const format of o.formats) {
        const name = `gemv ${shape.name} ${shape.k}->${shape.n} ${format} rows ${rows}`;
        const arena = new Arena(device);
        try {
          const weightBytes = storedBytes(format, shape.n, shape.k);
          if (weightBytes > device.limits.maxStorageBufferBindingSize) {
            log(`${name}: skipped, the weight (${(weightBytes / 1e6).toFixed(0)} MB) exceeds maxStorageBufferBindingSize`);
            continue;
          }
          const w = randomLinear(format, shape.n, shape.k, shape.n * 7 + shape.k + format.length);
          assert(linearBytes(w) === weightBytes, `${name}: ${linearBytes(w)} bytes, expected ${weightBytes}`);
          const weight = uploadLinear(device, name, w, (label, data) => arena.upload(label, data));
          const next = xorshift(rows * 31 + shape.k);
          const x = Float32Array.from({ length: rows * shape.k }, () => signed(next(), 1));
          const want = linearRef(x, w, rows);
          const xBuf = arena.upload('x', x);
          const out = arena.buffer('out', rows * shape.n * 4);
          const step = arena.buffer('step', STEP_BYTES, UNIFORM);
          writeStep(device, step, rows, 0);
          const copies: GpuLinear[] = [weight];
          for (let c = 1; c < copiesFor(weightBytes, o.flushBytes); c++) {
            copies.push({ ...weight, data: arena.clone(weight.data as GPUBuffer), scales: weight.scales && arena.clone(weight.scales as GPUBuffer) });
          }
          const candidates = variants.flatMap((v) => {
            const vl = v.args.lanes ?? lanes;
            return (v.args.wg !== undefined ? [v.args.wg] : o.wgs)
              .filter((wg) => wg % vl === 0)
              .map((wg) => ({
                variant: v.name,
                wg,
                build: () => copies.map((c) => gemv(gpu, { n: shape.n, k: shape.k, x: xBuf, weight: c, out, step, wg, ...v.args })),
              }));
          });
          const result = await sweep(
            timer,
            {
              section: 'gemv',
              name,
              bytes: weightBytes + rows * shape.k * 4 + rows * shape.n * 4,
              rows,
              candidates,
              reset: () => device.queue.writeBuffer(out, 0, new Float32Array(rows * shape.n).fill(NaN)),
              verify: async () => compare(await readF32(device, out, rows * shape.n), want, tolerance(shape.k)),
            },
            peak,
          );
          for (const r of result) log(formatRow(r));
          all.push(...result);
        } finally {
          arena.destroy();
        }
      }
    }
  }
  return all;
}
