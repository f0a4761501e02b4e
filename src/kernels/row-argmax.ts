/** The greedy token after every row of a step's logits (shaders/row-argmax.wgsl): the probe's predictions. */
import code from '../../shaders/row-argmax.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import workgroupArgmax from '../../shaders/workgroup-argmax.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';

const source = [code, stepStruct, workgroupArgmax].join('\n');

export interface RowArgmaxArgs {
  vocab: number;
  step: Binding; // uniform Step: rows
  logits: Binding; // (rows, vocab) f32
  tokens: Binding; // (rows) u32 out
  /** Threads per workgroup, a power of two; default 256 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function rowArgmax(gpu: Gpu, a: RowArgmaxArgs): Dispatch {
  const wg = a.wg ?? reductionWorkgroup(gpu, 256);
  assert((wg & (wg - 1)) === 0, `workgroup size ${wg} is not a power of two`);
  return makeDispatch(gpu, 'row-argmax', source, { VOCAB: a.vocab, WG: wg }, [a.step, a.logits, a.tokens], (rows) => [rows, 1, 1]);
}
