/** Rotary position embedding (rotate-half) in place, from host-built float32 cos/sin tables. */
import code from '../../shaders/rope.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

const source = [code, stepStruct].join('\n');

export interface RopeArgs {
  heads: number;
  headDim: number; // even
  step: Binding; // uniform Step: rows, pos_start
  x: Binding; // (tokens, heads, headDim), rotated in place
  cos: Binding; // (maxPositions, headDim / 2), from ropeTables()
  sin: Binding; // (maxPositions, headDim / 2)
  /** Threads per workgroup (benchmarks sweep it); default 64. */
  wg?: number;
}

export function rope(gpu: Gpu, a: RopeArgs): Dispatch {
  if (a.headDim % 2 !== 0) throw new Error(`rope: headDim ${a.headDim} must be even`);
  const wg = a.wg ?? 64;
  const pairs = (a.heads * a.headDim) / 2;
  return makeDispatch(
    gpu,
    'rope',
    source,
    { HEADS: a.heads, HEAD_DIM: a.headDim, WG: wg },
    [a.step, a.x, a.cos, a.sin],
    (rows) => [ceilDiv(pairs, wg), rows, 1],
  );
}
