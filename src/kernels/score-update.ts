/**
 * Folds a step's attention (the probs rows paged-attention writes) into the eviction policy's
 * per-slot state for every KV head of one layer: admits the step's new entries, then applies
 * h2o's accumulate, tova's replace, crystal-lite's LRFU hit rule or the window ring (the last W
 * queries' attention: snapkv-d, r-kv, laprox) row by row.
 */
import code from '../../shaders/score-update.wgsl?raw';
import stepStruct from '../../shaders/step.wgsl?raw';
import pagedSlot from '../../shaders/paged-slot.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { ruleOverrides, type KernelRule } from './eviction-rules.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';

const source = [code, stepStruct, pagedSlot].join('\n');

export interface ScoreUpdateArgs {
  /** The branch (score-update.wgsl RULE_*) and its constants: the policy's gpu.update. */
  rule: KernelRule;
  /** window: queries kept per slot (the policy's historyWindow; default 1). */
  window?: number;
  heads: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  step: Binding; // uniform Step {rows, pos_start, _, _}
  probs: Binding; // (rows, heads, maxPages * pageSize) f32 probability per logical slot
  slotPos: Binding; // (numSlots) i32 absolute position, -1 if empty
  blockTable: Binding; // (kvHeads, maxPages) u32: this layer's slice
  headSlots: Binding; // (kvHeads) u32 logical slots to scan: this layer's slice
  score: Binding; // (numSlots) f32 policy score, updated in place
  stamp: Binding; // (numSlots) f32 crystal's step of the last hit, updated in place
  history: Binding; // (numSlots, window) f32 window ring by query position % window; any buffer otherwise
  /** Threads per workgroup; default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function scoreUpdate(gpu: Gpu, a: ScoreUpdateArgs): Dispatch {
  assert(a.heads % a.kvHeads === 0, `heads ${a.heads} is not a multiple of kvHeads ${a.kvHeads}`);
  assert((a.window ?? 1) >= 1, 'score-update needs window >= 1');
  const constants = {
    HEADS: a.heads,
    KV_HEADS: a.kvHeads,
    PAGE_SIZE: a.pageSize,
    MAX_PAGES: a.maxPages,
    ...ruleOverrides('score-update', code, a.rule),
    WINDOW: a.window ?? 1,
    WG: a.wg ?? reductionWorkgroup(gpu, 64),
  };
  const buffers = [a.step, a.probs, a.slotPos, a.blockTable, a.headSlots, a.score, a.stamp, a.history];
  return makeDispatch(gpu, 'score-update', source, constants, buffers, () => [a.kvHeads, 1, 1]);
}
