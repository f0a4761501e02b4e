/** RMSNorm over rows; also Qwen3's per-head q/k norm (rowsPerToken = heads, dim = headDim). */
import code from '../../shaders/rmsnorm.wgsl?raw';
import treeSum from '../../shaders/workgroup-tree-sum.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Dispatch } from '../gpu/kernel.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';

const source = [code, treeSum].join('\n');

export interface RmsnormArgs {
  dim: number;
  eps: number;
  /** Rows normalised per token: 1 for the hidden state, the head count for q/k norm. */
  rowsPerToken: number;
  x: GPUBuffer; // (tokens, rowsPerToken, dim)
  weight: GPUBuffer; // (dim)
  out: GPUBuffer; // (tokens, rowsPerToken, dim)
  /** Threads per row's workgroup, a power of two; default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function rmsnorm(gpu: Gpu, a: RmsnormArgs): Dispatch {
  return makeDispatch(gpu, 'rmsnorm', source, { DIM: a.dim, EPS: a.eps, WG: a.wg ?? reductionWorkgroup(gpu, 64) }, [a.x, a.weight, a.out], (tokens) => [
    tokens * a.rowsPerToken,
    1,
    1,
  ]);
}
