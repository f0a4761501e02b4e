/**
 * Pass 2 of split-K decode attention (flash-decoding): combines paged-attention-split's partials
 * into each head's output, and normalises the scores it left in probs into the probability each
 * slot got (exactly what the single-workgroup kernel writes, so the eviction policies see no
 * difference). One workgroup per (query head, chunk of `chunk` slots).
 */
import code from '../../shaders/paged-attention-reduce.wgsl?raw';
import workgroupFold from '../../shaders/workgroup-fold.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { bindingBytes, partialsBytes, splitCount } from './paged-attention-split.ts';

export interface PagedAttentionReduceArgs {
  heads: number;
  kvHeads: number;
  headDim: number; // a multiple of 4
  pageSize: number;
  maxPages: number;
  /** paged-attention-split's split. */
  split: number;
  headSlots: Binding; // (kvHeads) u32 logical slots in use: this layer's slice
  partials: Binding; // (heads, splitCount, 4 + headDim) f32 from paged-attention-split
  out: Binding; // (1, heads, headDim)
  probs: Binding; // (1, heads, maxPages * pageSize): scores in, probabilities out
  /** Slots of probs each workgroup normalises (default 1024). */
  chunk?: number;
  /** Threads per workgroup, a power of two; default 64. */
  wg?: number;
}

export function pagedAttentionReduce(gpu: Gpu, a: PagedAttentionReduceArgs): Dispatch {
  const splits = splitCount(a.maxPages, a.pageSize, a.split);
  const chunk = a.chunk ?? 1024;
  const chunks = ceilDiv(a.maxPages * a.pageSize, chunk);
  assert(a.heads % a.kvHeads === 0, `heads ${a.heads} is not a multiple of kvHeads ${a.kvHeads}`);
  assert(a.headDim % 4 === 0, `headDim ${a.headDim} is not a multiple of 4`);
  assert(bindingBytes(a.partials) >= partialsBytes(a.heads, a.headDim, splits), `partials hold fewer than ${splits} splits of ${a.heads} heads`);
  const constants = {
    HEADS: a.heads,
    KV_HEADS: a.kvHeads,
    HEAD_DIM: a.headDim,
    PAGE_SIZE: a.pageSize,
    MAX_PAGES: a.maxPages,
    NSPLITS: splits,
    CHUNK: chunk,
    WG: a.wg ?? 64,
  };
  const buffers = [a.headSlots, a.partials, a.out, a.probs];
  return makeDispatch(gpu, 'paged-attention-reduce', `${code}\n${workgroupFold}`, constants, buffers, (rows, probe) => (rows === 1 && !probe ? [a.heads, chunks, 1] : [0, 0, 0]));
}
