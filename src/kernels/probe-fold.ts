/**
 * The answer-first probe's fold on the GPU (shaders/probe-fold.wgsl; policies/probe.ts): after a
 * layer's attention, each entry's probe score becomes max(decay * score, what the step's probe
 * rows paid it), block by block; entries written this step start at 0.
 */
import code from '../../shaders/probe-fold.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import pagedSlot from '../../shaders/paged-slot.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

const source = [code, stepStruct, pagedSlot].join('\n');

export interface ProbeFoldArgs {
  heads: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  decay: number;
  step: Binding; // uniform Step: rows, pos_start, real_rows, answer_rows
  probs: Binding; // (rows, heads, maxPages * pageSize) this layer's attention per logical slot
  slotPos: Binding; // (numSlots) i32 absolute position, -1 if empty
  blockTable: Binding; // (kvHeads, maxPages) u32: this layer's slice
  headSlots: Binding; // (kvHeads) u32: this layer's slice
  probe: Binding; // (numSlots) f32 the probe score, read and written
  /** Threads per workgroup; default 64. */
  wg?: number;
}

export function probeFold(gpu: Gpu, a: ProbeFoldArgs): Dispatch {
  assert(a.heads % a.kvHeads === 0, `heads ${a.heads} is not a multiple of kvHeads ${a.kvHeads}`);
  const wg = a.wg ?? 64;
  const constants = { HEADS: a.heads, KV_HEADS: a.kvHeads, PAGE_SIZE: a.pageSize, MAX_PAGES: a.maxPages, DECAY: a.decay, WG: wg };
  const buffers = [a.step, a.probs, a.slotPos, a.blockTable, a.headSlots, a.probe];
  return makeDispatch(gpu, 'probe-fold', source, constants, buffers, () => [a.kvHeads, Math.ceil((a.maxPages * a.pageSize) / wg), 1]);
}
