/**
 * Each KV head's load for crystal's budget re-division: how many of its counted entries are live
 * (hit or written within the last R steps), for every layer in one dispatch. Read back only on
 * re-division steps.
 */
import code from '../../shaders/head-load.wgsl?raw';
import pagedSlot from '../../shaders/paged-slot.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { ModelTables } from './model-tables.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';

const source = [code, pagedSlot].join('\n');

export interface HeadLoadArgs extends ModelTables<Binding> {
  /** R: entries whose last hit is at least t - window are live. */
  window: number;
  params: Binding; // uniform {protect_below, t, _, _} u32 (select-victim's)
  stamp: Binding; // (numSlots) f32 step of the last hit
  loads: Binding; // (layers, kvHeads) f32 out: live entries
  /** Threads per workgroup; default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
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
    WG: a.wg ?? reductionWorkgroup(gpu, 64),
  };
  const buffers = [a.params, a.slotPos, a.blockTable, a.headSlots, a.stamp, a.loads];
  return makeDispatch(gpu, 'head-load', source, constants, buffers, () => [a.kvHeads, a.layers, 1]);
}
