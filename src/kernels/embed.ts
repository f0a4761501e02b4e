/** Token embedding lookup: one row of the (vocab, hidden) table per token, in any weight format. */
import code from '../../shaders/embed.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { formatConstants, placeholder, type GemvWeight } from './gemv.ts';

export interface EmbedArgs {
  hidden: number;
  tokens: Binding; // (tokens) u32
  table: GemvWeight; // (vocab, hidden), a Linear's storage: a tied lm_head reads the same buffers
  out: Binding; // (tokens, hidden)
  /** Threads per workgroup (benchmarks sweep it); default 64. */
  wg?: number;
  /** A row range of a larger table, bound from its first row: only tokens in it are written. */
  rows?: { first: number; count: number };
}

export function embed(gpu: Gpu, a: EmbedArgs): Dispatch {
  const wg = a.wg ?? 64;
  const range: Record<string, number> = a.rows ? { ROW0: a.rows.first, ROWS: a.rows.count } : {};
  const constants = { HIDDEN: a.hidden, ...formatConstants(a.table, a.hidden), ...range, WG: wg };
  const buffers = [a.tokens, a.table.data, a.table.scales ?? placeholder(gpu.device), a.out];
  return makeDispatch(gpu, 'embed', code, constants, buffers, (rows) => [
    ceilDiv(a.hidden, wg),
    rows,
    1,
  ]);
}
