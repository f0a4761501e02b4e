/**
 * Attention over the paged KV cache for one layer: decode (rows = 1) or a prefill tile, with
 * per-KV-head block tables and a valid mask, writing each slot's attention probability (the
 * row the eviction policies read).
 */
import code from '../../shaders/paged-attention.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

export interface PagedAttentionArgs {
  heads: number;
  kvHeads: number;
  headDim: number;
  pageSize: number;
  /** Pages per head in the block table; probs rows hold maxPages * pageSize slots. */
  maxPages: number;
  scale: number;
  step: Binding; // uniform Step {rows, pos_start, _, _}
  q: Binding; // (rows, heads, headDim), RoPE applied
  kPool: Binding; // (numSlots, headDim), all layers and heads, RoPE applied
  vPool: Binding; // (numSlots, headDim)
  /** The pools hold f16 pairs (kv-append's kvF16). */
  kvF16?: boolean;
  slotPos: Binding; // (numSlots) i32 absolute position, -1 if empty
  blockTable: Binding; // (kvHeads, maxPages) u32 physical page per logical page: this layer's slice
  headSlots: Binding; // (kvHeads) u32 logical slots to scan: this layer's slice
  out: Binding; // (rows, heads, headDim)
  probs: Binding; // (rows, heads, maxPages * pageSize) probability per logical slot
  /** Threads per workgroup, a power of two (benchmarks sweep it); default 64. */
  wg?: number;
}

export function pagedAttention(gpu: Gpu, a: PagedAttentionArgs): Dispatch {
  const wg = a.wg ?? 64;
  assert(a.heads % a.kvHeads === 0, `heads ${a.heads} is not a multiple of kvHeads ${a.kvHeads}`);
  assert((wg & (wg - 1)) === 0, `workgroup size ${wg} is not a power of two`);
  const constants = {
    HEADS: a.heads,
    KV_HEADS: a.kvHeads,
    HEAD_DIM: a.headDim,
    KV_F16: a.kvF16 ? 1 : 0,
    PAGE_SIZE: a.pageSize,
    MAX_PAGES: a.maxPages,
    SCALE: a.scale,
    WG: wg,
  };
  const buffers = [a.step, a.q, a.kPool, a.vPool, a.slotPos, a.blockTable, a.headSlots, a.out, a.probs];
  return makeDispatch(gpu, 'paged-attention', code, constants, buffers, (rows) => [a.heads, rows, 1]);
}
