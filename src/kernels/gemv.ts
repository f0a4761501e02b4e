/**
 * x · Wᵀ (+ bias) over the step's rows, for every Linear layer and lm_head. Decode is one row;
 * prefill runs the prompt in tiles of rows, each weight element loaded once per 8 rows.
 */
import code from '../../shaders/gemv.wgsl?raw';
import { createBuffer } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

const TILE = 8; // rows per workgroup, as in the shader
const MAX_GROUPS_PER_DIM = 65535; // the WebGPU default limit

export interface GemvArgs {
  n: number; // outputs
  k: number; // inputs
  x: Binding; // (rows, k); with onlyLastRow only row rows - 1 is read
  weight: Binding; // (n, k), Hugging Face Linear layout
  bias?: Binding; // (n)
  out: Binding; // (rows, n); (1, n) with onlyLastRow
  step: Binding; // uniform Step: rows
  /** out += x · Wᵀ: adds into the residual stream. */
  accumulate?: boolean;
  /** Only the last row of x, written to row 0 of out (lm_head while decoding). */
  onlyLastRow?: boolean;
  /** Threads per workgroup, a multiple of lanes (benchmarks sweep it); default 128. */
  wg?: number;
  /**
   * Threads cooperating on one output: 32 (coalesced weight reads, for GPUs) or 1 (one thread
   * per output, no barriers, ~10x faster on SwiftShader). Default: 1 on a CPU adapter, else 32.
   */
  lanes?: 1 | 32;
}

/** SwiftShader runs each invocation on a CPU thread: barriers and workgroup memory only cost there. */
export const isCpuAdapter = (gpu: Gpu): boolean => /swiftshader/i.test(gpu.adapterInfo);

/** Bound where a Linear has no bias: the shader must still see a buffer at that binding. */
const placeholders = new WeakMap<GPUDevice, GPUBuffer>();
function noBias(device: GPUDevice): GPUBuffer {
  let b = placeholders.get(device);
  if (!b) {
    b = createBuffer(device, 'gemv no-bias placeholder', 16);
    placeholders.set(device, b);
  }
  return b;
}

export function gemv(gpu: Gpu, a: GemvArgs): Dispatch {
  const wg = a.wg ?? 128;
  const lanes = a.lanes ?? (isCpuAdapter(gpu) ? 1 : 32);
  if (wg % lanes !== 0) throw new Error(`gemv: workgroup size ${wg} must be a multiple of lanes ${lanes}`);
  const groups = ceilDiv(a.n, wg / lanes);
  const gx = Math.min(groups, MAX_GROUPS_PER_DIM);
  const gy = ceilDiv(groups, gx);
  const onlyLastRow = a.onlyLastRow ?? false;
  return makeDispatch(
    gpu,
    'gemv',
    code,
    {
      N: a.n,
      K: a.k,
      HAS_BIAS: a.bias ? 1 : 0,
      ACCUMULATE: a.accumulate ? 1 : 0,
      ONLY_LAST_ROW: onlyLastRow ? 1 : 0,
      WG: wg,
      LANES: lanes,
    },
    [a.step, a.x, a.weight, a.bias ?? noBias(gpu.device), a.out],
    (rows) => [gx, gy, onlyLastRow ? 1 : ceilDiv(rows, TILE)],
  );
}
