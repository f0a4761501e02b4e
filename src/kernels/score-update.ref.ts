/**
 * CPU reference of score-update.wgsl: the very policy code the CPU engine runs (admit, then
 * observe per row with the group-mean attention, as src/policies/evictor.ts does), in f64, on the
 * GPU's paged layout. The window rule is snapkv-d's ring (r-kv and laprox keep the same one).
 */
import { createCrystalLite } from '../policies/crystal-lite.ts';
import { createH2o } from '../policies/h2o.ts';
import { resetSlot, type EvictionPolicy, type HeadSlots, type PolicyState } from '../policies/policy.ts';
import { createSnapkvD } from '../policies/snapkv-d.ts';
import { createTova } from '../policies/tova.ts';
import type { ScoreRule } from './score-update.ts';

export interface ScoreUpdateRefArgs {
  policy: ScoreRule;
  lambda?: number;
  p?: number;
  window?: number;
  heads: number;
  kvHeads: number;
  pageSize: number;
  maxPages: number;
  rows: number;
  posStart: number;
  probs: ArrayLike<number>; // (rows, heads, maxPages * pageSize)
  slotPos: ArrayLike<number>; // (numSlots)
  blockTable: ArrayLike<number>; // (kvHeads, maxPages): this layer's slice
  headSlots: ArrayLike<number>; // (kvHeads): this layer's slice
  score: ArrayLike<number>; // (numSlots) state before the step
  stamp: ArrayLike<number>; // (numSlots)
  history?: ArrayLike<number>; // (numSlots, window): window rule
}

function policyFor(a: ScoreUpdateRefArgs): EvictionPolicy {
  if (a.policy === 'h2o') return createH2o();
  if (a.policy === 'tova') return createTova();
  if (a.policy === 'window') return createSnapkvD({ window: a.window });
  return createCrystalLite({ ...(a.lambda !== undefined && { lambda: a.lambda }), ...(a.p !== undefined && { p: a.p }) });
}

/** The state after the step: (numSlots) score and stamp, (numSlots, window) history. */
export function scoreUpdateRef(a: ScoreUpdateRefArgs): { score: Float64Array; stamp: Float64Array; history: Float64Array } {
  const { heads, kvHeads, pageSize, maxPages, rows, posStart, probs, slotPos, blockTable } = a;
  const policy = policyFor(a);
  const state: PolicyState = {
    score: Float64Array.from(a.score),
    stamp: Float64Array.from(a.stamp),
    history: Float64Array.from(a.history ?? [0]),
  };
  const maxSlots = maxPages * pageSize;
  const group = heads / kvHeads;
  const physical = (g: number, s: number) => blockTable[g * maxPages + Math.floor(s / pageSize)] * pageSize + (s % pageSize);

  // Admit the step's new entries (the evictor's admit, by slot).
  for (let g = 0; g < kvHeads; g++) {
    for (let s = 0; s < Math.min(a.headSlots[g], maxSlots); s++) {
      const slot = physical(g, s);
      const pos = slotPos[slot];
      if (pos < posStart || pos >= posStart + rows) continue;
      if (policy.admit) policy.admit(state, slot, pos, 0);
      else resetSlot(state, slot, policy.historyWindow);
    }
  }

  // Observe each row (the evictor's observe).
  for (let g = 0; g < kvHeads; g++) {
    const n = Math.min(a.headSlots[g], maxSlots);
    const slots: number[] = [];
    const positions: number[] = [];
    const logical: number[] = [];
    for (let s = 0; s < n; s++) {
      const slot = physical(g, s);
      if (slotPos[slot] < 0) continue;
      slots.push(slot);
      positions.push(slotPos[slot]);
      logical.push(s);
    }
    const head: HeadSlots = {
      layer: 0,
      kvHead: g,
      slots: Int32Array.from(slots),
      positions: Int32Array.from(positions),
      length: slots.length,
    };
    const attention = new Float64Array(head.length);
    for (let t = 0; t < rows; t++) {
      const position = posStart + t;
      for (let i = 0; i < head.length; i++) {
        let sum = 0;
        for (let q = 0; q < group; q++) sum += probs[(t * heads + g * group + q) * maxSlots + logical[i]];
        attention[i] = positions[i] <= position ? sum / group : 0;
      }
      policy.observe?.(state, head, attention, position);
    }
  }
  return { score: state.score, stamp: state.stamp, history: state.history };
}
