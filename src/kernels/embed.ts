/** Token embedding lookup: one row of the (vocab, hidden) table per token of the step. */
import code from '../../shaders/embed.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

export interface EmbedArgs {
  hidden: number;
  tokens: Binding; // (tokens) u32
  table: Binding; // (vocab, hidden)
  out: Binding; // (tokens, hidden)
  /** Threads per workgroup (benchmarks sweep it); default 64. */
  wg?: number;
}

export function embed(gpu: Gpu, a: EmbedArgs): Dispatch {
  const wg = a.wg ?? 64;
  return makeDispatch(gpu, 'embed', code, { HIDDEN: a.hidden, WG: wg }, [a.tokens, a.table, a.out], (rows) => [
    ceilDiv(a.hidden, wg),
    rows,
    1,
  ]);
}
