/**
 * LaProx's value-norm factor of the entries written this step: the mean over the KV group's query
 * heads of ||W_O^h v||, what each value contributes through the output projection. Written into
 * the stamp buffer once, when the entry is written.
 */
import code from '../../shaders/value-norm.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';

const source = [code, stepStruct].join('\n');

export interface ValueNormArgs {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  step: Binding; // uniform Step: rows
  v: Binding; // (rows, kvHeads, headDim) f32 the step's values, or rows laid out as vLayout says
  /** Where the values sit in a wider row, e.g. the forward's fused qkv (heads + 2 kvHeads, headDim): its width and the column of KV head 0. */
  vLayout?: { rowWidth: number; firstColumn: number };
  o: Binding; // (hidden, heads * headDim) f32 this layer's output projection
  slotMap: Binding; // (rows, kvHeads) u32 physical slot of each new entry; >= numSlots: skip
  stamp: Binding; // (numSlots) f32 the value norm, written at the new entries' slots
  /** Threads per workgroup; default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function valueNorm(gpu: Gpu, a: ValueNormArgs): Dispatch {
  assert(a.heads % a.kvHeads === 0, `heads ${a.heads} is not a multiple of kvHeads ${a.kvHeads}`);
  const layout = a.vLayout ?? { rowWidth: a.kvHeads * a.headDim, firstColumn: 0 };
  const constants = {
    HIDDEN: a.hidden,
    HEADS: a.heads,
    KV_HEADS: a.kvHeads,
    HEAD_DIM: a.headDim,
    V_ROW: layout.rowWidth,
    V_COL: layout.firstColumn,
    WG: a.wg ?? reductionWorkgroup(gpu, 64),
  };
  return makeDispatch(gpu, 'value-norm', source, constants, [a.step, a.v, a.o, a.slotMap, a.stamp], (rows) => [a.kvHeads, rows, 1]);
}
