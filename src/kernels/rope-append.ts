/**
 * The fused q/k/v projection's output made ready for attention in one dispatch: Qwen3's per-head
 * q/k norm, RoPE on q and k, and the K/V append into the paged pool at host-resolved slots.
 */
import code from '../../shaders/rope-append.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import treeSum from '../../shaders/workgroup-tree-sum.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';
import { placeholder } from './gemv.ts';

const source = [code, stepStruct, treeSum].join('\n');

export interface RopeAppendArgs {
  heads: number;
  kvHeads: number;
  headDim: number; // even
  step: Binding; // uniform Step: rows, pos_start
  qkv: Binding; // (tokens, heads + 2 * kvHeads, headDim) the fused projection: q heads, k heads, v heads
  /** Qwen3's q/k RMSNorm weights, (headDim) each, and their epsilon; absent: no norm. */
  qkNorm?: { q: Binding; k: Binding; eps: number };
  cos: Binding; // (maxPositions, headDim / 2), from ropeTables()
  sin: Binding; // (maxPositions, headDim / 2)
  q: Binding; // (tokens, heads, headDim) out: the rotated queries
  slotMap: Binding; // (tokens, kvHeads) u32 physical slot = page * pageSize + offset; >= numSlots: skip
  kPool: Binding; // (numSlots, headDim) f32, or (numSlots, headDim / 2) f16 pairs when kvF16
  vPool: Binding; // as kPool
  /** The pools hold f16 (16-bit models): half the KV memory. */
  kvF16?: boolean;
  slotPos: Binding; // (numSlots) i32 absolute position, -1 = empty
  /** Threads per head's workgroup, a power of two; default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function ropeAppend(gpu: Gpu, a: RopeAppendArgs): Dispatch {
  if (a.headDim % 2 !== 0) throw new Error(`rope-append: headDim ${a.headDim} must be even`);
  const constants = {
    HEADS: a.heads,
    KV_HEADS: a.kvHeads,
    HEAD_DIM: a.headDim,
    QK_NORM: a.qkNorm ? 1 : 0,
    EPS: a.qkNorm?.eps ?? 1e-6,
    KV_F16: a.kvF16 ? 1 : 0,
    WG: a.wg ?? reductionWorkgroup(gpu, 64),
  };
  const none = placeholder(gpu.device);
  const buffers = [a.step, a.qkv, a.qkNorm?.q ?? none, a.qkNorm?.k ?? none, a.cos, a.sin, a.q, a.slotMap, a.kPool, a.vPool, a.slotPos];
  return makeDispatch(gpu, 'rope-append', source, constants, buffers, (rows) => [a.heads + a.kvHeads, rows, 1]);
}
