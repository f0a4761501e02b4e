/**
 * Eviction scores that depend on a head's other entries, for every full KV head of one layer:
 * snapkv-d's window sum average-pooled over neighbouring positions, or r-kv's importance minus
 * key redundancy. Written into the score buffer, where select-victim's score rule reads them.
 */
import code from '../../shaders/policy-score.wgsl?raw';
import pagedSlot from '../../shaders/paged-slot.wgsl?raw';
import positionRank from '../../shaders/position-rank.wgsl?raw';
import { assert } from '../assert.ts';
import type { Gpu } from '../gpu/device.ts';
import { makeDispatch, type Binding, type Dispatch } from '../gpu/kernel.ts';
import { ruleOverrides, type KernelRule } from './eviction-rules.ts';
import { reductionWorkgroup } from '../gpu/workgroup.ts';
import { maskWords } from './position-rank.ts';

const source = [code, pagedSlot, positionRank].join('\n');

export interface PolicyScoreArgs {
  /** The branch (policy-score.wgsl RULE_*) and its constants (POOL, the pooling kernel; r-kv's LAMBDA, THRESHOLD): the policy's gpu.rescore. */
  rule: KernelRule;
  /** Queries kept per slot in history (the policy's historyWindow). */
  window: number;
  headDim: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  slotPos: Binding; // (numSlots) i32 absolute position, -1 if empty
  blockTable: Binding; // (kvHeads, maxPages) u32: this layer's slice
  headSlots: Binding; // (kvHeads) u32 logical slots to scan: this layer's slice
  history: Binding; // (numSlots, window) f32 the last queries' attention, ring by position
  kPool: Binding; // (numSlots, headDim) keys after RoPE (read by r-kv), f32 or f16 pairs
  kvF16?: boolean;
  limits: Binding; // (kvHeads) u32 entries each head may hold
  counts: Binding; // (kvHeads) u32 entries each head holds: only full heads are scored
  score: Binding; // (numSlots) f32 eviction scores, written for the full heads' entries
  /** Positions the context holds: every entry's position is below it. */
  positions: number;
  rankScratch: Binding; // (kvHeads, rankScratchWords(positions)) u32 scratch: position-rank.wgsl's
  order: Binding; // (numSlots) u32 scratch: each full head's entries listed by rank
  /** Threads per workgroup; default 64 (4 on a CPU adapter: gpu/workgroup.ts). */
  wg?: number;
}

export function policyScore(gpu: Gpu, a: PolicyScoreArgs): Dispatch {
  const pool = a.rule.constants?.POOL ?? 0;
  assert(a.window >= 1 && pool >= 1, `policy-score needs window >= 1 and POOL >= 1 (got ${a.window}, ${pool})`);
  const constants = {
    KV_HEADS: a.kvHeads,
    PAGE_SIZE: a.pageSize,
    MAX_PAGES: a.maxPages,
    ...ruleOverrides('policy-score', code, a.rule),
    WINDOW: a.window,
    HEAD_DIM: a.headDim,
    KV_F16: a.kvF16 ? 1 : 0,
    MASK_WORDS: maskWords(a.positions),
    WG: a.wg ?? reductionWorkgroup(gpu, 64),
  };
  const buffers = [a.slotPos, a.blockTable, a.headSlots, a.history, a.kPool, a.limits, a.counts, a.score, a.rankScratch, a.order];
  return makeDispatch(gpu, 'policy-score', source, constants, buffers, () => [a.kvHeads, 1, 1]);
}
