/** SwiGLU: silu(gate) * up over the fused gate_up projection's output. */
import code from '../../shaders/silu-mul.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

export interface SiluMulArgs {
  intermediate: number;
  gateUp: Binding; // (tokens, 2 * intermediate): gate, then up
  out: Binding; // (tokens, intermediate)
  /** Threads per workgroup (benchmarks sweep it); default 64. */
  wg?: number;
}

export function siluMul(gpu: Gpu, a: SiluMulArgs): Dispatch {
  const wg = a.wg ?? 64;
  return makeDispatch(gpu, 'silu-mul', code, { INTERMEDIATE: a.intermediate, WG: wg }, [a.gateUp, a.out], (rows) => [
    ceilDiv(a.intermediate, wg),
    rows,
    1,
  ]);
}
