/**
 * Each KV head's load for crystal's budget re-division: its counted entries' decayed CRF, summed,
 * for every layer in one dispatch. Read back only on re-division steps.
 */
import code from '../../shaders/head-load.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { CRYSTAL_DEFAULTS } from '../policies/crystal-lite.ts';

export interface HeadLoadArgs {
  /** Decay per step (default CRYSTAL_DEFAULTS.lambda). */
  lambda?: number;
  layers: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  tableStride: number; // u32s between layers in blockTables
  slotsStride: number; // u32s between layers in headSlots
  params: Binding; // uniform {protect_below, t, _, _} u32 (select-victim's)
  slotPos: Binding; // (numSlots) i32 absolute position, -1 if empty
  blockTables: Binding; // (layers, tableStride) u32: every layer
  headSlots: Binding; // (layers, slotsStride) u32: every layer
  score: Binding; // (numSlots) f32 CRF at the last hit
  stamp: Binding; // (numSlots) f32 step of the last hit
  loads: Binding; // (layers, kvHeads) f32 out
  /** Threads per workgroup; default 64. */
  wg?: number;
}

export function headLoad(gpu: Gpu, a: HeadLoadArgs): Dispatch {
  const constants = {
    KV_HEADS: a.kvHeads,
    PAGE_SIZE: a.pageSize,
    MAX_PAGES: a.maxPages,
    TABLE_STRIDE: a.tableStride,
    SLOTS_STRIDE: a.slotsStride,
    LAMBDA: a.lambda ?? CRYSTAL_DEFAULTS.lambda,
    WG: a.wg ?? 64,
  };
  const buffers = [a.params, a.slotPos, a.blockTables, a.headSlots, a.score, a.stamp, a.loads];
  return makeDispatch(gpu, 'head-load', code, constants, buffers, () => [a.kvHeads, a.layers, 1]);
}
