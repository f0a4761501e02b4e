/**
 * Each KV head's load for crystal's budget re-division: how many of its counted entries are live
 * (hit or written within the last R steps), for every layer in one dispatch. Read back only on
 * re-division steps.
 */
import code from '../../shaders/head-load.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';

export interface HeadLoadArgs {
  /** R: entries whose last hit is at least t - window are live. */
  window: number;
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
  stamp: Binding; // (numSlots) f32 step of the last hit
  loads: Binding; // (layers, kvHeads) f32 out: live entries
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
    WINDOW: a.window,
    WG: a.wg ?? 64,
  };
  const buffers = [a.params, a.slotPos, a.blockTables, a.headSlots, a.stamp, a.loads];
  return makeDispatch(gpu, 'head-load', code, constants, buffers, () => [a.kvHeads, a.layers, 1]);
}
