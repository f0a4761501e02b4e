/**
 * Attention over the paged KV cache for one layer: decode (rows = 1) or a prefill tile, with
 * per-KV-head block tables and a valid mask, writing each slot's attention probability (the
 * row the eviction policies read). pagedAttention is the single-workgroup kernel (one workgroup
 * per query row and head, over the whole cache); pagedAttentionDispatches is what a forward pass
 * pushes: for a long cache, decode steps take the split-K path (paged-attention-split, then
 * paged-attention-reduce) and prefill tiles the single-workgroup kernel.
 */
import code from '../../shaders/paged-attention.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import pagedSlot from '../../shaders/paged-slot.wgsl?raw';
import { assert } from '../assert.ts';
import { createBuffer } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { pagedAttentionReduce } from './paged-attention-reduce.ts';
import { pagedAttentionSplit, partialsBytes, splitCount } from './paged-attention-split.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';

const source = [code, stepStruct, pagedSlot].join('\n');

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
  /** The pools hold f16 pairs (rope-append's kvF16). */
  kvF16?: boolean;
  slotPos: Binding; // (numSlots) i32 absolute position, -1 if empty
  blockTable: Binding; // (kvHeads, maxPages) u32 physical page per logical page: this layer's slice
  headSlots: Binding; // (kvHeads) u32 logical slots to scan: this layer's slice
  out: Binding; // (rows, heads, headDim)
  probs: Binding; // (rows, heads, maxPages * pageSize) probability per logical slot
  /** (rows, kvHeads) u32 physical slot of each row's K/V (this layer's): where probe rows' keys sit (step.wgsl); needed only for steps with probe rows. */
  slotMap?: Binding;
  /** Threads per workgroup, a power of two (benchmarks sweep it); default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

/** The most rows one probe block may have (paged-attention.wgsl's MAX_PROBE). */
export const MAX_PROBE_BLOCK = 64;

export function pagedAttention(gpu: Gpu, a: PagedAttentionArgs): Dispatch {
  const wg = a.wg ?? reductionWorkgroup(gpu, 64);
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
    MAX_PROBE: MAX_PROBE_BLOCK,
  };
  const buffers = [a.step, a.q, a.kPool, a.vPool, a.slotPos, a.blockTable, a.headSlots, a.out, a.probs, a.slotMap ?? a.headSlots /* never read without probe rows */];
  return makeDispatch(gpu, 'paged-attention', source, constants, buffers, (rows) => [a.heads, rows, 1]);
}

/** Logical slots per split on the decode path unless a caller says otherwise. */
export const DEFAULT_SPLIT = 256;

/**
 * The split for a cache of maxSlots logical slots per head: DEFAULT_SPLIT once the cache holds
 * more than 4 splits (a real model's default 4K context: 16 per head, 32K: 128), so heads x splits
 * workgroups fill a GPU while each still amortises its reductions; 0 (the single-workgroup
 * kernel) for caches up to 1024 slots, where one workgroup per head is short anyway and the
 * second dispatch and the splits past a short sequence cost more than they bring (on SwiftShader
 * most of all), or when headDim is no multiple of 4 (the split kernels read K/V in quads).
 * The bound also keeps the bundled model (1024 slots) on the single-workgroup kernel: the GPU victim
 * chooser's (policies/gpu-chooser.ts) crystal-lite decisions sit on a near-tie of the hit threshold that some summation orders flip
 * (the split path, and this kernel at wg 128); at wg 64 (GPUs) and 4 (CPU adapters) the GPU
 * engine decides as the f64 reference does.
 */
export function defaultSplit(headDim: number, maxSlots: number): number {
  return headDim % 4 === 0 && maxSlots > 4 * DEFAULT_SPLIT ? DEFAULT_SPLIT : 0;
}

/** Bytes of the partials the split path needs (16 when it is not used): what `partials` must hold. */
export function attentionPartialsBytes(heads: number, headDim: number, maxSlots: number, split = defaultSplit(headDim, maxSlots)): number {
  return split === 0 ? 16 : partialsBytes(heads, headDim, Math.ceil(maxSlots / split));
}

/** How a forward pass runs its attention (benchmarks and tests force a split; default: defaultSplit()). */
export type AttentionOptions = Pick<PagedAttentionDecodeArgs, 'split' | 'subgroups'>;

export interface PagedAttentionDecodeArgs extends PagedAttentionArgs {
  /** Logical slots per split for decode steps, a power of two; 0: the single-workgroup kernel; default defaultSplit(). */
  split?: number;
  /** The split kernel's subgroup variant (default: where the device has the feature; false for benchmarks). */
  subgroups?: boolean;
  /** (heads, splits, 4 + headDim) f32 scratch of the split path (attentionPartialsBytes); made here if absent, living as long as the dispatches. */
  partials?: Binding;
  /** Slots of probs each reduce workgroup normalises (default 1024). */
  reduceChunk?: number;
}

/**
 * One layer's attention as a list of dispatches, for steps of any number of rows. With a split,
 * a decode step (rows = 1) runs the split pass and the reduce, and a prefill tile the
 * single-workgroup kernel, as does any step with probe rows; each dispatch does nothing for the
 * steps that are not its own.
 * The split count is fixed here from maxPages * pageSize, since a plan is recorded once: splits
 * past a head's headSlots find no slot and count for nothing.
 */
export function pagedAttentionDispatches(gpu: Gpu, a: PagedAttentionDecodeArgs): Dispatch[] {
  const maxSlots = a.maxPages * a.pageSize;
  const split = a.split ?? defaultSplit(a.headDim, maxSlots);
  if (split === 0) return [pagedAttention(gpu, a)];
  const partials = a.partials ?? createBuffer(gpu.device, 'paged-attention partials', partialsBytes(a.heads, a.headDim, splitCount(a.maxPages, a.pageSize, split)));
  const tile = pagedAttention(gpu, a);
  return [
    { ...tile, grid: (rows, probe) => (rows > 1 || probe ? tile.grid(rows) : [0, 0, 0]) }, // probe rows need it: it alone reads their own keys
    pagedAttentionSplit(gpu, { ...a, split, partials }),
    pagedAttentionReduce(gpu, { ...a, split, partials, chunk: a.reduceChunk, wg: undefined }),
  ];
}
