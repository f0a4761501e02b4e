/**
 * x · Wᵀ (+ bias) over the step's rows, for every Linear layer and lm_head, with the weight in
 * any model format (f32, f16, bf16, MLC q4 with f16 or f32 scales) decoded inside the kernel.
 * Decode is one row; prefill runs the prompt in tiles of rows, each weight chunk decoded once
 * per 8 rows.
 */
import code from '../../shaders/gemv.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import { createBuffer } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { Q4_GROUP } from './gemv.ref.ts';
import { isCpuAdapter } from '../gpu/workgroup.ts';

const source = [code, stepStruct].join('\n');

const TILE = 8; // rows per workgroup, as in the shader
const MAX_GROUPS_PER_DIM = 65535; // the WebGPU default limit

/** How a weight matrix is stored on the GPU (src/model/linear.ts describes each layout). */
export type WeightFormat = 'f32' | 'f16' | 'bf16' | 'q4f16' | 'q4f32';
const FORMAT_CODE: Record<WeightFormat, number> = { f32: 0, f16: 1, bf16: 2, q4f16: 3, q4f32: 4 };

/** A weight matrix (n, k) in Hugging Face Linear layout, as the shader reads it. */
export interface GemvWeight {
  format: WeightFormat;
  data: Binding; // f32 (n, k) | 16-bit (n, k) two per word | q4 codes (n, ceil(k / 32) * 4) u32
  scales?: Binding; // q4 only: (n, ceil(k / 32)) f16 pairs or f32
}

/** The shader constants that say how to decode a weight whose rows hold `k` inputs. */
export function formatConstants(w: GemvWeight, k: number): { FORMAT: number; WORDS: number; GROUPS: number } {
  const q4 = w.format === 'q4f16' || w.format === 'q4f32';
  if (q4 !== (w.scales !== undefined)) throw new Error(`a ${w.format} weight ${q4 ? 'needs' : 'takes no'} scales`);
  const groups = Math.ceil(k / Q4_GROUP);
  return { FORMAT: FORMAT_CODE[w.format], WORDS: q4 ? groups * 4 : 1, GROUPS: q4 ? groups : 1 };
}

export interface GemvArgs {
  n: number; // outputs (the weight has 2n rows when gated)
  k: number; // inputs
  x: Binding; // (rows, k); with onlyLastRow only row rows - 1 is read
  weight: GemvWeight;
  bias?: Binding; // (n)
  out: Binding; // (rows, n); (1, n) with onlyLastRow
  step: Binding; // uniform Step: rows
  /** out += x · Wᵀ: adds into the residual stream. */
  accumulate?: boolean;
  /** Only the last row of x, written to row 0 of out (lm_head while decoding). */
  onlyLastRow?: boolean;
  /**
   * SwiGLU fused in: the weight holds 2n rows, gate and up interleaved (row 2i gate i, row 2i + 1
   * up i), and out = silu(x · gateᵀ) * (x · upᵀ). Takes no bias and does not accumulate.
   */
  gated?: boolean;
  /** Threads per workgroup, a multiple of lanes (benchmarks sweep it); default 128. */
  wg?: number;
  /**
   * A row range of a larger weight (one binding could not hold it): weight, scales and bias are
   * bound from its first row, and its n outputs go to columns rowOffset.. of out rows outWidth wide.
   */
  rowOffset?: number;
  outWidth?: number;
  /**
   * Threads cooperating on one output: 32 (coalesced weight reads, for GPUs) or 1 (one thread
   * per output, no barriers, ~10x faster on SwiftShader). Default: 1 on a CPU adapter, else 32.
   */
  lanes?: 1 | 32;
}

/** Bound where a Linear has no bias or scales: the shader must still see a buffer at that binding. */
const placeholders = new WeakMap<GPUDevice, GPUBuffer>();
export function placeholder(device: GPUDevice): GPUBuffer {
  let b = placeholders.get(device);
  if (!b) {
    b = createBuffer(device, 'gemv placeholder', 16);
    placeholders.set(device, b);
  }
  return b;
}

export function gemv(gpu: Gpu, a: GemvArgs): Dispatch {
  const wg = a.wg ?? 128;
  const lanes = a.lanes ?? (isCpuAdapter(gpu) ? 1 : 32);
  if (wg % lanes !== 0) throw new Error(`gemv: workgroup size ${wg} must be a multiple of lanes ${lanes}`);
  const workgroups = ceilDiv(a.n, wg / lanes);
  const gx = Math.min(workgroups, MAX_GROUPS_PER_DIM);
  const gy = ceilDiv(workgroups, gx);
  const onlyLastRow = a.onlyLastRow ?? false;
  if (a.gated && (a.bias || a.accumulate)) throw new Error('gemv: the gated form takes no bias and does not accumulate');
  return makeDispatch(
    gpu,
    'gemv',
    source,
    {
      N: a.n,
      K: a.k,
      ...formatConstants(a.weight, a.k),
      ROW0: a.rowOffset ?? 0,
      N_OUT: a.outWidth ?? a.n,
      HAS_BIAS: a.bias ? 1 : 0,
      ACCUMULATE: a.accumulate ? 1 : 0,
      ONLY_LAST_ROW: onlyLastRow ? 1 : 0,
      GATED: a.gated ? 1 : 0,
      WG: wg,
      LANES: lanes,
    },
    [a.step, a.x, a.weight.data, a.weight.scales ?? placeholder(gpu.device), a.bias ?? placeholder(gpu.device), a.out],
    (rows) => [gx, gy, onlyLastRow ? 1 : ceilDiv(rows, TILE)],
  );
}
