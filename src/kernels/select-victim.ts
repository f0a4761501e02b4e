/**
 * Chooses the entries each full KV head of a layer evicts: the lowest-scoring candidate outside
 * the sinks, the recent window and the protected prompt, ties to the lowest logical slot (select.ts);
 * with cap > 1, the lowest few at once (r-kv's bursts); with the layer rule, the position with the
 * lowest mean score over the layer's heads, the same in every head (tova).
 */
import code from '../../shaders/select-victim.wgsl?raw';
import pagedSlot from '../../shaders/paged-slot.wgsl?raw';
import workgroupArgmin from '../../shaders/workgroup-argmin.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { ruleOverrides, type KernelRule } from './eviction-rules.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';

const source = [code, pagedSlot, workgroupArgmin].join('\n');

export interface SelectVictimArgs {
  /** The branch (select-victim.wgsl RULE_*) and its constants: the policy's gpu.victim. */
  rule: KernelRule;
  sinks: number;
  recent: number;
  pageSize: number;
  maxPages: number;
  kvHeads: number;
  /** Victims per head: 1, or the most a burst drops (default 1). */
  cap?: number;
  /** cap 1: scores within this relative distance of the lowest tie with it (the policy's nearTie; default 0). */
  nearTie?: number;
  params: Binding; // uniform {protect_below, t, burst, _} u32
  slotPos: Binding; // (numSlots) i32 absolute position, -1 if empty
  blockTable: Binding; // (kvHeads, maxPages) u32: this layer's slice
  headSlots: Binding; // (kvHeads) u32 logical slots to scan: this layer's slice
  score: Binding; // (numSlots) f32 policy score
  stamp: Binding; // (numSlots) f32 crystal's step of the last hit
  limits: Binding; // (kvHeads) u32 entries each head may hold
  counts: Binding; // (kvHeads) u32 entries each head holds
  victims: Binding; // (kvHeads, cap) u32 logical slots to evict, in order; NOT_FULL ends a list, NO_CANDIDATE
  /** (numSlots) f32 the answer-first probe's score, for the probe rule. */
  probe?: Binding;
  /** Threads per workgroup; default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function selectVictim(gpu: Gpu, a: SelectVictimArgs): Dispatch {
  assert(!a.nearTie || (a.cap ?? 1) === 1, 'select-victim: near-ties only with one victim per head');
  const constants = {
    KV_HEADS: a.kvHeads,
    PAGE_SIZE: a.pageSize,
    MAX_PAGES: a.maxPages,
    ...ruleOverrides('select-victim', code, a.rule),
    SINKS: a.sinks,
    RECENT: a.recent,
    CAP: a.cap ?? 1,
    NEAR_TIE: a.nearTie ?? 0,
    WG: a.wg ?? reductionWorkgroup(gpu, 64),
  };
  const buffers = [a.params, a.slotPos, a.blockTable, a.headSlots, a.score, a.stamp, a.limits, a.counts, a.victims, a.probe ?? a.score /* read only by the probe rule */];
  return makeDispatch(gpu, 'select-victim', source, constants, buffers, () => [a.kvHeads, 1, 1]);
}
