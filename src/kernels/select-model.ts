/**
 * LaProx's model-wide choice: the entries the whole cache drops, each the candidate with the
 * lowest pooled score divided by its layer's mean, re-pooled after every choice (the CPU
 * chooser's fromModel, policies/cpu-chooser.ts). One workgroup; the victims come back as (head, logical slot) pairs.
 */
import code from '../../shaders/select-model.wgsl?raw';
import pagedSlot from '../../shaders/paged-slot.wgsl?raw';
import workgroupArgmin from '../../shaders/workgroup-argmin.wgsl?raw';
import positionRank from '../../shaders/position-rank.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import type { KernelRule } from './eviction-rules.ts';
import type { ModelTables } from './model-tables.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';
import { maskWords } from './position-rank.ts';

const source = [code, pagedSlot, workgroupArgmin, positionRank].join('\n');

export interface SelectModelArgs extends ModelTables<Binding> {
  sinks: number;
  recent: number;
  window: number; // queries kept per slot in history
  /** The model-wide rule, 'model' (the kernel has one), and its constants (POOL, the pooling kernel): the policy's gpu.victim. */
  rule: KernelRule;
  /** Most victims one dispatch chooses. */
  cap: number;
  params: Binding; // uniform {protect_below, t, burst, evict} u32: evict = entries to drop
  history: Binding; // (numSlots, window) f32 the last queries' attention
  stamp: Binding; // (numSlots) f32 the value norm
  score: Binding; // (numSlots) f32 scratch
  victims: Binding; // (cap, 2) u32 (layer * kvHeads + head, logical slot), NOT_FULL ends the list
  order: Binding; // (numSlots) u32 scratch: each head's entries listed by rank
  /** Positions the context holds: every entry's position is below it. */
  positions: number;
  rankScratch: Binding; // (rankScratchWords(positions)) u32 scratch: position-rank.wgsl's, one head at a time
  /** Threads per workgroup; default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function selectModel(gpu: Gpu, a: SelectModelArgs): Dispatch {
  assert(a.rule.rule === 'model' && (a.rule.constants?.POOL ?? 0) >= 1, `select-model runs the rule 'model' with POOL >= 1 (got ${JSON.stringify(a.rule)})`);
  const constants = {
    LAYERS: a.layers,
    KV_HEADS: a.kvHeads,
    PAGE_SIZE: a.pageSize,
    MAX_PAGES: a.maxPages,
    TABLE_STRIDE: a.tableStride,
    SLOTS_STRIDE: a.slotsStride,
    SINKS: a.sinks,
    RECENT: a.recent,
    WINDOW: a.window,
    ...a.rule.constants,
    CAP: a.cap,
    MASK_WORDS: maskWords(a.positions),
    WG: a.wg ?? reductionWorkgroup(gpu, 64),
  };
  const buffers = [a.params, a.slotPos, a.blockTable, a.headSlots, a.history, a.stamp, a.score, a.victims, a.order, a.rankScratch];
  return makeDispatch(gpu, 'select-model', source, constants, buffers, () => [1, 1, 1]);
}
