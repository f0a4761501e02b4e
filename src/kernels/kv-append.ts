/** Stores this step's K/V rows into the paged pool at host-resolved slots and marks their positions. */
import code from '../../shaders/kv-append.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

const source = [code, stepStruct].join('\n');

export interface KvAppendArgs {
  kvHeads: number;
  headDim: number;
  step: Binding; // uniform Step: rows, pos_start
  k: Binding; // (tokens, kvHeads, headDim), after RoPE
  v: Binding; // (tokens, kvHeads, headDim)
  slotMap: Binding; // (tokens, kvHeads) u32 physical slot = page * pageSize + offset; >= numSlots: skip
  kPool: Binding; // (numSlots, headDim) f32, or (numSlots, headDim / 2) f16 pairs when kvF16
  vPool: Binding; // as kPool
  /** The pools hold f16 (16-bit models): half the KV memory. */
  kvF16?: boolean;
  slotPos: Binding; // (numSlots) i32 absolute position, -1 = empty
  /** Threads per workgroup (benchmarks sweep it); default 64. */
  wg?: number;
}

export function kvAppend(gpu: Gpu, a: KvAppendArgs): Dispatch {
  const wg = a.wg ?? 64;
  return makeDispatch(
    gpu,
    'kv-append',
    source,
    { KV_HEADS: a.kvHeads, HEAD_DIM: a.headDim, KV_F16: a.kvF16 ? 1 : 0, WG: wg },
    [a.step, a.k, a.v, a.slotMap, a.kPool, a.vPool, a.slotPos],
    (rows) => [ceilDiv(a.kvHeads * a.headDim, wg), rows, 1],
  );
}
