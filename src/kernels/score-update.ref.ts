/**
 * CPU reference of score-update.wgsl: the policy code the CPU engine runs (admit, then observe per
 * row with the group-mean attention, as src/policies/cpu-chooser.ts observe does), in f64, on the GPU's paged
 * layout. The caller passes the rule as a StateFold (an EvictionPolicy fits: h2o, tova,
 * crystal-lite; snapkv-d for the window rule, whose ring r-kv and laprox keep too).
 */
import { pagedSlot } from './paged-slot.ref.ts';
import { resetSlot, type HeadSlots, type PolicyState } from './policy-state.ts';

/** How a policy folds attention into its state (the EvictionPolicy members score-update runs). */
export interface StateFold {
  /** Attention values kept per slot (0: none); the default admit clears this many. */
  historyWindow: number;
  /** A new entry written at `position`. Default: zero state (resetSlot). */
  admit?(state: PolicyState, slot: number, position: number, valueNorm: number): void;
  /** One query's group-mean attention to the head's valid entries: attention[i] belongs to head.slots[i]. */
  observe?(state: PolicyState, head: HeadSlots, attention: Float64Array, position: number): void;
}

export interface ScoreUpdateRefArgs {
  fold: StateFold;
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
  history?: ArrayLike<number>; // (numSlots, fold.historyWindow): window rule
}

/** The state after the step: (numSlots) score and stamp, (numSlots, window) history. */
export function scoreUpdateRef(a: ScoreUpdateRefArgs): { score: Float64Array; stamp: Float64Array; history: Float64Array } {
  const { heads, kvHeads, pageSize, maxPages, rows, posStart, probs, slotPos, blockTable } = a;
  const { fold } = a;
  const state: PolicyState = {
    score: Float64Array.from(a.score),
    stamp: Float64Array.from(a.stamp),
    history: Float64Array.from(a.history ?? [0]),
    probe: new Float64Array(a.score.length),
  };
  const maxSlots = maxPages * pageSize;
  const group = heads / kvHeads;
  const physical = (g: number, s: number) => pagedSlot(blockTable, g * maxPages, pageSize, s);

  // Admit the step's new entries (the CPU chooser's admit, by slot).
  for (let g = 0; g < kvHeads; g++) {
    for (let s = 0; s < Math.min(a.headSlots[g], maxSlots); s++) {
      const slot = physical(g, s);
      const pos = slotPos[slot];
      if (pos < posStart || pos >= posStart + rows) continue;
      if (fold.admit) fold.admit(state, slot, pos, 0);
      else resetSlot(state, slot, fold.historyWindow);
    }
  }

  // Observe each row (the CPU chooser's observe).
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
      fold.observe?.(state, head, attention, position);
    }
  }
  return { score: state.score, stamp: state.stamp, history: state.history };
}
