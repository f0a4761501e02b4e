/**
 * Pass 1 of split-K decode attention (flash-decoding): for a step of one row, one workgroup per
 * (query head, split of `split` logical slots) writes its slots' scores into probs and its
 * (max, sum of exponentials, weighted V sum) into the partials; paged-attention-reduce combines
 * them. K and V are read four values at a time (f32 or f16 pools). With subgroups, each subgroup
 * takes whole slots and its lanes split the head dimension (subgroupAdd ends each dot product).
 */
import code from '../../shaders/paged-attention-split.wgsl?raw';
import kvF16 from '../../shaders/paged-attention-kv-f16.wgsl?raw';
import kvF32 from '../../shaders/paged-attention-kv-f32.wgsl?raw';
import pagedSlot from '../../shaders/paged-slot.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import subgroupReductions from '../../shaders/paged-attention-split-subgroups.wgsl?raw';
import workgroupReductions from '../../shaders/paged-attention-split-workgroup.wgsl?raw';
import workgroupFold from '../../shaders/workgroup-fold.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { ceilDiv, makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { isWholeBuffer } from '../gpu/platform.ts';

export interface PagedAttentionSplitArgs {
  heads: number;
  kvHeads: number;
  headDim: number; // a multiple of 4
  pageSize: number;
  /** Pages per head in the block table; probs rows hold maxPages * pageSize slots. */
  maxPages: number;
  scale: number;
  /** Logical slots per workgroup, a power of two; splitCount() workgroups per head. */
  split: number;
  step: Binding; // uniform Step {rows, pos_start, _, _}
  q: Binding; // (1, heads, headDim), RoPE applied
  kPool: Binding; // (numSlots, headDim), RoPE applied
  vPool: Binding; // (numSlots, headDim)
  /** The pools hold f16 pairs (rope-append's kvF16). */
  kvF16?: boolean;
  slotPos: Binding; // (numSlots) i32 absolute position, -1 if empty
  blockTable: Binding; // (kvHeads, maxPages) u32 physical page per logical page: this layer's slice
  headSlots: Binding; // (kvHeads) u32 logical slots to scan: this layer's slice
  probs: Binding; // (1, heads, maxPages * pageSize) f32: the scores (NO_SCORE where invalid), which the reduce normalises
  partials: Binding; // (heads, splitCount, 4 + headDim) f32: (m, l, 0, 0), then o, per split
  /** Threads per workgroup, a power of two; default 64. */
  wg?: number;
  /** The subgroup variant (default: where the device has the feature). */
  subgroups?: boolean;
}

/** Workgroups per head for a cache of maxPages pages per head. */
export function splitCount(maxPages: number, pageSize: number, split: number): number {
  return ceilDiv(maxPages * pageSize, split);
}

/** Bytes of the partials buffer: per (head, split) a vec4 (m, l, 0, 0) and headDim floats of o. */
export function partialsBytes(heads: number, headDim: number, splits: number): number {
  return heads * splits * (4 + headDim) * 4;
}

export function bindingBytes(b: Binding): number {
  return isWholeBuffer(b) ? b.size : (b.size ?? b.buffer.size - (b.offset ?? 0));
}

export function pagedAttentionSplit(gpu: Gpu, a: PagedAttentionSplitArgs): Dispatch {
  const wg = a.wg ?? 64;
  const subgroups = a.subgroups ?? gpu.hasSubgroups;
  const splits = splitCount(a.maxPages, a.pageSize, a.split);
  assert(a.heads % a.kvHeads === 0, `heads ${a.heads} is not a multiple of kvHeads ${a.kvHeads}`);
  assert(a.headDim % 4 === 0, `split attention reads K/V in quads: headDim ${a.headDim} is not a multiple of 4`);
  assert((wg & (wg - 1)) === 0, `workgroup size ${wg} is not a power of two`);
  assert(a.split > 0 && (a.split & (a.split - 1)) === 0, `split ${a.split} is not a power of two`);
  assert(!subgroups || gpu.hasSubgroups, 'the subgroup variant needs a device with the subgroups feature');
  assert(bindingBytes(a.partials) >= partialsBytes(a.heads, a.headDim, splits), `partials hold fewer than ${splits} splits of ${a.heads} heads`);
  const workgroupBytes = a.headDim * 4 + a.split * 8 + wg * 24;
  const limit = gpu.device.limits.maxComputeWorkgroupStorageSize;
  assert(workgroupBytes <= limit, `split ${a.split} with workgroup ${wg} needs ${workgroupBytes} bytes of workgroup memory (limit ${limit})`);
  const constants = {
    HEADS: a.heads,
    KV_HEADS: a.kvHeads,
    HEAD_DIM: a.headDim,
    PAGE_SIZE: a.pageSize,
    MAX_PAGES: a.maxPages,
    SPLIT: a.split,
    NSPLITS: splits,
    SCALE: a.scale,
    WG: wg,
  };
  // The subgroup file opens with its `enable`, so the reductions come first (WGSL declarations are order-free).
  const reductions = subgroups ? [subgroupReductions] : [workgroupReductions, workgroupFold];
  const source = [...reductions, code, a.kvF16 ? kvF16 : kvF32, stepStruct, pagedSlot].join('\n');
  const label = `paged-attention-split${a.kvF16 ? ' f16' : ''}${subgroups ? ' subgroups' : ''}`;
  const buffers = [a.step, a.q, a.kPool, a.vPool, a.slotPos, a.blockTable, a.headSlots, a.probs, a.partials];
  // Decode only: a step of several rows, or with probe rows, dispatches nothing here (paged-attention takes it).
  return makeDispatch(gpu, label, source, constants, buffers, (rows, probe) => (rows === 1 && !probe ? [a.heads, splits, 1] : [0, 0, 0]));
}
